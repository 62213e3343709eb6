"""The sticky plan comment on a pull request, and the merge-time check against it.

The comment's first line is a hidden marker naming the instance, so each instance keeps exactly
one comment per pull request, edited in place on every plan. Its last line is a hidden record of
the plan: a digest of the normalised plan (addresses, actions and field changes; volatile fields
such as resourceVersions and credential digests left out) and, when it fits, a compact per-address
summary so a mismatch can be described rather than only detected::

    <!-- reconciler:plan instance=default -->
    ...the rendered plan...
    <!-- reconciler:plan-record v1 instance=default sha256=<hex> data=<base64 zlib JSON> -->

On push to the default branch, apply re-plans, finds the merged pull request of the pushed commit
and its plan comment, and compares (``check_plan_against_review``).

Only those two lines are read back: the marker must be the comment's first line and the record
its last, whole. The rendered plan between them quotes the pull request's text, escaped by the
renderer, but even a ``<!-- reconciler:... -->`` it held verbatim would not be taken for either.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from reconciler.errors import GitHubError
from reconciler.github._body import (
    BODY_LIMIT,
    first_line,
    fit,
    last_line,
    plan_marker,
    safe_instance,
    strip_leading_marker,
)
from reconciler.github._client import Comment, GitHubClient, PullRequest
from reconciler.github._context import DEFAULT_COMMENT_AUTHOR, GitHubContext
from reconciler.plan.normalise import CREDENTIAL_DIGEST_ANNOTATION, LAST_RUN_ANNOTATION

RECORD_VERSION = "v1"
# Keys whose values change without anything the reviewer should care about changing.
VOLATILE_KEYS = frozenset(
    {
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "managedFields",
        "generation",
        "selfLink",
        CREDENTIAL_DIGEST_ANNOTATION,
        LAST_RUN_ANNOTATION,
    }
)
# The per-address part of the record is left out beyond this size (the digest is always kept).
RECORD_DATA_LIMIT = 20_000
_RECORD = re.compile(
    r"<!-- reconciler:plan-record (?P<version>v\d+) instance=(?P<instance>\S+) "
    r"sha256=(?P<digest>[0-9a-f]{64})(?: data=(?P<data>[A-Za-z0-9+/=]+))? -->"
)


class PlanMismatchError(GitHubError):
    """The plan apply would carry out is not the one reviewed on the pull request."""

    def __init__(self, message: str, *, differences: tuple[str, ...]) -> None:
        super().__init__(message)
        self.differences = differences


# -- normalising and fingerprinting ---------------------------------------------------------


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _without_volatile(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _without_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list | tuple):
        return [_without_volatile(v) for v in value]
    return value


def normalised_plan(plan: Mapping[str, Any]) -> dict[str, Any]:
    """What a reviewer approves in a plan (``plan_as_dict`` form): per address the actions and the
    field changes, without no-ops, ordering or volatile fields."""
    workflows: dict[str, Any] = {}
    for item in plan.get("workflows") or ():
        actions = sorted(str(a) for a in item.get("actions") or () if a != "no-op")
        if not actions:
            continue
        changes = []
        for change in item.get("changes") or ():
            path = [str(part) for part in change.get("path") or ()]
            if any(part in VOLATILE_KEYS for part in path):
                continue
            changes.append(
                {
                    "op": str(change.get("op")),
                    "path": ".".join(path),
                    "old": _without_volatile(change.get("old")),
                    "new": _without_volatile(change.get("new")),
                }
            )
        if "create" in actions and item.get("after") is not None:
            # A create has no field changes; what is reviewed is the whole workflow it makes.
            changes.append(
                {"op": "create", "path": "workflow", "old": None, "new": _without_volatile(item["after"])}
            )
        changes.sort(key=lambda c: (c["path"], c["op"], _dumps(c)))
        workflows[str(item.get("address"))] = {"actions": actions, "changes": changes}
    return {"instance": str(plan.get("instance") or "default"), "workflows": workflows}


def plan_fingerprint(plan: Mapping[str, Any]) -> str:
    """sha256 of the normalised plan: equal exactly when a reviewer would see the same changes."""
    return hashlib.sha256(_dumps(normalised_plan(plan)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RecordedEntry:
    actions: tuple[str, ...]
    changes: dict[tuple[str, str], str]  # (op, dotted path) -> short digest of (old, new)


def _value_digest(change: Mapping[str, Any]) -> str:
    return hashlib.sha256(_dumps([change["old"], change["new"]]).encode()).hexdigest()[:12]


def _entries(normalised: Mapping[str, Any]) -> dict[str, RecordedEntry]:
    return {
        address: RecordedEntry(
            actions=tuple(entry["actions"]),
            changes={(c["op"], c["path"]): _value_digest(c) for c in entry["changes"]},
        )
        for address, entry in normalised["workflows"].items()
    }


def plan_record(plan: Mapping[str, Any]) -> str:
    """The hidden HTML comment that records ``plan`` in the PR comment."""
    normalised = normalised_plan(plan)
    digest = hashlib.sha256(_dumps(normalised).encode()).hexdigest()
    compact = {
        address: {"a": list(entry.actions), "c": [[op, path, h] for (op, path), h in entry.changes.items()]}
        for address, entry in _entries(normalised).items()
    }
    data = base64.b64encode(zlib.compress(_dumps(compact).encode(), 9)).decode()
    instance = safe_instance(normalised["instance"])
    head = f"<!-- reconciler:plan-record {RECORD_VERSION} instance={instance} sha256={digest}"
    return f"{head} data={data} -->" if len(data) <= RECORD_DATA_LIMIT else f"{head} -->"


@dataclass(frozen=True)
class RecordedPlan:
    """A plan as recorded in a pull request's plan comment."""

    instance: str
    digest: str
    entries: dict[str, RecordedEntry] | None  # None when the record kept only the digest
    pr_number: int | None = None
    comment_url: str | None = None


def parse_plan_record(body: str) -> RecordedPlan | None:
    """The record in a comment body (its whole last line), or None when there is none (or it is
    unreadable). A record-like text anywhere else in the body is not read."""
    match = _RECORD.fullmatch(last_line(body))
    if match is None or match["version"] != RECORD_VERSION:
        return None
    entries: dict[str, RecordedEntry] | None = None
    if match["data"]:
        try:
            compact = json.loads(zlib.decompress(base64.b64decode(match["data"], validate=True)))
            entries = {
                str(address): RecordedEntry(
                    actions=tuple(str(a) for a in entry["a"]),
                    changes={(str(op), str(path)): str(h) for op, path, h in entry["c"]},
                )
                for address, entry in compact.items()
            }
        except (binascii.Error, zlib.error, ValueError, KeyError, TypeError):
            entries = None
    return RecordedPlan(instance=match["instance"], digest=match["digest"], entries=entries)


def _short(value: Any) -> str:
    text = _dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _actions(actions: tuple[str, ...] | list[str]) -> str:
    return ", ".join(actions)


def compare_with_recorded(recorded: RecordedPlan, plan: Mapping[str, Any]) -> list[str]:
    """What differs between the reviewed plan and ``plan``, one readable line each; [] when equal."""
    normalised = normalised_plan(plan)
    if hashlib.sha256(_dumps(normalised).encode()).hexdigest() == recorded.digest:
        return []
    differences: list[str] = []
    instance = safe_instance(normalised["instance"])
    if recorded.instance != instance:
        differences.append(f"the reviewed plan is for instance {recorded.instance}, this one for {instance}")
    if recorded.entries is None:
        differences.append(
            "the plan differs from the reviewed one (only its digest was recorded: it was too large "
            "to record in full)"
        )
        return differences
    now = _entries(normalised)
    current = normalised["workflows"]
    for address in sorted(set(recorded.entries) | set(now)):
        before, after = recorded.entries.get(address), now.get(address)
        if after is None:
            if before is not None:
                differences.append(
                    f"{address}: the reviewed plan would {_actions(before.actions)}; now nothing to do"
                )
            continue
        if before is None:
            differences.append(
                f"{address}: now {_actions(after.actions)}; the reviewed plan left it unchanged"
            )
            continue
        if before.actions != after.actions:
            differences.append(
                f"{address}: reviewed as {_actions(before.actions)}, now {_actions(after.actions)}"
            )
        values = {(c["op"], c["path"]): c for c in current[address]["changes"]}
        for key in sorted(set(before.changes) | set(after.changes)):
            op, path = key
            if key not in before.changes:
                change = values[key]
                differences.append(
                    f"{address}: {path}: {op} not in the reviewed plan "
                    f"({_short(change['old'])} -> {_short(change['new'])})"
                )
            elif key not in after.changes:
                differences.append(f"{address}: {path}: the reviewed {op} is no longer planned")
            elif before.changes[key] != after.changes[key]:
                change = values[key]
                differences.append(
                    f"{address}: {path}: now {_short(change['old'])} -> {_short(change['new'])}, "
                    "not the values reviewed"
                )
    if not differences:
        differences.append("the plan differs from the reviewed one in a way its record does not show")
    return differences


# -- the comment ----------------------------------------------------------------------------


def plan_comment_body(
    markdown: str, *, marker: str, plan: Mapping[str, Any] | None = None, limit: int = BODY_LIMIT
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
    plan: Mapping[str, Any] | None = None,
    pr_number: int | None = None,
) -> PublishedComment:
    """Edit this instance's plan comment on the pull request in place, or create it the first time.

    ``marker`` is ``plan_marker(instance)``; ``plan`` (``plan_as_dict`` form) is recorded in the
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
    plan: Mapping[str, Any],
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
