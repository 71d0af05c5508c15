"""Slack: Block Kit cards over slack-sdk's AsyncWebClient, callbacks through slack-bolt's AsyncApp."""
