"""The Celery adapter: thin tasks over the domain package (the fill tasks arrive with the
change-driven filling; this is the app and its delivery settings)."""
