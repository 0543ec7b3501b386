"""The web page's blueprint; each page module registers its views on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("web", __name__)
