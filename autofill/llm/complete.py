"""One typed completion, start to finish: the path every fill and every eval takes.

rate limit → provider call (retried on transient failures) → typed validation → on an invalid
answer, a re-ask that shows the model its answer and the error (as instructor does) → the value,
with the usage and cost of every call made on the way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import partial
from time import perf_counter

from autofill import clock, metrics
from autofill.clock import Clock
from autofill.config import get_settings
from autofill.kinds import ErrorCode
from autofill.llm import registry
from autofill.llm.catalogue import ModelInfo, ModelRefused, catalogue
from autofill.llm.errors import FillFailed, InvalidAnswer, ProviderError
from autofill.llm.plan import CallPlan, enlarged, output_limit, plan_call
from autofill.llm.ratelimit import RateLimiter
from autofill.llm.registry import Providers, Route
from autofill.llm.retry import call_with_retries
from autofill.llm.typed import is_structured, parse_answer
from autofill.llm.types import Completion, LLMRequest, RawAnswer, Usage
from autofill.llm.window import prompt_tokens, reask_turns, room_for_output, shrink_to_fit
from autofill.logs import get_logger

log = get_logger(__name__)
_warned: set[str] = set()  # deprecated models already named in this process's log


@dataclass
class Completer:
    # Every process's one limiter (autofill.fills.limits.shared_limiter, which knows the
    # stores), or a test's own.
    limiter: RateLimiter
    timeout_s: float = field(default_factory=lambda: get_settings().fill_timeout_s)
    max_reasks: int = field(default_factory=lambda: get_settings().max_reasks)
    call_timeout_s: float = field(default_factory=lambda: get_settings().call_timeout_s)
    max_wait_s: float = field(default_factory=lambda: get_settings().max_in_fill_wait_s)
    # None: the process's (autofill.llm.registry.current(), autofill.clock.current()), read
    # at each call, so what a process or test installs applies to completers already made.
    providers: Providers | None = None
    clock: Clock | None = None

    def complete(self, request: LLMRequest) -> Completion:
        try:
            info = catalogue().get(request.model)
            target = (self.providers or registry.current()).route(request.model)
        except (ModelRefused, ProviderError) as exc:
            raise FillFailed(
                exc.message, attempts=0, usage=Usage(), last_answer=None, code=exc.code
            ) from exc
        warning = info.warning(request.model)
        if warning and request.model not in _warned:
            _warned.add(request.model)
            log.warning("deprecated model", model=request.model, warning=warning)
        time = self._clock()
        started = time.monotonic()
        deadline = time.time() + self.timeout_s
        typed = is_structured(request.output)
        limit = output_limit(info, request.max_output_tokens)
        messages = list(request.messages)
        first_call = len(messages)
        memo: dict[str, int] = {}
        usage, cost, calls, attempts, reasks, widened = Usage(), 0.0, 0, 0, 0, False
        last: RawAnswer | None = None
        while True:
            attempts += 1
            plan = plan_call(
                info,
                request.max_output_tokens,
                request.temperature,
                typed=typed,
                limit=limit,
                token_fields=target.token_fields,
            )
            asked = replace(request, messages=messages)
            try:
                last, made = self._call(target, asked, plan, deadline, info, time)
            except ProviderError as exc:
                raise FillFailed(
                    exc.message,
                    attempts=attempts,
                    usage=usage,
                    last_answer=last.text if last else None,
                    calls=calls + exc.calls,
                    code=exc.code,
                    defer_s=exc.defer_s,
                ) from exc
            calls += made
            usage += last.usage
            cost += info.cost(
                last.usage.input_tokens,
                last.usage.output_tokens,
                last.usage.cached_tokens,
                last.usage.cache_write_tokens,
            )
            failed = partial(
                FillFailed, attempts=attempts, usage=usage, last_answer=last.text, calls=calls
            )
            if last.stop == "length":
                bigger = None if widened else enlarged(info, limit)
                if bigger is not None:
                    # Never past the window: the prompt stays, only the limit grows.
                    used = prompt_tokens(messages, info, request.output, memo)
                    bigger = min(bigger, room_for_output(info, used))
                    bigger = bigger if bigger > limit else None
                if bigger is not None:
                    # Reasoning (or a long answer) used the whole limit: once more with room.
                    limit, widened = bigger, True
                    continue
                raise failed(_cut_off(last, limit, info), code=ErrorCode.ANSWER_TRUNCATED)
            if last.stop == "refusal":
                said = f": {last.refusal}" if last.refusal else ""
                raise failed(f"the model refused to answer{said}", code=ErrorCode.REFUSED)
            if last.stop == "content_filter":
                raise failed(
                    "the provider's content filter stopped the answer",
                    code=ErrorCode.CONTENT_FILTERED,
                )
            try:
                value, none_reason = parse_answer(request.output, last.text, last.data)
            except InvalidAnswer as exc:
                if reasks >= self.max_reasks:
                    raise failed(exc.message, code=ErrorCode.INVALID_ANSWER) from exc
                reasks += 1
                asked_again = shrink_to_fit(
                    [*messages, *reask_turns(last.text, exc.message, info)],
                    first_call,
                    info,
                    request.output,
                    limit,
                )
                if asked_again is None:
                    raise failed(
                        f"{exc.message}; asking again would not fit the model's window",
                        code=ErrorCode.INVALID_ANSWER,
                    ) from exc
                messages = asked_again
                continue
            return Completion(
                value=value,
                text=last.text,
                usage=usage,
                cost_usd=round(cost, 8),
                latency_s=time.monotonic() - started,
                attempts=attempts,
                calls=calls,
                model=request.model,
                none_reason=none_reason,
            )

    def _clock(self) -> Clock:
        return self.clock or clock.current()

    def _call(
        self,
        target: Route,
        request: LLMRequest,
        plan: CallPlan,
        deadline: float,
        info: ModelInfo,
        time: Clock,
    ) -> tuple[RawAnswer, int]:
        # Counting the prompt costs an encode; only a token-per-minute limit needs it.
        counts = self.limiter.counts_tokens(target.limit_key)
        estimate = _estimate_tokens(request, info) + plan.output_limit if counts else 0

        provider = metrics.split_model(request.model)[0]

        def once(timeout: float) -> RawAnswer:
            waiting = perf_counter()
            try:
                self.limiter.acquire(target.limit_key, estimate, deadline, lane=request.lane)
            except TimeoutError as exc:
                raise ProviderError(str(exc)) from None
            finally:
                metrics.LIMITER_WAIT.labels(provider, request.lane).observe(
                    perf_counter() - waiting
                )
            remaining = max(deadline - time.time(), 1.0)
            try:
                answer = target.provider.call(request, target.model, plan, min(timeout, remaining))
            except ProviderError as exc:
                # No status: no answer came (a connection failed, a timeout).
                metrics.provider_call(request.model, exc.status or "error")
                if exc.status == 429 and exc.retryable:
                    wait = {"retry-after": str(exc.retry_after)} if exc.retry_after else {}
                    self.limiter.observe(target.limit_key, wait, status=429)
                raise
            metrics.provider_call(request.model, 200)
            self.limiter.observe(target.limit_key, answer.headers)
            return answer

        return call_with_retries(
            once,
            total_seconds=max(deadline - time.time(), 0.0),
            per_call_timeout=min(self.call_timeout_s, self.timeout_s),
            max_wait_s=self.max_wait_s,
            sleep=time.sleep,
            monotonic=time.monotonic,
        )


def _cut_off(answer: RawAnswer, limit: int, info: ModelInfo) -> str:
    spent = f", {answer.reasoning_tokens} of them on reasoning" if answer.reasoning_tokens else ""
    why = (
        "the model's maximum"
        if limit >= info.max_output_tokens
        else "even after one more try with more room"
    )
    return (
        f"the answer was cut off at the output limit of {limit} tokens{spent} ({why}); "
        "nothing was stored"
    )


def _estimate_tokens(request: LLMRequest, info: ModelInfo) -> int:
    """The prompt's tokens, for token-per-minute limits (counted before sending)."""
    return prompt_tokens(request.messages, info, request.output)
