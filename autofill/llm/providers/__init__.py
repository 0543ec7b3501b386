"""One small module per wire protocol, behind the ``Provider`` protocol in base.py."""
