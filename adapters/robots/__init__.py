"""Webhook-only group robots: they post, cannot receive, and carry signed one-click links instead of buttons."""
