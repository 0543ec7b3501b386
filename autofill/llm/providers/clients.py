"""SDK clients, created once per process and reused (each holds a connection pool). Both SDKs
run on httpx2; ``DefaultHttpxClient`` keeps their defaults and widens the pool.

The SDKs' own retries are off (``max_retries=0``): retries, backoff and the total time bound are
ours (autofill.llm.retry), so a rate limit shared across processes stays in charge.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import httpx2

if TYPE_CHECKING:
    import anthropic
    import openai

# Model calls are slow and many run at once in one worker process.
_LIMITS = httpx2.Limits(max_connections=512, max_keepalive_connections=256)


@lru_cache(maxsize=32)
def openai_client(base_url: str | None, api_key: str) -> openai.OpenAI:
    # Each SDK is imported by its own client's maker: a process that calls one provider does
    # not hold the other's modules (the anthropic SDK is ~40 MiB; issue 21).
    import openai

    return openai.OpenAI(
        api_key=api_key,
        base_url=base_url,
        max_retries=0,
        http_client=openai.DefaultHttpxClient(
            limits=_LIMITS, timeout=httpx2.Timeout(120.0, connect=10.0)
        ),
    )


@lru_cache(maxsize=32)
def anthropic_client(base_url: str | None, api_key: str) -> anthropic.Anthropic:
    import anthropic

    return anthropic.Anthropic(
        api_key=api_key,
        base_url=base_url,
        max_retries=0,
        http_client=anthropic.DefaultHttpxClient(
            limits=_LIMITS, timeout=httpx2.Timeout(120.0, connect=10.0)
        ),
    )
