"""The sticky plan comment on a pull request, and the merge-time check against it (GitHub I/O).

The comment's first line is a hidden marker naming the instance, so each instance keeps exactly
one comment per pull request, edited in place on every plan; its last line is the plan record
(reconciler/github/_record.py: the plan's fingerprint, reconciler/plan/review.py)::

    <!-- reconciler:plan instance=default -->
    ...the rendered plan...
    <!-- reconciler:plan-record v1 instance=default sha256=<hex> data=<base64 zlib JSON> -->

On push to the default branch, apply re-plans, finds the merged pull request of the pushed commit
and its plan comment, and compares (``check_plan_against_review``). Only comments by the plan
comment's author are read (``GitHubContext.comment_author``), and only those two lines of them:
the rendered plan between them quotes the pull request's text, escaped by the renderer, but even
a ``<!-- reconciler:... -->`` it held verbatim would not be taken for either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reconciler.errors import GitHubError
from reconciler.github._body import (
    BODY_LIMIT,
    first_line,
    fit,
    plan_marker,
    strip_leading_marker,
)
from reconciler.github._client import Comment, GitHubClient, PullRequest
from reconciler.github._context import DEFAULT_COMMENT_AUTHOR, GitHubContext
from reconciler.github._record import RecordedPlan, compare_with_recorded, parse_plan_record, plan_record
from reconciler.plan.model import Plan


class PlanMismatchError(GitHubError):
    """The plan apply would carry out is not the one reviewed on the pull request."""

    def __init__(self, message: str, *, differences: tuple[str, ...]) -> None:
        super().__init__(message)
        self.differences = differences


# -- the comment ----------------------------------------------------------------------------


def plan_comment_body(
    markdown: str, *, marker: str, plan: Plan | None = None, limit: int = BODY_LIMIT
) -> str:
    """``marker`` first, the markdown (fitted), then the plan record: at most ``limit`` characters."""
    head = marker + "\n"
    tail = "\n" + plan_record(plan) + "\n" if plan is not None else ""
    text = strip_leading_marker(markdown).rstrip("\n") + "\n"
    return head + fit(text, limit - len(head) - len(tail)) + tail


def _has_marker(body: str, marker: str) -> bool:
    return first_line(body) == marker


@dataclass(frozen=True, slots=True)
class PublishedComment:
    action: Literal["created", "updated", "unchanged"]
    url: str
    comment_id: int

    def __str__(self) -> str:
        return f"{self.action} {self.url}"


def find_plan_comment(
    client: GitHubClient, pr_number: int, *, marker: str, author: str = DEFAULT_COMMENT_AUTHOR
) -> Comment | None:
    """The first comment by ``author`` on the pull request whose first line is ``marker``.

    Anyone who can comment can write the marker: a comment by someone else is neither edited nor
    read back as the reviewed plan."""
    return next(
        (
            c
            for c in client.iter_issue_comments(pr_number)
            if c.user == author and _has_marker(c.body, marker)
        ),
        None,
    )


def publish_plan_comment(
    context: GitHubContext,
    markdown: str,
    *,
    marker: str,
    client: GitHubClient,
    plan: Plan | None = None,
    pr_number: int | None = None,
) -> PublishedComment:
    """Edit this instance's plan comment on the pull request in place, or create it the first time.

    ``marker`` is ``plan_marker(instance)``; ``plan`` is recorded (its fingerprint) in the
    comment for the merge-time check. ``pr_number`` defaults to the event's pull request.
    """
    number = pr_number if pr_number is not None else context.require_pull_request()
    body = plan_comment_body(markdown, marker=marker, plan=plan)
    existing = find_plan_comment(client, number, marker=marker, author=context.comment_author)
    if existing is None:
        created = client.create_issue_comment(number, body)
        return PublishedComment("created", created.html_url, created.id)
    if existing.body == body:
        return PublishedComment("unchanged", existing.html_url, existing.id)
    updated = client.update_issue_comment(existing.id, body)
    return PublishedComment("updated", updated.html_url or existing.html_url, existing.id)


# -- merge-time check -----------------------------------------------------------------------


def pull_request_for_push(context: GitHubContext, client: GitHubClient) -> PullRequest | None:
    """The pull request merged as the pushed commit (GITHUB_SHA), or None for a direct push."""
    sha = context.require_sha()
    pulls = client.pulls_for_commit(sha)
    for pull in pulls:
        if pull.merged_at and pull.merge_commit_sha == sha:
            return pull
    merged = [pull for pull in pulls if pull.merged_at]
    return merged[0] if merged else None


def find_recorded_plan(
    context: GitHubContext, client: GitHubClient, pr_number: int | None = None, *, instance: str
) -> RecordedPlan | None:
    """The plan recorded in ``instance``'s comment on the pull request (default: the one merged as
    GITHUB_SHA); None when there is no such pull request, comment or record."""
    if pr_number is None:
        pull = pull_request_for_push(context, client)
        if pull is None:
            return None
        pr_number = pull.number
    comment = find_plan_comment(
        client, pr_number, marker=plan_marker(instance), author=context.comment_author
    )
    if comment is None:
        return None
    recorded = parse_plan_record(comment.body)
    if recorded is None:
        return None
    return RecordedPlan(
        instance=recorded.instance,
        digest=recorded.digest,
        entries=recorded.entries,
        pr_number=pr_number,
        comment_url=comment.html_url,
    )


@dataclass(frozen=True, slots=True)
class ReviewCheck:
    """The outcome of comparing apply's plan with the reviewed one."""

    status: Literal["match", "mismatch", "no-pull-request", "no-recorded-plan"]
    message: str
    pr_number: int | None = None
    differences: tuple[str, ...] = ()


def check_plan_against_review(
    context: GitHubContext,
    client: GitHubClient,
    plan: Plan,
    *,
    instance: str,
    proceed: bool = False,
) -> ReviewCheck:
    """Compare ``plan`` with the one recorded on the pull request merged as GITHUB_SHA.

    Raises ``PlanMismatchError`` (listing the differences) when they differ, unless ``proceed``.
    A push without a pull request, or a pull request without a recorded plan, is not an error:
    the returned ``ReviewCheck`` says so and the caller logs it.
    """
    pull = pull_request_for_push(context, client)
    if pull is None:
        return ReviewCheck(
            "no-pull-request", f"commit {context.require_sha()[:12]} was not merged from a pull request"
        )
    recorded = find_recorded_plan(context, client, pull.number, instance=instance)
    if recorded is None:
        return ReviewCheck(
            "no-recorded-plan",
            f"pull request #{pull.number} has no recorded plan for instance {instance}",
            pull.number,
        )
    differences = tuple(compare_with_recorded(recorded, plan))
    if not differences:
        return ReviewCheck("match", f"the plan matches the one reviewed on #{pull.number}", pull.number)
    listed = "\n".join(f"  - {line}" for line in differences)
    where = recorded.comment_url or pull.html_url or f"#{pull.number}"
    message = f"the plan differs from the one reviewed on pull request #{pull.number} ({where}):\n{listed}"
    if not proceed:
        raise PlanMismatchError(
            message + "\nre-run plan on a new pull request, or set proceed-on-plan-mismatch to apply anyway",
            differences=differences,
        )
    return ReviewCheck("mismatch", message + "\nproceeding as configured", pull.number, differences)
