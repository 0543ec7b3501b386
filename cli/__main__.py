"""``python -m cli``: the ``autofill`` command, where the script is not on the PATH (a worker
started again by the lean supervisor, worker.supervisor)."""

from cli.main import main

main(prog_name="autofill")
