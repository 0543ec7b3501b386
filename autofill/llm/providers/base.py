"""The provider contract: one call, messages in, a raw answer (or ProviderError) out."""

from __future__ import annotations

from typing import Protocol

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
