"""The provider contract: one call, messages in, a raw answer (or ProviderError) out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Protocol

from autofill.llm.errors import ProviderError
from autofill.llm.types import LLMRequest, RawAnswer


class Provider(Protocol):
    name: str

    def call(self, request: LLMRequest, model: str, timeout: float) -> RawAnswer:
        """One HTTP call with no retry of its own (retries live in autofill.llm.retry)."""
        ...


def parse_retry_after(headers: dict[str, str]) -> float | None:
    """Seconds to wait, from ``retry-after-ms`` (OpenAI) or ``retry-after`` (seconds)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(float(value) * scale, 0.0)
            except ValueError:
                continue  # an HTTP date: rare from these providers; fall back to backoff
    return None


@contextmanager
def sdk_errors(sdk: ModuleType, provider: str, timeout: float) -> Iterator[None]:
    """Turn an official SDK's exceptions into ProviderError. The OpenAI and Anthropic SDKs are
    generated from one template and name their exceptions alike, so ``sdk`` is either module."""
    try:
        yield
    except sdk.APIStatusError as exc:
        headers = {k.lower(): v for k, v in exc.response.headers.items()}
        raise ProviderError.from_status(
            provider, exc.status_code, _detail(exc), parse_retry_after(headers)
        ) from None
    except sdk.APITimeoutError:
        raise ProviderError(
            f"{provider} did not answer within {timeout:.0f} s", retryable=True
        ) from None
    except sdk.APIConnectionError as exc:
        raise ProviderError(f"{provider} connection failed: {exc}", retryable=True) from None
    except (ValueError, sdk.APIResponseValidationError) as exc:
        # A truncated or garbled body: the provider's fault, worth another try.
        raise ProviderError(
            f"{provider} sent a malformed response: {exc}", retryable=True
        ) from None


def _detail(exc: Any) -> str:
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    return str(exc.message)
