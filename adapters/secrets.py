"""Settings blocks whose secrets may be written inline or as `<name>_file`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict


class SecretSource(BaseModel):
    """A strict settings block; `read_secret("bot_token")` reads `bot_token` or the file `bot_token_file`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, hide_input_in_errors=True)

    def read_secret(self, name: str) -> str | None:
        """The secret `name`, inline or from its file (trailing newline stripped), read when used."""
        inline = getattr(self, name, None)
        if inline:
            return str(inline)
        path = getattr(self, f"{name}_file", None)
        return Path(path).read_text(encoding="utf-8").strip() if path else None
