"""The workflow files pass actionlint (with shellcheck), and the composite action is injection-safe.

actionlint and shellcheck come from the locked dev dependencies (``make setup``); a missing binary
fails the test with the command to fix it, it never skips.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.helpers import REPO

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
EXAMPLES = ["reconciler-plan.yml", "reconciler-apply.yml", "reconciler-drift.yml"]


def tool(name: str) -> str:
    """The binary installed beside this interpreter (the project's .venv), else on PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run `make setup` (it is a locked dev dependency)")
    return found


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def test_there_are_workflow_files() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"ci.yml", *EXAMPLES} <= names


def test_actionlint_passes_on_every_workflow_file() -> None:
    actionlint = tool("actionlint")
    shellcheck = tool("shellcheck")
    result = subprocess.run(
        [
            actionlint,
            "-no-color",
            "-oneline",
            "-shellcheck",
            shellcheck,
            "-pyflakes",
            "",
            *map(str, WORKFLOWS),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"actionlint found problems:\n{result.stdout}{result.stderr}"


def action() -> Any:
    return load(REPO / "action.yml")


def run_scripts() -> list[str]:
    return [step["run"] for step in action()["runs"]["steps"] if "run" in step]


def test_the_action_is_composite_with_its_inputs() -> None:
    meta = action()
    assert meta["runs"]["using"] == "composite"
    assert {
        "command",
        "path",
        "instance",
        "atlan-base-url",
        "atlan-api-key",
        "github-token",
        "working-directory",
        "proceed-on-plan-mismatch",
    } <= set(meta["inputs"])
    assert all(step.get("shell") == "bash" for step in meta["runs"]["steps"] if "run" in step)


def test_no_expression_is_interpolated_into_an_action_script() -> None:
    """Inputs reach scripts through env: only (no script injection)."""
    for script in run_scripts():
        assert "${{" not in script, script


def test_the_action_scripts_pass_shellcheck(tmp_path: Path) -> None:
    shellcheck = tool("shellcheck")
    for n, script in enumerate(run_scripts()):
        path = tmp_path / f"step{n}.sh"
        path.write_text("#!/usr/bin/env bash\n" + script)
        result = subprocess.run(
            [shellcheck, "--shell=bash", str(path)], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"shellcheck on action step {n}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_examples_use_the_action_with_least_permissions(name: str) -> None:
    workflow = load(REPO / ".github" / "workflows" / name)
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    uses = [step for step in steps if step.get("uses") == "./"]
    assert len(uses) == 1
    assert set(uses[0]["with"]) <= set(action()["inputs"])
    expected = {
        "reconciler-plan.yml": {"contents": "read", "pull-requests": "write"},
        "reconciler-apply.yml": {"contents": "read", "pull-requests": "read"},
        "reconciler-drift.yml": {"contents": "read", "issues": "write"},
    }[name]
    assert workflow["permissions"] == expected


def test_apply_never_overlaps_per_instance() -> None:
    workflow = load(REPO / ".github" / "workflows" / "reconciler-apply.yml")
    assert workflow["concurrency"] == {
        "group": "reconciler-apply-${{ vars.RECONCILER_INSTANCE || 'default' }}",
        "cancel-in-progress": False,
    }


def test_the_pre_commit_hook_runs_validate() -> None:
    hooks = load(REPO / ".pre-commit-hooks.yaml")
    hook = next(h for h in hooks if h["id"] == "reconciler-validate")
    assert hook["entry"] == "reconciler validate --skip-env"
    assert hook["language"] == "python"
    assert re.search(hook["files"], "manifests/asset-import/snowflake-assets.yaml")
    assert re.search(hook["files"], "manifests/lineage/lineage.yml")
    assert not re.search(hook["files"], ".github/workflows/ci.yml")
    assert not re.search(hook["files"], "manifests/reconciler.schema.json")
