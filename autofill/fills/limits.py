"""The process's one provider-call limiter, on the store every process of the deployment shares.

Here, not in the model layer, because one of the stores is the database's (autofill.db.limits):
Redis when ``AUTOFILL_REDIS_URL`` is set, PostgreSQL when the broker is not Redis and no Redis
is configured (Settings.limits_database_url), this process's memory otherwise (embedded mode).
"""

from __future__ import annotations

from functools import lru_cache

from autofill.config import get_settings
from autofill.db import DatabasePauses, DatabaseWindowStorage
from autofill.llm import RateLimiter, parse_limits


@lru_cache(maxsize=1)
def shared_limiter() -> RateLimiter:
    settings = get_settings()
    database_url = settings.limits_database_url()
    return RateLimiter(
        parse_limits(settings.rate_limits),
        settings.redis_url,
        stores=(
            (DatabaseWindowStorage(database_url), DatabasePauses(database_url))
            if database_url
            else None
        ),
        interactive_share=settings.interactive_rate_share,
    )
