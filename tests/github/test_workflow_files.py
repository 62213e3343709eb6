"""The workflow files pass actionlint (with shellcheck) and zizmor, and the composite action is
injection-safe.

actionlint, shellcheck and zizmor come from the locked dev dependencies (``make setup``); a missing
binary fails the test with the command to fix it, it never skips. zizmor runs offline: no audit
that needs the GitHub API, no token.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.helpers import EXAMPLES as EXAMPLE_MANIFESTS
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


def zizmor(*paths: Path | str, cwd: Path = REPO) -> list[dict[str, Any]]:
    """zizmor's findings (JSON) on the paths: offline, pedantic, the inline ignores honoured."""
    env = {
        k: v for k, v in os.environ.items() if k not in {"GH_TOKEN", "GITHUB_TOKEN", "ZIZMOR_GITHUB_TOKEN"}
    }
    result = subprocess.run(
        [
            tool("zizmor"),
            "--offline",
            "--no-progress",
            "--persona",
            "pedantic",
            "--format",
            "json",
            *map(str, paths),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**env, "ZIZMOR_OFFLINE": "1"},
    )
    assert result.stdout.strip(), f"zizmor printed nothing (exit {result.returncode}):\n{result.stderr}"
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    # Exit 0 means no finding; 10-14 mean findings (by severity); anything else is zizmor failing.
    assert result.returncode == 0 or (findings and 10 <= result.returncode <= 14), result.stderr
    return findings


def describe(findings: list[dict[str, Any]]) -> str:
    return "\n".join(f"{finding['ident']}: {finding['desc']}" for finding in findings)


def test_zizmor_finds_nothing_in_the_action_and_the_workflows() -> None:
    findings = zizmor("action.yml", ".github/workflows/")
    assert findings == [], f"zizmor found problems:\n{describe(findings)}"


def test_zizmor_as_run_here_does_flag_an_insecure_workflow(tmp_path: Path) -> None:
    """The flags above (offline, the config, the ignores) still leave zizmor able to fail."""
    workflow = tmp_path / "insecure.yml"
    workflow.write_text(
        "name: insecure\n"
        "on: pull_request_target\n"
        "jobs:\n"
        "  build:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v5\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    idents = {finding["ident"] for finding in zizmor(workflow, cwd=tmp_path)}
    assert {"unpinned-uses", "artipacked", "template-injection", "dangerous-triggers"} <= idents


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
    (job,) = workflow["jobs"].values()
    uses = [step for step in job["steps"] if step.get("uses") == "./"]
    assert len(uses) == 1
    assert set(uses[0]["with"]) <= set(action()["inputs"])
    expected = {
        "reconciler-plan.yml": {"contents": "read", "pull-requests": "write"},
        "reconciler-apply.yml": {"contents": "read", "pull-requests": "read"},
        "reconciler-drift.yml": {"contents": "read", "issues": "write"},
    }[name]
    # Nothing for the workflow as a whole; the one job asks for exactly what it uses.
    assert workflow["permissions"] == {}
    assert job["permissions"] == expected


def test_ci_grants_only_read_access_per_job() -> None:
    workflow = load(REPO / ".github" / "workflows" / "ci.yml")
    assert workflow["permissions"] == {}
    for job in workflow["jobs"].values():
        assert job["permissions"] == {"contents": "read"}


@pytest.mark.parametrize("name", [*EXAMPLES, "ci.yml"])
def test_checkouts_keep_no_credentials(name: str) -> None:
    workflow = load(REPO / ".github" / "workflows" / name)
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    checkouts = [step for step in steps if str(step.get("uses", "")).startswith("actions/checkout@")]
    assert checkouts
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def manifest_variables() -> set[str]:
    """Every NAME in a ${env:NAME} reference of the example manifests."""
    names: set[str] = set()
    for path in EXAMPLE_MANIFESTS.rglob("*.y*ml"):
        names |= set(re.findall(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}", path.read_text(encoding="utf-8")))
    return names


def test_the_example_manifests_reference_no_reserved_variable() -> None:
    names = manifest_variables()
    assert names >= {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    reserved = ("ATLAN_", "GITHUB_", "ACTIONS_", "RECONCILER_", "RUNNER_", "INPUT_")
    assert not [name for name in names if name.startswith(reserved)]


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_examples_pass_every_secret_the_example_manifests_reference(name: str) -> None:
    workflow = load(REPO / ".github" / "workflows" / name)
    (job,) = workflow["jobs"].values()
    assert job["env"] == {variable: f"${{{{ secrets.{variable} }}}}" for variable in manifest_variables()}


def test_plan_skips_pull_requests_from_forks() -> None:
    """A fork's pull request has no secrets and a read-only token: the job is skipped, not failed."""
    workflow = load(REPO / ".github" / "workflows" / "reconciler-plan.yml")
    condition = workflow["jobs"]["plan"]["if"]
    assert "github.event.pull_request.head.repo.full_name == github.repository" in condition
    assert "vars.ATLAN_BASE_URL != ''" in condition
    assert " && " in condition
    assert " || " not in condition


def test_apply_runs_in_a_protected_environment_without_the_manifest_cache() -> None:
    workflow = load(REPO / ".github" / "workflows" / "reconciler-apply.yml")
    job = workflow["jobs"]["apply"]
    assert job["environment"] == "atlan-production"
    (use,) = [step for step in job["steps"] if step.get("uses") == "./"]
    assert use["with"]["cache"] is False


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
