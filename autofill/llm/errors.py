"""Model-call failures.

LLMError
├── ProviderError      the call failed: HTTP status, timeout, dropped or garbled response;
│                      ``retryable`` says whether trying again can help, ``code`` what a
│                      person is told (``quota_exhausted``: the account, not the call)
├── AnswerStopped      the model stopped without a usable answer: cut off at the output
│                      limit, refused, or filtered (``code``); never retried as transient
├── InvalidAnswer      the model answered, but not a value of the column's type
└── FillFailed         gave up: carries the code, last answer, attempts and the usage spent

Codes a cell's ``error_code`` can take from here: provider_error, quota_exhausted,
answer_truncated, refused, content_filtered, invalid_answer.
"""

from __future__ import annotations

from autofill.kinds import ErrorCode
from autofill.llm.types import Usage
from autofill.redaction import redact

RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


class LLMError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProviderError(LLMError):
    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        code: ErrorCode = ErrorCode.PROVIDER_ERROR,
    ) -> None:
        # A provider's error may quote the key it was sent: it never goes further than here.
        super().__init__(redact(message))
        self.code = code
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        # HTTP calls made before giving up (set by the retrier): each may be billed.
        self.calls = 1
        # Set by the retrier when the next wait was too long to sleep in a fill: try again
        # this many seconds from now, from the outbox.
        self.defer_s: float | None = None

    @classmethod
    def from_status(
        cls, provider: str, status: int, detail: str, retry_after: float | None
    ) -> ProviderError:
        return cls(
            f"{provider} answered HTTP {status}: {detail}",
            status=status,
            retryable=status in RETRYABLE_STATUSES or status >= 500,
            retry_after=retry_after,
        )


class AnswerStopped(LLMError):
    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(message)
        self.code = code  # ANSWER_TRUNCATED, REFUSED or CONTENT_FILTERED


class InvalidAnswer(LLMError):
    pass


class FillFailed(LLMError):
    def __init__(
        self,
        message: str,
        *,
        attempts: int,
        usage: Usage,
        last_answer: str | None,
        calls: int = 0,
        code: ErrorCode = ErrorCode.INVALID_ANSWER,
        defer_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        # Not a failure of the cell: the provider asked to come back in this many seconds.
        self.defer_s = defer_s
        self.attempts = attempts  # answers asked for (the first, then re-asks)
        self.calls = calls  # HTTP calls made in all, retries included
        self.usage = usage
        self.last_answer = last_answer
