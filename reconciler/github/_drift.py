"""One issue labelled ``drift`` per instance, open while drift lasts, closed when a run is clean.

The issue body starts with a hidden marker naming the instance and a digest of the drift report,
so a run that finds the same drift changes nothing (no edit, no notification), a run that finds
different drift edits the body and adds one short comment, and a clean run closes the issue with
a note linking the run. Only those hidden lines are read back, and only where they are put (the
first two lines): the report below them quotes names and values from the tenant and the manifests.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from reconciler.github._body import BODY_LIMIT, drift_marker, first_line, fit, strip_leading_marker
from reconciler.github._client import GitHubClient, Issue
from reconciler.github._context import GitHubContext

DRIFT_LABEL = "drift"
_DIGEST = re.compile(r"<!-- reconciler:drift-digest sha256=(?P<digest>[0-9a-f]{64}) -->")


def _recorded_digest(body: str) -> str | None:
    """The digest on the body's second line, where ``drift_issue_body`` puts it."""
    lines = body.lstrip().split("\n", 2)
    match = _DIGEST.fullmatch(lines[1].strip()) if len(lines) > 1 else None
    return match["digest"] if match else None


@dataclass(frozen=True, slots=True)
class DriftIssueResult:
    """What ``sync_drift_issue`` did: ``none`` means clean and no issue was open."""

    action: Literal["created", "updated", "unchanged", "closed", "none"]
    number: int | None = None
    url: str | None = None

    def __str__(self) -> str:
        if self.number is None:
            return "no drift issue open"
        return f"{self.action} drift issue #{self.number} {self.url or ''}".rstrip()


def _digest(markdown: str) -> str:
    return hashlib.sha256(markdown.encode()).hexdigest()


def drift_issue_body(body_markdown: str, *, instance: str, run_url: str | None) -> str:
    """The issue body: marker, digest of the report, the report (fitted), and where it came from."""
    head = f"{drift_marker(instance)}\n<!-- reconciler:drift-digest sha256={_digest(body_markdown)} -->\n"
    source = f" in run {run_url}" if run_url else ""
    tail = (
        f"\n\n---\n_Reported by reconciler{source}. This issue is updated while drift lasts and closed "
        "by the first run that finds none._\n"
    )
    report = strip_leading_marker(body_markdown).rstrip("\n")
    return head + fit(report, BODY_LIMIT - len(head) - len(tail)) + tail


def find_drift_issues(client: GitHubClient, *, instance: str, label: str = DRIFT_LABEL) -> list[Issue]:
    """Open issues with ``label`` whose body starts with ``instance``'s marker, oldest first."""
    marker = drift_marker(instance)
    issues = [i for i in client.list_issues(labels=[label], state="open") if first_line(i.body) == marker]
    return sorted(issues, key=lambda issue: issue.number)


def sync_drift_issue(
    context: GitHubContext,
    *,
    drifted: bool,
    title: str,
    body_markdown: str,
    client: GitHubClient,
    instance: str = "default",
    label: str = DRIFT_LABEL,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> DriftIssueResult:
    """Keep the drift issue of ``instance`` in step with this run's finding.

    drifted, none open -> create it (labelled ``label``); drifted, open with the same report ->
    unchanged; drifted, different report -> edit the body and comment "Still drifting as of
    <time>"; clean -> comment "No drift detected in run <link>; closing." and close every open one.
    """
    issues = find_drift_issues(client, instance=instance, label=label)
    run_url = context.run_url
    if not drifted:
        if not issues:
            return DriftIssueResult("none")
        where = f"in run {run_url}" if run_url else f"at {_when(now())}"
        for issue in issues:
            client.create_issue_comment(
                issue.number, f"No drift detected {where}; closing.", permission="issues: write"
            )
            client.close_issue(issue.number, reason="completed")
        return DriftIssueResult("closed", issues[0].number, issues[0].html_url)

    body = drift_issue_body(body_markdown, instance=instance, run_url=run_url)
    if not issues:
        created = client.create_issue(title, body, labels=[label])
        return DriftIssueResult("created", created.number, created.html_url)
    issue = issues[0]
    if _recorded_digest(issue.body) == _digest(body_markdown) and issue.title == title:
        return DriftIssueResult("unchanged", issue.number, issue.html_url)
    client.update_issue(issue.number, title=title, body=body)
    link = f" (run {run_url})" if run_url else ""
    client.create_issue_comment(
        issue.number,
        f"Still drifting as of {_when(now())}{link}; the description now shows the current drift.",
        permission="issues: write",
    )
    return DriftIssueResult("updated", issue.number, issue.html_url)


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
