"""The sticky plan comment: one per pull request and instance, edited in place, under GitHub's limit."""

from __future__ import annotations

import pytest

from reconciler.github import (
    BODY_LIMIT,
    GitHubClient,
    GitHubContext,
    find_plan_comment,
    plan_comment_body,
    plan_marker,
    publish_plan_comment,
)
from reconciler.plan.model import Action, FieldChange, Plan
from reconciler.render.plan import render_markdown
from tests.github.conftest import PR_NUMBER, TOKEN, empty_plan, sample_plan, workflow
from tests.github.fake_github import FakeGitHub


def publish(context: GitHubContext, client: GitHubClient, plan: Plan) -> str:
    marker = plan_marker(plan.instance)
    result = publish_plan_comment(
        context, render_markdown(plan, marker=marker), marker=marker, client=client, plan=plan
    )
    return result.action


def marked(github: FakeGitHub, instance: str = "default") -> list[dict[str, object]]:
    return [c for c in github.comments.get(PR_NUMBER, []) if str(c["body"]).startswith(plan_marker(instance))]


def test_repeated_plans_keep_one_comment_updated_in_place(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    """The first plan creates the comment; later plans edit that same comment with new content."""
    assert publish(context, client, sample_plan(prefix="/in/v2")) == "created"
    first = marked(github)
    assert len(first) == 1
    assert "/in/v2" in str(first[0]["body"])

    assert publish(context, client, sample_plan(prefix="/in/v3")) == "updated"
    assert publish(context, client, empty_plan()) == "updated"

    comments = marked(github)
    assert len(comments) == 1
    assert comments[0]["id"] == first[0]["id"]
    assert "No changes. The tenant matches the manifests." in str(comments[0]["body"])
    assert "/in/v3" not in str(comments[0]["body"])
    writes = [(r.method, r.path) for r in github.writes()]
    comment_path = f"/repos/acme/data-platform/issues/comments/{first[0]['id']}"
    assert writes == [
        ("POST", f"/repos/acme/data-platform/issues/{PR_NUMBER}/comments"),
        ("PATCH", comment_path),
        ("PATCH", comment_path),
    ]


def test_the_same_plan_again_makes_no_edit(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    assert publish(context, client, sample_plan()) == "created"
    assert publish(context, client, sample_plan()) == "unchanged"
    assert len(github.writes()) == 1


def test_marker_is_found_on_a_later_page(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    """Comments are paged through the Link header; the search stops at the page holding the marker."""
    github.max_per_page = 3
    for n in range(4):
        github.add_comment(PR_NUMBER, f"review remark {n}")
    assert publish(context, client, sample_plan()) == "created"  # the 5th comment: page 2
    for n in range(4):
        github.add_comment(PR_NUMBER, f"later remark {n}")  # pages 3 and 4

    github.requests.clear()
    assert publish(context, client, sample_plan(prefix="/in/v9")) == "updated"

    gets = [r for r in github.requests if r.method == "GET"]
    assert [r.query.get("page", "1") for r in gets] == ["1", "2"]
    assert gets[0].query["per_page"] == "100"
    assert len(marked(github)) == 1
    assert len(github.comments[PR_NUMBER]) == 9
    assert "/in/v9" in str(marked(github)[0]["body"])


def test_each_instance_keeps_its_own_comment(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    assert publish(context, client, sample_plan("default")) == "created"
    assert publish(context, client, sample_plan("staging")) == "created"
    assert publish(context, client, empty_plan("staging")) == "updated"
    assert publish(context, client, sample_plan("default")) == "unchanged"

    assert len(marked(github, "default")) == 1
    assert len(marked(github, "staging")) == 1
    assert "No changes" in str(marked(github, "staging")[0]["body"])
    assert "No changes" not in str(marked(github, "default")[0]["body"])


def test_a_marker_quoted_later_in_a_comment_is_not_taken_for_ours(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    github.add_comment(PR_NUMBER, f"why does the bot write\n{plan_marker('default')}\n?")
    assert publish(context, client, sample_plan()) == "created"
    found = find_plan_comment(client, PR_NUMBER, marker=plan_marker("default"))
    assert found is not None
    assert found.user == "github-actions[bot]"


def test_the_comment_summarises_first_and_collapses_details(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    publish(context, client, sample_plan())
    body = str(marked(github)[0]["body"])
    lines = body.splitlines()
    assert lines[0] == plan_marker("default")
    assert lines[1].startswith("### reconciler plan")
    assert "**Plan: 1 to create, 1 to update, 1 to rerun, 0 to archive.**" in lines[:5]
    assert "<details><summary><code>AssetImport.snowflake-assets</code>" in body
    assert lines[-1].startswith("<!-- reconciler:plan-record v1 instance=default sha256=")
    assert body.count("<!-- reconciler:plan") == 2  # the renderer's own marker is not repeated


def test_a_plan_too_long_for_one_comment_is_truncated_with_a_note(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    """GitHub refuses bodies over 65,536 characters; the comment keeps the summary and says it was cut."""
    long_value = "x" * 110
    items = tuple(
        workflow(
            f"wf-{n:04d}",
            Action.UPDATE,
            changes=tuple(
                FieldChange("change", ("parameters", f"p{k}"), long_value, long_value + "y") for k in range(8)
            ),
        )
        for n in range(150)
    )
    plan = Plan(instance="default", items=items)
    marker = plan_marker("default")
    markdown = render_markdown(plan, marker=marker, limit=10**7)
    assert len(markdown) > BODY_LIMIT

    result = publish_plan_comment(context, markdown, marker=marker, client=client, plan=plan)

    assert result.action == "created"
    body = str(marked(github)[0]["body"])
    assert len(body) <= BODY_LIMIT
    assert "**Plan: 0 to create, 150 to update, 0 to rerun, 0 to archive.**" in body
    assert "_Truncated:" in body
    assert body.count("<details>") == body.count("</details>")
    assert body.count("```") % 2 == 0
    assert "sha256=" in body.splitlines()[-1]


@pytest.mark.parametrize("size", [BODY_LIMIT - 500, BODY_LIMIT, BODY_LIMIT + 1, 3 * BODY_LIMIT])
def test_bodies_never_exceed_the_limit(size: int) -> None:
    markdown = "```diff\n" + "\n".join("+ line" for _ in range(size // 7)) + "\n```\n"
    body = plan_comment_body(markdown, marker=plan_marker("default"), plan=sample_plan())
    assert len(body) <= BODY_LIMIT


def test_the_token_appears_only_in_the_authorization_header(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    publish(context, client, sample_plan())
    publish(context, client, sample_plan(prefix="/other"))
    assert github.requests
    for request in github.requests:
        assert TOKEN not in request.body
        assert TOKEN not in request.path
        assert TOKEN not in str(request.query)
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert all(TOKEN not in value for key, value in request.headers.items() if key != "authorization")
    assert TOKEN not in repr(context)
    assert TOKEN not in repr(client)


def test_pr_number_defaults_to_the_event_and_can_be_given(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    github.add_pull_request(77)
    marker = plan_marker("default")
    result = publish_plan_comment(context, "hello", marker=marker, client=client, pr_number=77)
    assert result.action == "created"
    assert result.url.endswith(f"/pull/77#issuecomment-{result.comment_id}")
    assert str(result).startswith("created https://github.com/acme/data-platform/pull/77")
    assert PR_NUMBER not in github.comments
