"""The batcher: economy fills through the providers' batch interfaces, one pass at a time —
claim due economy fills into batches, send the batches ready, look at those the providers
have (with a backoff between looks), record those that ended. It runs on a thread of each
dispatcher; several may run at once (each step holds its batch with a lease)."""

from __future__ import annotations

from dataclasses import dataclass

from autofill.config import Settings
from autofill.db import Store
from autofill.fills.economy import build, steps
from autofill.kinds import BatchState
from autofill.llm import Providers
from autofill.logs import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Pass:
    claimed: int
    submitted: int
    ended: int


def pass_once(store: Store, settings: Settings, providers: Providers) -> Pass:
    store.run(build.adopt_abandoned)
    claimed = build.build(store, settings, providers)
    submitted = sum(
        steps.submit(store, settings, providers, batch_id)
        for batch_id in steps.due_batches(store, (BatchState.PREPARED,))
    )
    ended = sum(
        steps.check(store, settings, providers, batch_id)
        for batch_id in steps.due_batches(store, (BatchState.SUBMITTED, BatchState.ENDED))
    )
    if claimed or submitted or ended:
        log.info("batcher pass", claimed=claimed, submitted=submitted, ended=ended)
    return Pass(claimed, submitted, ended)
