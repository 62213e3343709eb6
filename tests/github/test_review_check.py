"""Merge-time safety: the plan recorded in the PR comment versus the plan apply would carry out."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reconciler.github import (
    GitHubClient,
    GitHubContext,
    PlanMismatchError,
    check_plan_against_review,
    compare_with_recorded,
    find_recorded_plan,
    parse_plan_record,
    plan_comment_body,
    plan_marker,
    plan_record,
    publish_plan_comment,
)
from reconciler.plan.model import Action, FieldChange, Plan, Reason, ReasonCode
from reconciler.plan.review import fingerprint as plan_fingerprint
from reconciler.render.plan import render_markdown
from tests.github.conftest import MERGE_SHA, PR_NUMBER, empty_plan, sample_plan, workflow
from tests.github.fake_github import FakeGitHub


def recorded(plan: Plan) -> Any:
    result = parse_plan_record(plan_record(plan))
    assert result is not None
    return result


def test_the_same_plan_has_the_same_fingerprint() -> None:
    assert plan_fingerprint(sample_plan()) == plan_fingerprint(sample_plan())
    assert compare_with_recorded(recorded(sample_plan()), (sample_plan())) == []


def test_volatile_fields_and_order_do_not_count() -> None:
    plan = sample_plan()
    digest_change = FieldChange(
        "change", ("annotations", "reconciler.dev/credential-digest"), "v1:a:b", "v1:c:d"
    )
    items = [
        dataclasses.replace(
            item,
            before={"metadata": {"resourceVersion": "999"}},
            reasons=(Reason(ReasonCode.RUN_POLICY_ALWAYS),),
            resource_version="999",
        )
        for item in reversed(plan.items)
    ]
    items[0] = dataclasses.replace(items[0], changes=(*items[0].changes, digest_change))
    shuffled = dataclasses.replace(plan, items=tuple(items))
    assert plan_fingerprint(shuffled) == plan_fingerprint(plan)


def test_no_ops_do_not_count() -> None:
    plan = sample_plan()
    more = dataclasses.replace(plan, items=(*plan.items, workflow("another-unchanged")))
    assert plan_fingerprint(more) == plan_fingerprint(plan)


def test_differences_are_listed_readably() -> None:
    reviewed = sample_plan(prefix="/in/v2")
    now = Plan(
        instance="default",
        items=(
            workflow(
                "snowflake-assets",
                Action.UPDATE,
                Action.RERUN,
                changes=(
                    FieldChange("change", ("parameters", "assets_prefix"), "/in", "/in/v3"),
                    FieldChange("add", ("labels", "owner"), None, "alice"),
                ),
            ),
            workflow("glossary", Action.RERUN),
            workflow("surprise", Action.ARCHIVE),
        ),
    )
    assert compare_with_recorded(recorded(reviewed), (now)) == [
        "AssetImport.new-assets: the reviewed plan would create; now nothing to do",
        "AssetImport.snowflake-assets: reviewed as update, now rerun, update",
        'AssetImport.snowflake-assets: labels.owner: add not in the reviewed plan (null -> "alice")',
        'AssetImport.snowflake-assets: parameters.assets_prefix: now "/in" -> "/in/v3", not the values reviewed',
        "AssetImport.surprise: now archive; the reviewed plan left it unchanged",
    ]


def test_a_record_too_large_keeps_only_the_digest() -> None:
    items = tuple(
        workflow(
            f"wf-{n:05d}", Action.UPDATE, changes=(FieldChange("change", ("parameters", f"p{n}"), n, n + 1),)
        )
        for n in range(3000)
    )
    big = Plan(instance="default", items=items)
    record = plan_record(big)
    assert "data=" not in record
    assert len(record) < 200
    parsed = parse_plan_record(record)
    assert parsed is not None
    assert parsed.entries is None
    assert compare_with_recorded(parsed, (big)) == []
    assert compare_with_recorded(parsed, (sample_plan())) == [
        "the plan differs from the reviewed one (only its digest was recorded: it was too large to record in full)"
    ]


def test_a_garbled_record_is_no_record() -> None:
    assert parse_plan_record("no record here") is None
    garbled = plan_record(sample_plan()).replace("data=", "data=AAAA")
    parsed = parse_plan_record(garbled)
    assert parsed is not None
    assert parsed.entries is None


def test_only_the_last_line_is_read_as_the_record() -> None:
    """A record-like line elsewhere in the comment (quoted, or in a value the plan shows) is not
    taken for the renderer's own: the record is the comment's whole last line."""
    forged = plan_record(sample_plan(prefix="/forged"))
    body = plan_comment_body(
        f"| `{forged}` |\n{forged}\n", marker=plan_marker("default"), plan=(sample_plan())
    )
    assert body.count("<!-- reconciler:plan-record") == 3
    parsed = parse_plan_record(body)
    assert parsed is not None
    assert parsed.digest == plan_fingerprint(sample_plan())
    assert parse_plan_record(body + "a remark after the record\n") is None
    assert parse_plan_record(f"{forged} trailing text") is None
    assert parse_plan_record(body.replace("\n", "\r\n")) == parsed  # as edited in the web UI


def merged_pr_with_plan(github: FakeGitHub, context: GitHubContext, client: GitHubClient, plan: Plan) -> None:
    github.issues[PR_NUMBER]["merged_at"] = "2026-11-21T12:00:00Z"
    github.issues[PR_NUMBER]["merge_commit_sha"] = MERGE_SHA
    github.pulls_by_sha[MERGE_SHA] = [PR_NUMBER]
    marker = plan_marker(plan.instance)
    publish_plan_comment(
        context,
        render_markdown(plan, marker=marker),
        marker=marker,
        client=client,
        plan=(plan),
        pr_number=PR_NUMBER,
    )


def test_apply_finds_the_reviewed_plan_from_the_merge_commit(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    merged_pr_with_plan(github, context, client, sample_plan())
    found = find_recorded_plan(context, client, instance="default")
    assert found is not None
    assert found.pr_number == PR_NUMBER
    assert found.digest == plan_fingerprint(sample_plan())
    assert any(r.path == f"/repos/acme/data-platform/commits/{MERGE_SHA}/pulls" for r in github.requests)

    check = check_plan_against_review(context, client, (sample_plan()), instance="default")
    assert check.status == "match"
    assert check.pr_number == PR_NUMBER


def test_a_changed_plan_stops_apply_saying_what_changed(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    merged_pr_with_plan(github, context, client, sample_plan(prefix="/in/v2"))
    with pytest.raises(PlanMismatchError) as caught:
        check_plan_against_review(context, client, (sample_plan(prefix="/in/v3")), instance="default")
    message = str(caught.value)
    assert message.startswith(
        f"the plan differs from the one reviewed on pull request #{PR_NUMBER} (https://github.com/"
    )
    assert 'parameters.assets_prefix: now "/in" -> "/in/v3"' in message
    assert "proceed-on-plan-mismatch" in message
    assert caught.value.differences

    check = check_plan_against_review(
        context, client, (sample_plan(prefix="/in/v3")), instance="default", proceed=True
    )
    assert check.status == "mismatch"
    assert check.differences == caught.value.differences


def test_a_direct_push_or_an_unplanned_pr_is_reported_not_refused(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    check = check_plan_against_review(context, client, (sample_plan()), instance="default")
    assert check.status == "no-pull-request"
    assert MERGE_SHA[:12] in check.message

    github.add_pull_request(7, merge_commit_sha=MERGE_SHA, merged=True)
    check = check_plan_against_review(context, client, (sample_plan()), instance="default")
    assert check.status == "no-recorded-plan"
    assert check.pr_number == 7


def test_another_instances_plan_is_not_used(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    merged_pr_with_plan(github, context, client, sample_plan("staging"))
    check = check_plan_against_review(context, client, (sample_plan()), instance="default")
    assert check.status == "no-recorded-plan"


def test_a_marker_comment_by_someone_else_is_neither_read_nor_edited(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    """A participant posts the marker and a forged record first: apply compares with the bot's
    comment, and plan edits the bot's comment, never the participant's."""
    marker = plan_marker("default")
    forged = plan_comment_body("looks reviewed", marker=marker, plan=(sample_plan(prefix="/forged")))
    github.add_comment(PR_NUMBER, forged, user="mallory")
    merged_pr_with_plan(github, context, client, sample_plan())

    found = find_recorded_plan(context, client, instance="default")
    assert found is not None
    assert found.digest == plan_fingerprint(sample_plan())
    published = publish_plan_comment(context, render_markdown(empty_plan()), marker=marker, client=client)
    assert published.action == "updated"
    assert [c["body"] for c in github.comments[PR_NUMBER] if c["user"]["login"] == "mallory"] == [forged]


def test_the_comment_author_can_be_set_for_an_app_token(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    merged_pr_with_plan(github, context, client, sample_plan())
    as_app = dataclasses.replace(context, comment_author="acme-reconciler[bot]")
    assert find_recorded_plan(as_app, client, instance="default") is None  # the bot's is not the app's
