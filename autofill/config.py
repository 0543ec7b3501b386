"""Settings read from the environment (prefix ``AUTOFILL_``) or a ``.env`` file.

With no configuration at all the service runs embedded: a SQLite file under the data directory
and no Redis, so a newcomer's first command works on a bare machine.
"""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from limits import parse as parse_rate_limit
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTOFILL_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=Path(".autofill"), description="Where the embedded SQLite file lives"
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite when unset")
    redis_url: str | None = Field(default=None, description="Redis for Celery and rate limits")
    default_model: str = Field(
        default="sim:sim-1", description="Model for AI columns that name none"
    )
    max_request_bytes: int = Field(default=1_048_576, ge=1024, description="Larger bodies get 413")
    log_level: str = "INFO"
    rate_limits: str | None = Field(
        default=None, description='JSON: {"openai": {"requests": "500/minute", "tokens": "..."}}'
    )
    api_rate_limit: str = Field(
        default="1200/minute",
        description="Requests per API token in any moving window (e.g. 1200/minute; empty: off)",
    )

    @field_validator("api_rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        if value.strip():
            parse_rate_limit(value)  # ValueError names what is wrong with it
        return value

    fill_timeout_s: float = Field(default=120.0, gt=0, description="Bound on one fill's calls")
    call_timeout_s: float = Field(
        default=60.0, gt=0, description="Bound on one model call; a call over it is retried"
    )
    max_reasks: int = Field(default=2, ge=0, le=5, description="Re-asks after an invalid answer")
    # Change-driven fills (outbox → dispatcher → Celery → worker).
    debounce_s: float = Field(
        default=2.0, ge=0, description="Quiet time after a row's last save before its cells fill"
    )
    dispatch_interval_s: float = Field(
        default=0.2, gt=0, description="How often the dispatcher looks for due fills"
    )
    dispatch_batch: int = Field(default=200, ge=1, le=10_000, description="Fills per dispatch")
    max_queued: int = Field(
        default=1000,
        ge=1,
        description="Dispatched fills not yet started, at most; the rest wait in the outbox",
    )
    redispatch_after_s: float = Field(
        default=300.0,
        gt=0,
        description="A fill dispatched but not started after this long is sent again",
    )
    sweep_interval_s: float = Field(default=15.0, gt=0, description="How often the sweeper runs")
    event_retention_s: float = Field(
        default=86_400.0, gt=0, description="How long cell events stay resumable"
    )
    worker_concurrency: int = Field(
        default=100, ge=1, le=1000, description="Fills in flight per worker process (threads)"
    )

    fill_lease_margin_s: float = Field(
        default=30.0, gt=0, description="A started fill's lease beyond its timeout"
    )

    @property
    def fill_lease_s(self) -> float:
        """How long a started fill owns its cell: its whole budget of calls, plus a margin.
        Past it, the sweeper takes the fill to be lost with its worker and sends it again."""
        return self.fill_timeout_s + self.fill_lease_margin_s

    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs the web page's session cookie; a file in the data dir when unset",
    )
    secure_cookies: bool = Field(
        default=False, description="Send the session cookie over HTTPS only (behind TLS)"
    )

    def resolved_secret_key(self) -> str:
        """The configured key, else one generated once and kept in the data directory (0600),
        so every API process and every restart signs sessions alike."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        try:
            return path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            pass
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(key)
        return key

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.data_dir / 'autofill.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
