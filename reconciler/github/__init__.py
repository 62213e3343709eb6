"""GitHub Actions integration: the sticky plan comment, the drift issue and the job summary.

Everything reads the standard Actions environment through ``GitHubContext.from_environ`` and
talks to GitHub's REST API through ``GitHubClient`` (httpx, synchronous, transport injectable).
Failures are ``reconciler.errors.GitHubError`` with one clear line; the token never appears in
a message, a repr or a log line.

Typical use from a command::

    context = GitHubContext.from_environ(os.environ)
    with GitHubClient(context) as client:
        publish_plan_comment(context, markdown, marker=plan_marker(instance), client=client,
                             plan=plan)
    write_step_summary(context, markdown)
"""

from reconciler.errors import GitHubError
from reconciler.github._body import (
    BODY_LIMIT,
    TRUNCATION_NOTE,
    drift_marker,
    fit,
    plan_marker,
)
from reconciler.github._client import Comment, GitHubClient, Issue, PullRequest
from reconciler.github._context import GitHubContext
from reconciler.github._drift import DRIFT_LABEL, DriftIssueResult, drift_issue_body, sync_drift_issue
from reconciler.github._plan import (
    PlanMismatchError,
    PublishedComment,
    ReviewCheck,
    check_plan_against_review,
    find_plan_comment,
    find_recorded_plan,
    plan_comment_body,
    publish_plan_comment,
    pull_request_for_push,
)
from reconciler.github._record import RecordedPlan, compare_with_recorded, parse_plan_record, plan_record
from reconciler.github._summary import write_step_summary

__all__ = [
    "BODY_LIMIT",
    "DRIFT_LABEL",
    "TRUNCATION_NOTE",
    "Comment",
    "DriftIssueResult",
    "GitHubClient",
    "GitHubContext",
    "GitHubError",
    "Issue",
    "PlanMismatchError",
    "PublishedComment",
    "PullRequest",
    "RecordedPlan",
    "ReviewCheck",
    "check_plan_against_review",
    "compare_with_recorded",
    "drift_issue_body",
    "drift_marker",
    "find_plan_comment",
    "find_recorded_plan",
    "fit",
    "parse_plan_record",
    "plan_comment_body",
    "plan_marker",
    "plan_record",
    "publish_plan_comment",
    "pull_request_for_push",
    "sync_drift_issue",
    "write_step_summary",
]
