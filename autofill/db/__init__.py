"""Storage: typed SQLAlchemy models, engine/session factory and Alembic migrations."""

from autofill.db.models import ApiToken, Base, Cell, Database, Property, Row, Workspace
from autofill.db.session import Store

__all__ = ["ApiToken", "Base", "Cell", "Database", "Property", "Row", "Store", "Workspace"]
