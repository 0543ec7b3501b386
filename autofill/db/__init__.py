"""Storage: typed SQLAlchemy models, engine/session factory and Alembic migrations.

What other packages use comes from here; the modules behind it are this package's own."""

from autofill.db.migrate import current_revision, head_revision, upgrade
from autofill.db.models import (
    ApiToken,
    Base,
    BatchItem,
    CallSpendColumns,
    Cell,
    CellEvent,
    CellFeedback,
    Database,
    FillCountColumns,
    FillLedger,
    FillRun,
    OutboxEntry,
    Property,
    ProviderBatch,
    Row,
    SettledColumns,
    Workspace,
    WorkspaceUsage,
)
from autofill.db.session import Store
from autofill.db.types import upsert, utcnow

__all__ = [
    "ApiToken",
    "Base",
    "BatchItem",
    "CallSpendColumns",
    "Cell",
    "CellEvent",
    "CellFeedback",
    "Database",
    "FillCountColumns",
    "FillLedger",
    "FillRun",
    "OutboxEntry",
    "Property",
    "ProviderBatch",
    "Row",
    "SettledColumns",
    "Store",
    "Workspace",
    "WorkspaceUsage",
    "current_revision",
    "head_revision",
    "upgrade",
    "upsert",
    "utcnow",
]
