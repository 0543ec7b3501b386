"""What the simulator does to each request: latency, faults, and a rate limit it enforces."""

from __future__ import annotations

import math
import random
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Fault(StrEnum):
    OK = "ok"
    RATE_LIMIT = "429"  # 429 with retry-after
    REQUEST_TIMEOUT = "408"
    CONFLICT = "409"
    SERVER_ERROR = "500"
    UNAVAILABLE = "503"
    OVERLOADED = "529"  # Anthropic's "overloaded_error"
    BAD_REQUEST = "400"
    UNAUTHORIZED = "401"
    TIMEOUT = "timeout"  # answers only after timeout_s, long after any sane client gave up
    DROP = "drop"  # closes the connection without a response
    TRUNCATED = "truncated"  # 200 with half a JSON body
    INVALID = "invalid"  # a well-formed answer whose value does not fit the requested type
    # Malformed 200s, as a broken proxy or a half-compatible server sends them:
    GARBAGE = "garbage"  # an HTML page where JSON was due
    EMPTY = "empty"  # no body at all
    SHAPELESS = "shapeless"  # JSON, but nothing of the protocol's shape
    NO_CHOICES = "no_choices"  # the right shape with no answer in it (no choices / content)
    WRONG_TYPES = "wrong_types"  # the right keys holding the wrong types
    # Answers that are not answers, as the providers send them (see wire.py):
    LENGTH = "length"  # stopped at the output limit: finish_reason length / max_tokens
    REFUSAL = "refusal"  # OpenAI message.refusal; Anthropic stop_reason refusal + stop_details
    CONTENT_FILTER = "content_filter"  # OpenAI finish_reason content_filter
    BLANK = "blank"  # a well-formed answer with nothing in it but a line break
    LONG = "long"  # an answer of long_answer_tokens: cut off by whatever limit the server reads
    QUOTA = "quota"  # the account's credit or spend limit: 429 insufficient_quota / spend limit
    EXPIRED = "expired"  # a batch request the 24-hour window left undone (batches only)


# What a simulated reasoning model spends on reasoning at each effort. Providers publish no such
# figure; these are in the range their usage reports show for short tasks, and tests set their
# own. `medium` is the default effort of most reasoning models: enough to use up the 256 tokens
# a typed answer was once given.
REASONING_TOKENS = {
    "none": 0,
    "minimal": 64,
    "low": 320,
    "medium": 1200,
    "high": 4000,
    "xhigh": 9000,
    "max": 20000,
}


class SimConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    latency_ms: float = Field(default=0.0, ge=0, description="Median latency")
    jitter: float = Field(default=0.0, ge=0, le=3, description="Log-normal sigma around it")
    error_rates: dict[Fault, float] = Field(default_factory=dict, description="Chance per request")
    schedule: list[Fault] = Field(
        default_factory=list, description="Faults for the next requests, in order, before rates"
    )
    rpm: int | None = Field(default=None, gt=0, description="Requests per minute it accepts")
    tpm: int | None = Field(default=None, gt=0, description="Tokens per minute it accepts")
    reasoning_tokens: dict[str, int] = Field(
        default_factory=lambda: dict(REASONING_TOKENS),
        description="Reasoning tokens a reasoning model spends per effort before answering",
    )
    long_answer_tokens: int = Field(default=3000, gt=0, description="Length of a 'long' answer")
    retry_after_s: float = Field(default=1.0, ge=0)
    timeout_s: float = Field(default=60.0, ge=0)
    seed: int = 0
    # The batch interfaces (batches.py): how long a batch takes to end, what its requests get.
    batch_delay_s: float = Field(
        default=2.0, ge=0, description="From a batch's creation to its end"
    )
    batch_cancel_s: float = Field(default=0.2, ge=0, description="From a cancel to the batch's end")
    batch_error_rates: dict[Fault, float] = Field(
        default_factory=dict, description="Chance per batch request"
    )
    batch_schedule: list[Fault] = Field(
        default_factory=list, description="Faults for each batch's requests, in order, then rates"
    )
    batch_cache: bool = Field(
        default=True, description="Batch requests read and write the prompt cache as live ones do"
    )


class FaultPicker:
    """Draws each request's fault and latency from the config, reproducibly (seeded)."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.schedule = list(config.schedule)
        self.random = random.Random(config.seed)

    def next_fault(self) -> Fault:
        if self.schedule:
            return self.schedule.pop(0)
        draw = self.random.random()
        for fault, rate in self.config.error_rates.items():
            if draw < rate:
                return fault
            draw -= rate
        return Fault.OK

    def latency_s(self) -> float:
        median = self.config.latency_ms / 1000
        if median == 0 or self.config.jitter == 0:
            return median
        return median * math.exp(self.random.gauss(0, self.config.jitter))
