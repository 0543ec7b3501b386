"""structlog set-up shared by the API, the worker and the CLI: JSON lines, or pretty on a TTY.

structlog is imported when the first line is logged, not before: importing it pulls in its
console renderer and rich (about 0.1 s), a fifth of a short CLI command such as `autofill
workspace list` that never logs (issue 21). Modules take their logger from ``get_logger``; a
configuration asked for before structlog is loaded is applied then.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from autofill.redaction import redact_event

_lock = threading.Lock()
_pending: str | None = None  # a level asked for and not yet applied


def configure_logging(level: str = "INFO") -> None:
    global _pending
    # The HTTP client logs every request at INFO: at a hundred fills a second that is a line
    # per model call saying only "200 OK". A fill's own line says more; failures still show.
    for name in ("httpx", "httpx2", "httpcore", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)
    with _lock:
        _pending = level
    if "structlog" in sys.modules:  # already loaded (a service, a test): apply it now
        _apply_pending()


def _apply_pending() -> None:
    # Under the lock to the end: a second thread's first log line must wait for the level to
    # be applied, not go out through structlog's defaults (every level, to stdout) meanwhile —
    # the embedded dispatcher's "chore lease taken" did so, into the demo's table.
    global _pending
    with _lock:
        level, _pending = _pending, None
        if level is None:
            return
        import structlog

        renderer: structlog.typing.Processor = (
            structlog.dev.ConsoleRenderer()
            if sys.stderr.isatty()
            else structlog.processors.JSONRenderer()
        )
        structlog.configure(
            processors=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.format_exc_info,
                redact_event,  # after format_exc_info: tracebacks are redacted too
                renderer,
            ],
            wrapper_class=structlog.make_filtering_bound_logger(
                logging.getLevelName(level.upper())
            ),
            logger_factory=structlog.PrintLoggerFactory(sys.stderr),
            cache_logger_on_first_use=True,
        )


class Logger:
    """A module's structlog logger, made on its first use (``log.info(...)``, ``log.bind``)."""

    __slots__ = ("_logger", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._logger: Any = None

    def __getattr__(self, attribute: str) -> Any:
        logger = self._logger
        if logger is None:
            import structlog

            _apply_pending()
            logger = self._logger = structlog.get_logger(self._name)
        return getattr(logger, attribute)


def get_logger(name: str) -> Logger:
    return Logger(name)
