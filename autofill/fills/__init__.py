"""Change-driven fills: the outbox of due cells, the dispatcher that hands them to a queue, the
fill itself, bulk runs, budgets and the feed of cell changes. No Flask, no Celery: the worker
task and the evals call into this package with ids."""
