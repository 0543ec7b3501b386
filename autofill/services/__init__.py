"""Use cases over a SQLAlchemy session. Callers own the transaction (commit or roll back)."""
