"""Autofill's domain: databases, properties, rows and AI cells.

This package imports neither Flask nor Celery (a test enforces it): `api/` and `worker/` are thin
adapters over it, and the evals run the same code paths.
"""

__version__ = "0.1.0"
