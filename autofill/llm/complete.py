"""One typed completion, start to finish: the path every fill and every eval takes.

rate limit → provider call (retried on transient failures) → typed validation → on an invalid
answer, a re-ask that shows the model its answer and the error (as instructor does) → the value,
with the usage and cost of every call made on the way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache

from autofill.config import get_settings
from autofill.llm.catalogue import ESTIMATE_FACTOR, catalogue
from autofill.llm.errors import FillFailed, InvalidAnswer, ProviderError
from autofill.llm.ratelimit import RateLimiter, parse_limits
from autofill.llm.registry import Route, route
from autofill.llm.retry import call_with_retries
from autofill.llm.tokenizer import count_tokens
from autofill.llm.typed import parse_answer
from autofill.llm.types import ChatMessage, Completion, LLMRequest, RawAnswer, Usage

REASK = (
    "Your answer {answer} cannot be used: {error}. Answer again with a value that fits, "
    "and nothing else."
)


@lru_cache(maxsize=1)
def shared_limiter() -> RateLimiter:
    settings = get_settings()
    return RateLimiter(parse_limits(settings.rate_limits), settings.redis_url)


@dataclass
class Completer:
    limiter: RateLimiter = field(default_factory=shared_limiter)
    timeout_s: float = field(default_factory=lambda: get_settings().fill_timeout_s)
    max_reasks: int = field(default_factory=lambda: get_settings().max_reasks)
    call_timeout_s: float = field(default_factory=lambda: get_settings().call_timeout_s)

    def complete(self, request: LLMRequest) -> Completion:
        info = catalogue().get(request.model)
        try:
            target = route(request.model)
        except ProviderError as exc:
            raise FillFailed(exc.message, attempts=0, usage=Usage(), last_answer=None) from exc
        started = time.monotonic()
        deadline = time.time() + self.timeout_s
        messages = list(request.messages)
        usage, cost, calls = Usage(), 0.0, 0
        last: RawAnswer | None = None
        for attempt in range(1, self.max_reasks + 2):
            asked = LLMRequest(
                request.model,
                messages,
                request.output,
                request.max_output_tokens,
                request.temperature,
            )
            try:
                last, made = self._call(target, asked, deadline, info.tokenizer)
            except ProviderError as exc:
                raise FillFailed(
                    exc.message,
                    attempts=attempt,
                    usage=usage,
                    last_answer=last.text if last else None,
                    calls=calls + exc.calls,
                ) from exc
            calls += made
            usage += last.usage
            cost += info.cost(
                last.usage.input_tokens,
                last.usage.output_tokens,
                last.usage.cached_tokens,
                last.usage.cache_write_tokens,
            )
            try:
                value, none_reason = parse_answer(request.output, last.text, last.data)
            except InvalidAnswer as exc:
                error = exc.message
                messages = [
                    *messages,
                    ChatMessage("assistant", last.text),
                    ChatMessage("user", REASK.format(answer=_quoted(last.text), error=error)),
                ]
                continue
            return Completion(
                value=value,
                text=last.text,
                usage=usage,
                cost_usd=round(cost, 8),
                latency_s=time.monotonic() - started,
                attempts=attempt,
                calls=calls,
                model=request.model,
                none_reason=none_reason,
            )
        raise FillFailed(
            error,
            attempts=self.max_reasks + 1,
            usage=usage,
            last_answer=last.text if last else None,
            calls=calls,
        )

    def _call(
        self, target: Route, request: LLMRequest, deadline: float, tokenizer: str
    ) -> tuple[RawAnswer, int]:
        # Counting the prompt costs an encode; only a token-per-minute limit needs it.
        counts = self.limiter.counts_tokens(target.limit_key)
        estimate = _estimate_tokens(request, tokenizer) if counts else 0

        def once(timeout: float) -> RawAnswer:
            try:
                self.limiter.acquire(target.limit_key, estimate, deadline)
            except TimeoutError as exc:
                raise ProviderError(str(exc)) from None
            remaining = max(deadline - time.time(), 1.0)
            try:
                answer = target.provider.call(request, target.model, min(timeout, remaining))
            except ProviderError as exc:
                if exc.status == 429:
                    retry_after = {"retry-after": str(exc.retry_after)} if exc.retry_after else {}
                    self.limiter.observe(target.limit_key, retry_after, status=429)
                raise
            self.limiter.observe(target.limit_key, answer.headers)
            return answer

        return call_with_retries(
            once,
            total_seconds=max(deadline - time.time(), 0.0),
            per_call_timeout=min(self.call_timeout_s, self.timeout_s),
        )


def _estimate_tokens(request: LLMRequest, tokenizer: str) -> int:
    """Prompt plus answer allowance, for token-per-minute limits (counted before sending)."""
    encoding = "o200k_base" if tokenizer == "estimate" else tokenizer
    prompt = sum(count_tokens(m.content, encoding) + 4 for m in request.messages)
    if tokenizer == "estimate":
        prompt = int(prompt * ESTIMATE_FACTOR)
    return prompt + request.max_output_tokens


def _quoted(text: str) -> str:
    short = text if len(text) <= 200 else text[:199] + "…"
    return repr(short)
