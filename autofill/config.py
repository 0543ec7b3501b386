"""Settings read from the environment (prefix ``AUTOFILL_``) or a ``.env`` file.

With no configuration at all the service runs embedded: a SQLite file under the data directory
and no Redis, so a newcomer's first command works on a bare machine.

This is the one place that reads the environment: everything below asks the current settings
(``get_settings``), which a process, the CLI or a test may replace (``use_settings``). The
providers' own variables keep the names their SDKs document (``OPENAI_API_KEY``,
``OPENAI_BASE_URL``, ``ANTHROPIC_API_KEY``, ``ANTHROPIC_BASE_URL``).
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

TokenParam = Literal["max_tokens", "max_completion_tokens", "both"]
_COMPAT_VARIABLE = re.compile(
    r"^AUTOFILL_COMPAT_([A-Z0-9_]+?)_(BASE_URL|API_KEY|MODEL|TOKEN_PARAM)$"
)


class CompatServer(BaseModel):
    """An OpenAI-compatible server (vLLM, Ollama, llama.cpp), from
    ``AUTOFILL_COMPAT_<NAME>_BASE_URL``, ``_API_KEY`` (optional), ``_MODEL`` (optional) and
    ``_TOKEN_PARAM`` (optional: max_tokens, max_completion_tokens or both)."""

    model_config = ConfigDict(frozen=True)

    base_url: str | None = None
    api_key: SecretStr | None = None
    model: str | None = None
    token_param: TokenParam | None = None

    @field_validator("token_param", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


def compat_name(name: str) -> str:
    """The ``<NAME>`` of ``compat:<name>``'s variables: upper-cased, non-alphanumerics as ``_``
    (``compat:llama-3`` → ``LLAMA_3``)."""
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def compat_servers(environ: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The ``AUTOFILL_COMPAT_<NAME>_*`` variables, grouped by ``<NAME>``."""
    servers: dict[str, dict[str, str]] = {}
    for variable, value in environ.items():
        match = _COMPAT_VARIABLE.match(variable.upper())
        if match and value:
            servers.setdefault(match.group(1), {})[match.group(2).lower()] = value
    return servers


def _sdk_variable(name: str) -> AliasChoices:
    # The SDK's documented variable, or the field's own name when built in code.
    return AliasChoices(name, name.lower())


class Settings(BaseSettings):
    # An empty variable is an unset one: compose files and shells pass ``VAR=`` for "not given"
    # (issue 22), and "" is never a valid URL, key or number here.
    model_config = SettingsConfigDict(
        env_prefix="AUTOFILL_", env_file=".env", extra="ignore", env_ignore_empty=True
    )

    data_dir: Path = Field(
        default=Path(".autofill"), description="Where the embedded SQLite file lives"
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite when unset")
    redis_url: str | None = Field(
        default=None,
        description="Redis: the Celery broker unless AUTOFILL_BROKER_URL names another, and the "
        "shared store of rate limits and provider pauses",
    )
    broker_url: str | None = Field(
        default=None,
        description="Celery broker: redis://… or amqp://… (RabbitMQ, quorum queues); "
        "AUTOFILL_REDIS_URL when unset",
    )
    broker_delivery_limit: int = Field(
        default=5,
        ge=1,
        description="RabbitMQ: deliveries of one message before the queue drops it "
        "(x-delivery-limit); the outbox's sweeper sends a dropped fill again",
    )

    @field_validator("broker_url")
    @classmethod
    def _broker_scheme(cls, value: str | None) -> str | None:
        if value is not None and broker_kind(value) is None:
            raise ValueError(
                "use redis://, rediss://, amqp:// or amqps:// (RabbitMQ), or memory:// "
                "(one process)"
            )
        return value

    @model_validator(mode="after")
    def _limits_have_a_shared_store(self) -> Settings:
        # Processes that share work through RabbitMQ share their rate limits through Redis or,
        # without it, PostgreSQL (autofill.db.limits); a SQLite file is neither.
        if (
            broker_kind(self.broker_url) == "amqp"
            and not self.redis_url
            and not (self.database_url or "").startswith("postgresql")
        ):
            raise ValueError(
                "AUTOFILL_BROKER_URL is RabbitMQ and AUTOFILL_REDIS_URL is unset, so rate limits "
                "and provider pauses are shared through the database: set AUTOFILL_DATABASE_URL "
                "to PostgreSQL (or AUTOFILL_REDIS_URL to a Redis)"
            )
        return self

    def broker(self) -> str | None:
        """The Celery broker's URL; None in embedded mode (an in-memory queue in one process)."""
        return self.broker_url or self.redis_url

    def limits_database_url(self) -> str | None:
        """The database, when it is the shared store of rate limits and provider pauses: the
        processes share work through a broker that is not Redis and no Redis is configured
        (autofill.db.limits). None: Redis (when set) or each process's memory."""
        if self.redis_url or self.broker() is None:
            return None
        url = self.resolved_database_url()
        return url if url.startswith("postgresql") else None

    default_model: str = Field(
        default="sim:sim-1", description="Model for AI columns that name none"
    )
    max_request_bytes: int = Field(default=1_048_576, ge=1024, description="Larger bodies get 413")
    log_level: str = Field(
        default="INFO", description="Log level: DEBUG, INFO, WARNING, ERROR (logs are JSON lines)"
    )
    rate_limits: str | None = Field(
        default=None, description='JSON: {"openai": {"requests": "500/minute", "tokens": "..."}}'
    )
    api_rate_limit: str = Field(
        default="1200/minute",
        description="Requests per API token in any moving window (e.g. 1200/minute; empty: off)",
        # The default is known to parse (tests/autofill/test_config.py): checking it would
        # import `limits` in every process and command that reads the settings.
        validate_default=False,
    )

    @field_validator("api_rate_limit")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        if value.strip():
            from limits import parse as parse_rate_limit

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
    bulk_group_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Bulk fills sent as one message, claimed and recorded together (1: each "
        "alone); people's edits always go alone",
    )
    bulk_record_linger_s: float = Field(
        default=0.5,
        ge=0,
        le=10,
        description="How long a worker holds a bulk answer to record it with others in one "
        "transaction (autofill.fills.recorder): a backfill's cells appear up to this much "
        "later, for a fraction of the CPU; people's edits are recorded at once",
    )
    # Short: bulk fills go out in groups now, so the dispatcher fills the queue in a blink, and
    # whatever waits there is served in order — a backfill that starts first would have the
    # whole queue ahead of a second workspace's (two backfills' shares 0.79 with 1,000 against
    # 0.90 with 300, python -m bench.fairness). 300 still holds seconds of work at 200 fills/s.
    max_queued: int = Field(
        default=300,
        ge=1,
        description="Dispatched fills not yet started, at most; the rest wait in the outbox",
    )
    interactive_rate_share: float = Field(
        default=0.2,
        ge=0,
        lt=1,
        description="Share of each provider rate limit that bulk fills may not use, kept for "
        "people's edits",
    )
    max_in_fill_wait_s: float = Field(
        default=5.0,
        ge=0,
        description="Longest retry-after a fill sleeps through holding its worker; a provider "
        "asking for longer gets it as the fill's due time in the outbox",
    )
    max_fill_attempts: int = Field(
        default=5,
        ge=1,
        description="Starts of one fill (a worker died or its lease passed each time) before "
        "its cell says it gave up, instead of trying forever",
    )
    interactive_reserve: float = Field(
        default=0.2,
        ge=0,
        lt=1,
        description="Share of max_queued kept free of bulk fills, for people's edits",
    )
    bulk_min_share: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Share of each dispatch that bulk fills get while they wait (no starvation)",
    )
    max_in_flight_per_workspace: int | None = Field(
        default=None,
        ge=1,
        description="Bulk fills one workspace may have queued or running while another "
        "workspace's wait (unset: its fair share only)",
    )
    redispatch_after_s: float = Field(
        default=300.0,
        gt=0,
        description="A fill dispatched but not started after this long is sent again",
    )
    sweep_interval_s: float = Field(default=15.0, gt=0, description="How often the sweeper runs")
    chore_lease_s: float = Field(
        default=30.0,
        gt=0,
        description="How long the dispatcher running the sweep holds its lease without a "
        "heartbeat (renewed every third of it); another dispatcher takes the sweep over within "
        "this and a third more after its holder dies",
    )
    event_retention_s: float = Field(
        default=86_400.0, gt=0, description="How long cell events stay resumable"
    )
    worker_concurrency: int = Field(
        default=100, ge=1, le=1000, description="Fills in flight per worker process (threads)"
    )

    fill_lease_margin_s: float = Field(
        default=30.0, gt=0, description="A started fill's lease beyond its timeout"
    )

    # Economy fills (autofill.fills.economy): bulk runs through the providers' batch APIs.
    batch_max_requests: int = Field(
        default=5_000,
        ge=1,
        description="Requests per provider batch at most (also within the provider's own limit):"
        " smaller batches end and are recorded sooner, larger ones are fewer to track",
    )
    batch_max_queued_tokens: int | None = Field(
        default=None,
        ge=1,
        description="Prompt tokens of one model's batches at the provider at once (OpenAI's "
        "per-model enqueued-token limit for your usage tier); unset: no cap",
    )
    batch_claim_chunk: int = Field(
        default=200,
        ge=1,
        description="Cells claimed into a batch per transaction: each holds their rows' locks",
    )
    batch_check_first_s: float = Field(
        default=15.0, gt=0, description="From a batch's submission to its first status check"
    )
    batch_check_max_s: float = Field(
        default=300.0, gt=0, description="Longest wait between two status checks of a batch"
    )
    batch_lease_s: float = Field(
        default=120.0,
        gt=0,
        description="A batch step's hold on its batch (send, look, record): another process "
        "takes the step over after this long if the one holding it died",
    )
    batch_interval_s: float = Field(
        default=2.0, gt=0, description="How often the batcher looks for economy fills and checks"
    )

    web_session_idle_s: float = Field(
        default=7200,
        gt=0,
        description="A web page sign-in ends after this long without a request",
    )
    web_session_max_s: float = Field(
        default=43200,
        gt=0,
        description="A web page sign-in ends this long after it began, however used",
    )

    operator_workspaces: str = Field(
        default="",
        description="Comma-separated workspace ids whose members operate this server: only "
        "they see the eval reports on the web page (server-wide, not a workspace's own)",
    )

    @property
    def operators(self) -> frozenset[str]:
        return frozenset(w.strip() for w in self.operator_workspaces.split(",") if w.strip())

    # Providers (autofill.llm.registry builds its routes from these).
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=_sdk_variable("OPENAI_API_KEY")
    )
    openai_base_url: str | None = Field(
        default=None, validation_alias=_sdk_variable("OPENAI_BASE_URL")
    )
    anthropic_api_key: SecretStr | None = Field(
        default=None, validation_alias=_sdk_variable("ANTHROPIC_API_KEY")
    )
    anthropic_base_url: str | None = Field(
        default=None, validation_alias=_sdk_variable("ANTHROPIC_BASE_URL")
    )
    sim_url: str | None = Field(
        default=None,
        description="The LLM simulator's OpenAI base URL for sim: models "
        "(default http://127.0.0.1:8089/v1)",
    )
    compat: dict[str, CompatServer] = Field(
        default_factory=dict,
        description="OpenAI-compatible servers by <NAME>, from AUTOFILL_COMPAT_<NAME>_*",
    )

    @model_validator(mode="before")
    @classmethod
    def _compat_from_environment(cls, values: Any) -> Any:
        # Their variables are named per server, which no declared field can spell.
        if isinstance(values, dict) and "compat" not in values:
            values = {**values, "compat": compat_servers(os.environ)}
        return values

    model_catalogue: Path | None = Field(
        default=None, description="An operator's model catalogue file, merged over the shipped one"
    )
    prompts_dir: Path | None = Field(
        default=None, description="Prompt files; prompts/ beside the package when unset"
    )
    http_timeout: int = Field(
        default=60, ge=1, description="gunicorn's worker timeout for `autofill serve` (s)"
    )
    tiktoken_cache_dir: Path | None = Field(
        default=None,
        validation_alias=_sdk_variable("TIKTOKEN_CACHE_DIR"),
        description="Where the shipped encodings are unpacked for tiktoken "
        "(default $XDG_CACHE_HOME/autofill/tiktoken)",
    )
    eval_cases_dir: Path | None = Field(
        default=None, description="Eval cases; evals/cases beside the package when unset"
    )
    eval_cache_dir: Path | None = Field(
        default=None, description="Cached eval answers; <data dir>/evals/cache when unset"
    )

    def resolved_tiktoken_cache_dir(self) -> Path:
        if self.tiktoken_cache_dir:
            return self.tiktoken_cache_dir
        cache_home = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(cache_home) / "autofill" / "tiktoken"

    def secret_values(self) -> list[str]:
        """Every provider key this process may send, and any other ``*_API_KEY`` in its
        environment: the values autofill.redaction removes from what people can read."""
        keys = [
            key.get_secret_value()
            for key in (
                self.openai_api_key,
                self.anthropic_api_key,
                *(server.api_key for server in self.compat.values()),
            )
            if key is not None
        ]
        keys += [value for name, value in os.environ.items() if name.endswith("_API_KEY")]
        return keys

    @property
    def fill_lease_s(self) -> float:
        """How long a started fill owns its cell: its whole budget of calls, plus a margin.
        Past it, the sweeper takes the fill to be lost with its worker and sends it again."""
        return self.fill_timeout_s + self.fill_lease_margin_s

    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="A worker's or dispatcher's Prometheus /metrics port (off when unset; the "
        "API serves /metrics on its own port)",
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="The address the metrics port listens on"
    )
    metrics_workspace_labels: bool = Field(
        default=True,
        description="Label metrics by workspace (turn off for servers with many workspaces)",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="When set, the API's /metrics asks for it as a bearer token",
    )

    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs the web page's session cookie; a file in the data dir when unset",
    )
    secure_cookies: bool = Field(
        default=False,
        description="Send the session cookie over HTTPS only, always (it already is on any "
        "request that came over HTTPS)",
    )
    trusted_proxies: int = Field(
        default=0,
        ge=0,
        le=8,
        description="How many reverse proxies in front of the API set X-Forwarded-For/-Proto/"
        "-Host (0: trust no such header); behind one, HTTPS there makes the cookie Secure",
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
        except OSError as exc:  # not a directory, not ours to read: said, not a traceback
            raise SettingsError(self._unwritable(exc.strerror or str(exc))) from None
        self.writable_data_dir()
        key = secrets.token_urlsafe(48)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return path.read_text(encoding="ascii").strip()
        with os.fdopen(descriptor, "w", encoding="ascii") as out:
            out.write(key)
        return key

    def writable_data_dir(self) -> Path:
        """The data directory, made if missing; a clear SettingsError when this user cannot
        write there (a container's non-root user in a root-owned working directory, issue
        22), instead of a PermissionError traceback."""
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            writable = os.access(self.data_dir, os.W_OK | os.X_OK)
        except OSError as exc:
            raise SettingsError(self._unwritable(exc.strerror or str(exc))) from None
        if not writable:
            raise SettingsError(self._unwritable("permission denied"))
        return self.data_dir

    def _unwritable(self, reason: str) -> str:
        return (
            f"AUTOFILL_DATA_DIR: cannot write to {self.data_dir.resolve()} ({reason}); set "
            "AUTOFILL_DATA_DIR to a directory this user owns (or AUTOFILL_SECRET_KEY and "
            "AUTOFILL_DATABASE_URL, which need none)"
        )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.writable_data_dir()
        return f"sqlite:///{(self.data_dir / 'autofill.db').resolve()}"


BrokerKind = Literal["redis", "amqp", "memory"]
_BROKER_SCHEMES: dict[str, BrokerKind] = {
    "redis": "redis",
    "rediss": "redis",
    "amqp": "amqp",
    "amqps": "amqp",
    "pyamqp": "amqp",
    "memory": "memory",
}


def broker_kind(url: str | None) -> BrokerKind | None:
    """Which transport a broker URL names (None: not one we support)."""
    if url is None:
        return "memory"
    return _BROKER_SCHEMES.get(url.split("://", 1)[0].lower()) if "://" in url else None


class SettingsError(ValueError):
    """The environment holds a setting that is not valid; the message names each variable."""


def _variable(loc: tuple[int | str, ...]) -> str:
    if not loc:  # a rule across several settings: its message names them
        return "settings"
    first = str(loc[0])
    if first == "compat" and len(loc) >= 3:
        return f"AUTOFILL_COMPAT_{loc[1]}_{str(loc[2]).upper()}"
    return first if first.isupper() else f"AUTOFILL_{first.upper()}"


# The SDKs read their own variables as well as ours, and take an empty one at its word:
# ``OPENAI_BASE_URL=""`` makes every OpenAI call fail with "Request URL is missing an 'http://'
# or 'https://' protocol" (openai 3.51 lib/_client_auth.py and anthropic 2.10 _client.py use
# the variable whenever it is not None).
SDK_VARIABLE_PREFIXES = ("OPENAI_", "ANTHROPIC_")


def drop_empty_sdk_variables(environ: MutableMapping[str, str] = os.environ) -> list[str]:
    """Remove the providers' variables that are set but empty, so the SDKs fall back to their
    defaults as they do when the variable is unset; returns the names removed."""
    empty = [
        name
        for name, value in environ.items()
        if name.startswith(SDK_VARIABLE_PREFIXES) and not value.strip()
    ]
    for name in empty:
        del environ[name]
    return empty


def read_settings() -> Settings:
    """Settings from the environment; SettingsError says which variables are wrong and why."""
    drop_empty_sdk_variables()
    try:
        return Settings()
    except ValidationError as exc:
        problems = [
            f"{_variable(error['loc'])}: {error['msg']}"
            # A rule across settings gets all of them as its input, keys and passwords too.
            + (f" (got {error.get('input')!r})" if error["loc"] else "")
            for error in exc.errors()
        ]
        raise SettingsError("invalid settings:\n  " + "\n  ".join(problems)) from None


_current: Settings | None = None
_lock = threading.Lock()


def get_settings() -> Settings:
    """The process's settings: read from the environment once, or as installed."""
    global _current
    with _lock:
        if _current is None:
            _current = read_settings()
        return _current


def use_settings(settings: Settings | None) -> Settings | None:
    """Make ``settings`` the process's (None: read the environment again at next use); returns
    the settings it replaces. The CLI and tests install settings here rather than writing
    ``os.environ``."""
    global _current
    with _lock:
        previous, _current = _current, settings
        return previous


def prometheus_multiproc_dir() -> str | None:
    """prometheus_client's own variable, read when asked, not with the settings: `autofill
    serve` sets it for its gunicorn workers after its settings were read (autofill.metrics)."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def otlp_traces_configured() -> bool:
    """Whether the standard OpenTelemetry variables name somewhere to send traces
    (autofill.tracing); the SDK reads them itself once traces are on."""
    return (
        bool(
            os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        )
        and os.environ.get("OTEL_SDK_DISABLED", "").lower() != "true"
    )


def otel_service_name() -> str:
    """``OTEL_SERVICE_NAME``, else ``autofill``: the name traces are filed under."""
    return os.environ.get("OTEL_SERVICE_NAME") or "autofill"
