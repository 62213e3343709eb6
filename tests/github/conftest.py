"""Fixtures: the GitHub stand-in on 127.0.0.1 and an Actions environment pointing at it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.github import GitHubClient, GitHubContext
from reconciler.plan.model import Action, FieldChange, Plan, PlannedWorkflow, Reason, ReasonCode
from tests.github.fake_github import FakeGitHub
from tests.helpers import as_planned

# A token shaped like a real installation token; it must never show up in a body or a message.
TOKEN = "ghs_canaryTOKEN0123456789abcdefghijklmnop"
PR_NUMBER = 42
MERGE_SHA = "9f2c1e5b7a3d4c6e8f0a1b2c3d4e5f60718293a4"


def actions_environ(
    github: FakeGitHub, tmp_path: Path, *, event: dict[str, object] | None = None
) -> dict[str, str]:
    """The variables a GitHub Actions runner sets for a step, pointing at the stand-in."""
    event_path = tmp_path / "event.json"
    event_path.write_text(json.dumps(event if event is not None else {"pull_request": {"number": PR_NUMBER}}))
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_API_URL": github.base_url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": f"{github.owner}/{github.repo}",
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step_summary.md"),
        "GITHUB_SHA": MERGE_SHA,
        "GITHUB_RUN_ID": "1234567890",
    }


@pytest.fixture
def environ(github: FakeGitHub, tmp_path: Path) -> dict[str, str]:
    return actions_environ(github, tmp_path)


@pytest.fixture
def context(environ: dict[str, str]) -> GitHubContext:
    return GitHubContext.from_environ(environ)


@pytest.fixture
def client(context: GitHubContext) -> Iterator[GitHubClient]:
    with GitHubClient(context, retries=0) as client:
        yield client


def workflow(
    name: str,
    *actions: Action,
    changes: tuple[FieldChange, ...] = (),
    reasons: tuple[Reason, ...] = (),
    kind: str = "AssetImport",
) -> PlannedWorkflow:
    return PlannedWorkflow(
        address=f"{kind}.{name}",
        kind=kind,
        workflow=f"csa-asset-import-{abs(hash(name)) % 10**10:010d}",
        manifest=name,
        **as_planned(*actions, resource_version="12345"),
        reasons=reasons,
        changes=changes,
        before={"parameters": {"assets_prefix": "/in"}},
        after={"parameters": {"assets_prefix": "/in/v2"}},
        resource_version="12345",
        annotations={"reconciler.dev/credential-digest": "v1:00ff:abcdef"},
    )


PREFIX_CHANGE = FieldChange("change", ("parameters", "assets_prefix"), "/in", "/in/v2")


def sample_plan(instance: str = "default", *, prefix: str = "/in/v2") -> Plan:
    """A realistic plan: one create, one update with a field change, one rerun, one no-op."""
    return Plan(
        instance=instance,
        items=(
            workflow(
                "new-assets", Action.CREATE, reasons=(Reason(ReasonCode.NOT_ON_TENANT, ("first-run",)),)
            ),
            workflow(
                "snowflake-assets",
                Action.UPDATE,
                changes=(FieldChange("change", ("parameters", "assets_prefix"), "/in", prefix),),
                reasons=(Reason(ReasonCode.FIELDS_CHANGED, ("parameters.assets_prefix",)),),
            ),
            workflow("glossary", Action.RERUN, reasons=(Reason(ReasonCode.RUN_TOKEN_CHANGED, ("1", "2")),)),
            workflow("lineage", kind="LineageBuilder"),
        ),
    )


def empty_plan(instance: str = "default") -> Plan:
    return Plan(instance=instance, items=(workflow("snowflake-assets"), workflow("glossary")))
