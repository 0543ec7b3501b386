"""The web page: sign-in, databases, the live table, the AI column form, eval reports."""

from api.web import columns, reports, routes
from api.web.blueprint import bp

__all__ = ["bp", "columns", "reports", "routes"]
