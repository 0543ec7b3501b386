"""The REST API: a Flask app factory and one blueprint per resource, over the domain package."""

from api.app import create_app

__all__ = ["create_app"]
