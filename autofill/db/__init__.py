"""Storage: typed SQLAlchemy models, engine/session factory and Alembic migrations.

What other packages use comes from here; the modules behind it are this package's own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autofill.faces import lazy_face

if TYPE_CHECKING:
    # The accounts tables come from their own module: a caller that needs only them (the
    # workspace commands, authentication) does not map the other sixteen.
    from autofill.db.accounts import ApiToken, Workspace
    from autofill.db.limits import DatabasePauses, DatabaseWindowStorage
    from autofill.db.migrate import current_revision, head_revision, upgrade
    from autofill.db.models import (
        Base,
        BatchItem,
        CallSpendColumns,
        Cell,
        CellEvent,
        CellFeedback,
        ChoreLease,
        Database,
        FillCountColumns,
        FillLedger,
        FillRun,
        OutboxEntry,
        Property,
        ProviderBatch,
        Row,
        SettledColumns,
        WebSession,
        WorkspaceUsage,
    )
    from autofill.db.session import SHORT_TRANSACTIONS, Store
    from autofill.db.types import upsert, utcnow

__all__ = [
    "SHORT_TRANSACTIONS",
    "ApiToken",
    "Base",
    "BatchItem",
    "CallSpendColumns",
    "Cell",
    "CellEvent",
    "CellFeedback",
    "ChoreLease",
    "Database",
    "DatabasePauses",
    "DatabaseWindowStorage",
    "FillCountColumns",
    "FillLedger",
    "FillRun",
    "OutboxEntry",
    "Property",
    "ProviderBatch",
    "Row",
    "SettledColumns",
    "Store",
    "WebSession",
    "Workspace",
    "WorkspaceUsage",
    "current_revision",
    "head_revision",
    "upgrade",
    "upsert",
    "utcnow",
]

__getattr__ = lazy_face(__name__, __file__)
