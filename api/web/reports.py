"""The eval reports page: the latest runs of the prompt regression suite, read from the records
``autofill evals run`` writes into the data directory. They are the server's, not a workspace's:
only operators' workspaces (``AUTOFILL_OPERATOR_WORKSPACES``) see them; to others the page does
not exist (404)."""

from __future__ import annotations

from flask import render_template
from flask.typing import ResponseReturnValue

from api.endpoint import settings
from api.web.blueprint import bp
from api.web.session import page
from autofill.db import Workspace
from evals import latest_runs, load_run, runs_dir


def _not_for(workspace: Workspace) -> ResponseReturnValue | None:
    if workspace.id in settings().operators:
        return None
    return render_template("not_found.html", workspace=workspace), 404


@bp.get("/evals")
@page
def eval_runs(workspace: Workspace) -> ResponseReturnValue:
    refused = _not_for(workspace)
    if refused is not None:
        return refused
    directory = runs_dir(settings().data_dir)
    runs = latest_runs(directory)
    latest = runs[0] if runs else None
    return render_template(
        "evals.html", workspace=workspace, runs=runs, report=latest, directory=directory
    )


@bp.get("/evals/<name>")
@page
def eval_run(name: str, workspace: Workspace) -> ResponseReturnValue:
    refused = _not_for(workspace)
    if refused is not None:
        return refused
    directory = runs_dir(settings().data_dir)
    report = load_run(directory, name)
    if report is None:
        return render_template("not_found.html", workspace=workspace), 404
    return render_template(
        "evals.html",
        workspace=workspace,
        runs=latest_runs(directory),
        report=report,
        directory=directory,
    )
