"""One drift issue per instance: opened on drift, edited when the drift changes, closed when clean."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.github import DriftIssueResult, GitHubClient, GitHubContext, drift_marker, sync_drift_issue
from tests.github.conftest import TOKEN
from tests.github.fake_github import FakeGitHub

RUN = "https://github.com/acme/data-platform/actions/runs/1234567890"
TITLE = "reconciler: drift in instance default"
REPORT = (
    "### Drift\n\n| workflow | drift |\n|---|---|\n| `AssetImport.snowflake-assets` | edited outside git |\n"
)
OTHER_REPORT = REPORT + "| `LineageBuilder.lineage` | deleted |\n"


def at() -> datetime:
    return datetime(2026, 11, 21, 6, 30, tzinfo=UTC)


def sync(
    context: GitHubContext,
    client: GitHubClient,
    *,
    drifted: bool,
    report: str = REPORT,
    instance: str = "default",
) -> DriftIssueResult:
    return sync_drift_issue(
        context, drifted=drifted, title=TITLE, body_markdown=report, client=client, instance=instance, now=at
    )


def test_the_issue_lifecycle(github: FakeGitHub, context: GitHubContext, client: GitHubClient) -> None:
    """clean (nothing) -> drift (open) -> same drift (quiet) -> new drift (edit + comment) -> clean (close)."""
    assert sync(context, client, drifted=False).action == "none"
    assert github.writes() == []

    opened = sync(context, client, drifted=True)
    assert opened.action == "created"
    issue = github.issues[opened.number or 0]
    assert issue["title"] == TITLE
    assert [label["name"] for label in issue["labels"]] == ["drift"]
    assert issue["body"].startswith(drift_marker("default"))
    assert "edited outside git" in issue["body"]
    assert RUN in issue["body"]
    assert opened.url == issue["html_url"]

    github.requests.clear()
    assert sync(context, client, drifted=True) == DriftIssueResult("unchanged", opened.number, opened.url)
    assert github.writes() == []

    assert sync(context, client, drifted=True, report=OTHER_REPORT).action == "updated"
    assert "deleted" in issue["body"]
    assert issue["state"] == "open"
    assert [c["body"] for c in github.comments[issue["number"]]] == [
        f"Still drifting as of 2026-11-21 06:30 UTC (run {RUN}); the description now shows the current drift."
    ]

    closed = sync(context, client, drifted=False)
    assert closed == DriftIssueResult("closed", opened.number, opened.url)
    assert issue["state"] == "closed"
    assert issue["state_reason"] == "completed"
    assert github.comments[issue["number"]][-1]["body"] == f"No drift detected in run {RUN}; closing."
    assert [
        i["number"] for i in github.issues.values() if i["state"] == "open" and "pull_request" not in i
    ] == []

    reopened = sync(context, client, drifted=True)
    assert reopened.action == "created"
    assert reopened.number != opened.number


def test_the_close_request_has_github_shape(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    number = sync(context, client, drifted=True).number
    sync(context, client, drifted=False)
    patch = [r for r in github.requests if r.method == "PATCH"][-1]
    assert patch.path == f"/repos/acme/data-platform/issues/{number}"
    assert patch.body == '{"state":"closed","state_reason":"completed"}'
    listing = [r for r in github.requests if r.method == "GET"][-1]
    assert listing.query == {"state": "open", "labels": "drift", "per_page": "100"}


def test_instances_have_separate_issues(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    first = sync(context, client, drifted=True, instance="default")
    second = sync(context, client, drifted=True, instance="staging")
    assert first.number != second.number
    assert sync(context, client, drifted=False, instance="staging").action == "closed"
    assert github.issues[first.number or 0]["state"] == "open"


def test_issues_without_the_marker_and_pull_requests_are_left_alone(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    human = github.add_issue("Weird drift in the UI", "someone noticed something", ["drift"])
    pr = github.add_pull_request()
    pr["labels"] = [{"name": "drift"}]
    opened = sync(context, client, drifted=True)
    assert opened.number not in (human["number"], pr["number"])
    sync(context, client, drifted=False)
    assert human["state"] == "open"
    assert human["number"] not in github.comments


def test_without_a_run_link_the_note_says_when(
    github: FakeGitHub, environ: dict[str, str], client: GitHubClient
) -> None:
    del environ["GITHUB_RUN_ID"]
    context = GitHubContext.from_environ(environ)
    number = sync(context, client, drifted=True).number or 0
    sync(context, client, drifted=False)
    assert github.comments[number][-1]["body"] == "No drift detected at 2026-11-21 06:30 UTC; closing."


def test_a_huge_report_fits_and_no_token_is_sent(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    report = "\n".join(f"| `AssetImport.wf-{n}` | edited outside git |" for n in range(5000))
    number = sync(context, client, drifted=True, report=report).number or 0
    body = github.issues[number]["body"]
    assert len(body) <= 65_536
    assert "_Truncated:" in body
    assert all(TOKEN not in r.body for r in github.requests)


def test_the_renderers_own_marker_is_not_repeated(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    number = sync(context, client, drifted=True, report="<!-- reconciler:drift -->\n" + REPORT).number or 0
    body = github.issues[number]["body"]
    assert body.splitlines()[0] == drift_marker("default")
    assert "<!-- reconciler:drift -->" not in body


def test_an_issue_quoting_the_marker_below_its_first_line_is_not_ours(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    """The marker must be the body's first line, and the digest its second: a drift issue of
    another instance whose report quotes them (a name, a value) is neither found nor trusted."""
    quoting = f"{REPORT}| `{drift_marker('default')}` |\n"
    other = sync(context, client, drifted=True, instance="staging", report=quoting).number or 0
    assert drift_marker("default") in github.issues[other]["body"]
    human = github.add_issue("Drift?", f"see below\n{drift_marker('default')}\n", ["drift"])

    ours = sync(context, client, drifted=True)
    assert ours.action == "created"
    assert ours.number not in (other, human["number"])
    assert sync(context, client, drifted=True) == DriftIssueResult("unchanged", ours.number, ours.url)

    # A digest quoted in the report is not read: only the body's second line is.
    body = github.issues[ours.number or 0]["body"]
    digest_line = body.splitlines()[1]
    github.issues[ours.number or 0]["body"] = body.replace(digest_line, "<!-- edited -->", 1) + digest_line
    assert sync(context, client, drifted=True).action == "updated"

    assert sync(context, client, drifted=False).action == "closed"
    assert github.issues[other]["state"] == "open"
    assert human["state"] == "open"
