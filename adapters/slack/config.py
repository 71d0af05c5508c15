"""The `platforms.slack` block of the config, and Slack's limits as named constants."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from adapters.secrets import SecretSource

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_BUTTON_TEXT = 75
MAX_HEADER_TEXT = 150
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_MODAL_TITLE = 24
MAX_PLACEHOLDER_TEXT = 150  # a select menu's placeholder
MAX_OPTIONS = 100  # options of a static_select
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
SIGNATURE_WINDOW_SECONDS = 300


class SlackPlatform(SecretSource):
    bot_token: str | None = None
    bot_token_file: str | None = None
    signing_secret: str | None = None
    signing_secret_file: str | None = None
    api_url: str = "https://slack.com/api/"
    mode: Literal["http"] = "http"
    # one Web API call may take this long; a hung call is retried later instead of holding the dispatcher
    timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @model_validator(mode="after")
    def _secrets(self) -> SlackPlatform:
        if not (self.bot_token or self.bot_token_file):
            raise ValueError("slack needs bot_token or bot_token_file")
        if not (self.signing_secret or self.signing_secret_file):
            raise ValueError("slack needs signing_secret or signing_secret_file")
        return self
