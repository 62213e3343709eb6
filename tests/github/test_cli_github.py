"""The CLI with --github-comment, --github-check-plan and --github-issue, end to end.

The tenant is the embedded emulator (RECONCILER_STATE_DIR in tmp_path); GitHub is the stand-in
served on 127.0.0.1; the Actions environment points at it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from reconciler import cli
from tests.github.conftest import MERGE_SHA, PR_NUMBER, TOKEN, actions_environ
from tests.github.fake_github import FakeGitHub
from tests.helpers import CANARY, EXAMPLES

SNOWFLAKE = "asset-import/snowflake-assets.yaml"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github: FakeGitHub) -> Path:
    manifests = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, manifests)
    monkeypatch.chdir(tmp_path)  # outside git, data sources must be under the current directory
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")  # GITHUB_ACTIONS alone does not choose it
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    for key, value in actions_environ(github, tmp_path).items():
        monkeypatch.setenv(key, value)
    return manifests


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def merged(github: FakeGitHub) -> None:
    """The pull request was merged as GITHUB_SHA: the push build can find its reviewed plan."""
    github.issues[PR_NUMBER]["merged_at"] = "2026-11-21T12:00:00Z"
    github.issues[PR_NUMBER]["merge_commit_sha"] = MERGE_SHA
    github.pulls_by_sha[MERGE_SHA] = [PR_NUMBER]


def plan_comments(github: FakeGitHub) -> list[str]:
    return [c["body"] for c in github.comments.get(PR_NUMBER, []) if "reconciler:plan" in c["body"]]


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text().replace(old, new, 1))


def test_one_sticky_comment_per_pull_request(
    repo: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "plan", "--github-comment", str(repo))
    assert code == 0, err
    (first,) = plan_comments(github)
    assert "Plan: 7 to create, 0 to update, 0 to rerun, 0 to archive." in first

    assert run(capsys, "apply", "--auto-approve", str(repo))[0] == 0
    edit(repo / SNOWFLAKE, "batch_size: 20", "batch_size: 30")
    code, _, err = run(capsys, "plan", "--github-comment", str(repo))
    assert code == 0, err
    (second,) = plan_comments(github)  # still one comment, edited in place
    assert "~ parameters.assets_batch_size: 20 -> 30" in second
    assert "Plan comment updated" in err

    edit(repo / SNOWFLAKE, "batch_size: 30", "batch_size: 20")
    run(capsys, "plan", "--github-comment", str(repo))
    (third,) = plan_comments(github)
    assert "No changes" in third
    summary = (tmp_path / "step_summary.md").read_text()
    assert summary.count("reconciler plan for instance `default`") == 3
    bodies = " ".join(r.body for r in github.requests)
    assert TOKEN not in bodies
    assert CANARY not in bodies + summary


def test_apply_checks_the_plan_reviewed_in_the_pull_request(
    repo: Path,
    github: FakeGitHub,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    assert run(capsys, "plan", "--github-comment", str(repo))[0] == 0  # the reviewed plan
    merged(github)

    # Someone changes the manifests after the review (or the tenant moved): apply stops.
    edit(repo / SNOWFLAKE, "batch_size: 20", "batch_size: 99")
    code, out, err = run(capsys, "apply", "--auto-approve", "--github-check-plan", str(repo))
    assert code == 1
    assert "the plan differs from the one reviewed on pull request #42" in err
    assert "AssetImport.snowflake-assets" in err
    assert "Apply results" not in out

    proceed = run(
        capsys,
        "apply",
        "--auto-approve",
        "--github-check-plan",
        "--proceed-on-plan-mismatch",
        "--github-summary",
        str(repo),
    )
    assert proceed[0] == 0, proceed[2]
    assert "reconciler apply" in (tmp_path / "step_summary.md").read_text()


def test_apply_proceeds_when_the_plan_matches_the_review(
    repo: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "plan", "--github-comment", str(repo))[0] == 0
    merged(github)
    code, out, err = run(capsys, "apply", "--auto-approve", "--github-check-plan", str(repo))
    assert code == 0, err
    assert "the plan matches the one reviewed on #42" in err
    assert "Apply: 7 done" in out


def test_drift_keeps_one_issue_open_while_drift_lasts(
    repo: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "apply", "--auto-approve", str(repo))[0] == 0
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "rotated")  # credentials now differ from the tenant's
    code, _, err = run(capsys, "drift", "--github-issue", str(repo))
    assert code == 3
    (issue,) = [i for i in github.issues.values() if "pull_request" not in i]
    assert issue["state"] == "open"
    assert [label["name"] for label in issue["labels"]] == ["drift"]
    assert "credentials" in issue["body"]

    assert run(capsys, "drift", "--github-issue", str(repo))[0] == 3
    assert len([i for i in github.issues.values() if "pull_request" not in i]) == 1

    monkeypatch.setenv("AZURE_CLIENT_SECRET", CANARY)  # back to what the tenant has
    code, _, err = run(capsys, "drift", "--github-issue", str(repo))
    assert code == 0, err
    assert issue["state"] == "closed"
    assert any("No drift detected" in c["body"] for c in github.comments.get(issue["number"], []))
    assert "rotated" not in json.dumps(github.issues)
    assert CANARY not in json.dumps(github.issues)


@pytest.mark.parametrize("missing", ["GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_EVENT_PATH"])
def test_a_missing_actions_variable_is_a_clear_error(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    monkeypatch.delenv(missing)
    code, _out, err = run(capsys, "plan", "--github-comment", str(repo))
    assert code == 1
    assert missing in err
    assert "Traceback" not in err


def test_a_refused_token_is_a_clear_error(
    repo: Path, github: FakeGitHub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_wrong_token_0123456789")
    code, _, err = run(capsys, "plan", "--github-comment", str(repo))
    assert code == 1
    assert "401" in err
    assert "ghs_wrong_token_0123456789" not in err
