"""The `platforms.email` block: the SMTP server Dutybot sends pages through."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from adapters.secrets import SecretSource


class EmailPlatform(SecretSource):
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"  # none: only for a relay on the same host
    username: str | None = None
    password: str | None = None
    password_file: str | None = None
    from_address: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    timeout_seconds: float = Field(default=20.0, gt=0, le=120)

    @model_validator(mode="after")
    def _login(self) -> EmailPlatform:
        if (self.password or self.password_file) and not self.username:
            raise ValueError("a password needs a username")
        return self
