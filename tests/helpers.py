"""Paths and values the tests share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.plan.model import Action, Archive, Create, Submit, Update

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXTURES = SHARED / "atlan-workflow-fixtures"
EXAMPLES = REPO / "manifests"
TEST_MANIFESTS = Path(__file__).resolve().parent / "manifests"

# Planted in every test's environment; no captured output may ever contain it.
CANARY = "canary-7f3c9e1d-secret-value-4b2a"

# The values the SDK fixtures were built with, for the secret fields.
SDK_SECRETS = {
    "TEST_SECRET_KEY": "test-secret-key",
    "TEST_SERVICE_ACCOUNT_JSON": "test-service-account-json",
    "TEST_CLIENT_SECRET": "test-client-secret",
}


def as_planned(*actions: Action, resource_version: str | None = "1") -> dict[str, Any]:
    """The ``action``, flags and ``steps`` of a PlannedWorkflow for the actions a plan lists
    (``(Action.UPDATE, Action.RERUN)``), as the planner makes them: for tests that build items
    by hand."""
    listed = actions or (Action.NOOP,)
    if listed == (Action.CREATE,):
        return {"action": Action.CREATE, "steps": (Create(submit=True),)}
    if listed == (Action.ARCHIVE,):
        return {"action": Action.ARCHIVE, "steps": (Archive(),)}
    if listed == (Action.NOOP,):
        return {"action": Action.NOOP}
    adopt, update, rerun = (action in listed for action in (Action.ADOPT, Action.UPDATE, Action.RERUN))
    write = Update(resource_version, send_credentials=False, claim=rerun, changes_workflow=adopt or update)
    return {
        "action": Action.ADOPT if adopt else Action.UPDATE if update else Action.RERUN,
        "updates": adopt and update,
        "reruns": rerun and (adopt or update),
        "steps": (write, Submit(claimed=True)) if rerun else (write,),
    }
