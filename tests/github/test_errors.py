"""Clear one-line errors: a missing Actions variable, a refused token, a denied write, no answer."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import httpx
import pytest
import stamina

from reconciler.errors import GitHubError, ReconcilerError
from reconciler.github import GitHubClient, GitHubContext, plan_marker, publish_plan_comment, sync_drift_issue
from tests.github.conftest import PR_NUMBER, TOKEN, actions_environ
from tests.github.fake_github import FakeGitHub


@pytest.mark.parametrize("name", ["GITHUB_REPOSITORY", "GITHUB_TOKEN"])
def test_a_missing_variable_is_named(environ: dict[str, str], name: str) -> None:
    del environ[name]
    context = GitHubContext.from_environ(environ)
    with pytest.raises(GitHubError, match=rf"^{name} is not set: ") as caught:
        GitHubClient(context)
    assert "\n" not in str(caught.value)


def test_an_empty_variable_counts_as_missing(environ: dict[str, str]) -> None:
    environ["GITHUB_TOKEN"] = "  "
    with pytest.raises(GitHubError, match="GITHUB_TOKEN is not set"):
        GitHubClient(GitHubContext.from_environ(environ))


def test_without_an_event_the_pull_request_is_unknown(environ: dict[str, str], github: FakeGitHub) -> None:
    del environ["GITHUB_EVENT_PATH"]
    context = GitHubContext.from_environ(environ)
    with GitHubClient(context) as client, pytest.raises(GitHubError, match=r"^GITHUB_EVENT_PATH is not set"):
        publish_plan_comment(context, "x", marker=plan_marker("default"), client=client)
    assert github.requests == []


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"ref": "refs/heads/main", "after": "abc"}, "has no pull request number"),
        (None, "does not hold JSON"),
        ([1, 2], "does not hold a JSON object"),
    ],
)
def test_an_event_without_a_pull_request(
    environ: dict[str, str], tmp_path: Path, event: object, message: str
) -> None:
    path = Path(environ["GITHUB_EVENT_PATH"])
    path.write_text("{not json" if event is None else json.dumps(event))
    with pytest.raises(GitHubError, match=message):
        GitHubContext.from_environ(environ).require_pull_request()


def test_an_unreadable_event_file(environ: dict[str, str], tmp_path: Path) -> None:
    environ["GITHUB_EVENT_PATH"] = str(tmp_path / "missing.json")
    with pytest.raises(GitHubError, match="cannot read GITHUB_EVENT_PATH"):
        GitHubContext.from_environ(environ).require_pull_request()


@pytest.mark.parametrize(
    ("event", "number"),
    [
        ({"pull_request": {"number": 5}, "number": 5}, 5),
        ({"issue": {"number": 6, "pull_request": {}}}, 6),
        ({"number": 8, "action": "synchronize"}, 8),
    ],
)
def test_the_pull_request_number_comes_from_the_event(
    environ: dict[str, str], event: dict[str, object], number: int
) -> None:
    Path(environ["GITHUB_EVENT_PATH"]).write_text(json.dumps(event))
    assert GitHubContext.from_environ(environ).require_pull_request() == number


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GITHUB_REPOSITORY", "just-a-name", "GITHUB_REPOSITORY must look like owner/repo"),
        ("GITHUB_API_URL", "ftp://example", "GITHUB_API_URL must be an http"),
    ],
)
def test_malformed_variables(environ: dict[str, str], name: str, value: str, message: str) -> None:
    environ[name] = value
    with pytest.raises(GitHubError, match=message):
        GitHubContext.from_environ(environ)


def test_defaults_outside_actions() -> None:
    context = GitHubContext.from_environ({})
    assert context.api_url == "https://api.github.com"
    assert context.step_summary is None
    assert context.run_url is None
    with pytest.raises(GitHubError, match="GITHUB_SHA is not set"):
        context.require_sha()


def test_a_refused_token_is_one_clear_line(
    github: FakeGitHub, environ: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "ghs_revokedTOKEN9876543210zyxwvutsrqpo"
    environ["GITHUB_TOKEN"] = wrong
    context = GitHubContext.from_environ(environ)
    caplog.set_level(logging.DEBUG)
    with GitHubClient(context) as client, pytest.raises(GitHubError) as caught:
        publish_plan_comment(context, "x", marker=plan_marker("default"), client=client)
    message = str(caught.value)
    url = f"{github.base_url}/repos/acme/data-platform/issues/{PR_NUMBER}/comments"
    assert message.startswith(f"GitHub refused the token (401) for {url}")
    assert "\n" not in message
    assert caught.value.status == 401
    assert isinstance(caught.value, ReconcilerError)
    assert caught.value.__cause__ is None
    for secret in (wrong, TOKEN):
        assert secret not in message
        assert secret not in caplog.text
    assert github.requests[0].headers["authorization"] == f"Bearer {wrong}"


def test_a_read_only_token_is_told_which_permission_it_lacks(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    github.read_only = True
    with pytest.raises(GitHubError) as caught:
        publish_plan_comment(context, "x", marker=plan_marker("default"), client=client)
    message = str(caught.value)
    assert caught.value.status == 403
    assert "GitHub denied POST" in message
    assert "Resource not accessible by integration" in message
    assert "permissions: pull-requests: write" in message


def test_the_drift_issue_needs_issues_write(
    github: FakeGitHub, context: GitHubContext, client: GitHubClient
) -> None:
    github.read_only = True
    with pytest.raises(GitHubError, match="permissions: issues: write"):
        sync_drift_issue(context, drifted=True, title="Drift", body_markdown="x", client=client)


def test_an_unknown_repository_is_a_404(github: FakeGitHub, environ: dict[str, str]) -> None:
    environ["GITHUB_REPOSITORY"] = "acme/other"
    context = GitHubContext.from_environ(environ)
    with (
        GitHubClient(context) as client,
        pytest.raises(
            GitHubError, match=r"GitHub found nothing at GET .*\(404: Not Found\); check GITHUB_REPOSITORY"
        ),
    ):
        client.list_issues(labels=["drift"])


def test_a_body_github_refuses_is_a_422_with_its_reason(client: GitHubClient) -> None:
    with pytest.raises(GitHubError) as caught:
        client.create_issue_comment(PR_NUMBER, "x" * 70_000)
    assert caught.value.status == 422
    assert "Validation Failed: body is too long (maximum is 65536 characters)" in str(caught.value)


def test_no_answer_is_a_clear_error(environ: dict[str, str]) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ["GITHUB_API_URL"] = f"http://127.0.0.1:{port}"
    context = GitHubContext.from_environ(environ)
    with GitHubClient(context, retries=0) as client, pytest.raises(GitHubError) as caught:
        client.list_issue_comments(PR_NUMBER)
    assert str(caught.value).startswith(f"cannot reach GitHub at http://127.0.0.1:{port} (GET ")
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, httpx.TransportError)
    assert TOKEN not in str(caught.value)


class Flaky:
    """A transport answering 503 ``failures`` times, then an empty list."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.method)
        if len(self.calls) <= self.failures:
            return httpx.Response(503, json={"message": "Service Unavailable"})
        return httpx.Response(
            200 if request.method == "GET" else 201, json=[] if request.method == "GET" else {"id": 1}
        )


def test_reads_are_retried_on_503_and_creates_are_not(
    context: GitHubContext, caplog: pytest.LogCaptureFixture
) -> None:
    slept: list[float] = []
    flaky = Flaky(2)
    with GitHubClient(context, transport=httpx.MockTransport(flaky), sleep=slept.append) as client:
        assert client.list_issue_comments(1) == []
    assert flaky.calls == ["GET", "GET", "GET"]
    assert slept == [1.0, 2.0]
    assert "attempt #1/3 failed: HTTP 503; will retry in 1.0 s" in caplog.text

    flaky = Flaky(1)
    with (
        GitHubClient(context, transport=httpx.MockTransport(flaky), sleep=slept.append) as client,
        pytest.raises(GitHubError, match=r"GitHub failed POST .*\(503: Service Unavailable\)"),
    ):
        client.create_issue_comment(1, "x")
    assert flaky.calls == ["POST"]


def test_stamina_test_mode_applies_to_the_github_client_too(context: GitHubContext) -> None:
    slept: list[float] = []
    flaky = Flaky(5)
    with (
        GitHubClient(context, transport=httpx.MockTransport(flaky), sleep=slept.append, retries=4) as client,
        stamina.set_testing(True, attempts=2),
        pytest.raises(GitHubError, match=r"GitHub failed GET .*\(503: Service Unavailable\)") as caught,
    ):
        client.list_issue_comments(1)
    assert flaky.calls == ["GET", "GET"]
    assert slept == [0.0]
    assert caught.value.__cause__ is None


def test_a_link_to_another_host_is_not_followed(context: GitHubContext) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(
            200, json=[], headers={"Link": '<https://evil.example/steal?page=2>; rel="next"'}
        )

    with (
        GitHubClient(context, transport=httpx.MockTransport(handler)) as client,
        pytest.raises(GitHubError, match="Link header points outside"),
    ):
        client.list_issue_comments(1)
    assert len(seen) == 1


def test_no_httpx_exception_escapes(context: GitHubContext) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with (
        GitHubClient(context, transport=httpx.MockTransport(handler), retries=0) as client,
        pytest.raises(GitHubError, match="cannot reach GitHub"),
    ):
        client.list_issues()


def test_a_non_json_answer_is_an_error(context: GitHubContext) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, text="<html>proxy</html>"))
    with GitHubClient(context, transport=transport) as client, pytest.raises(GitHubError, match="not JSON"):
        client.list_issues()


def test_the_environment_for_tests_is_complete(github: FakeGitHub, tmp_path: Path) -> None:
    context = GitHubContext.from_environ(actions_environ(github, tmp_path))
    assert context.run_url == "https://github.com/acme/data-platform/actions/runs/1234567890"
    assert context.require_pull_request() == PR_NUMBER


def test_an_enterprise_server_api_path_is_kept(environ: dict[str, str]) -> None:
    """On GitHub Enterprise Server GITHUB_API_URL has a path (/api/v3) that every request keeps."""
    environ["GITHUB_API_URL"] = "https://ghe.example.com/api/v3/"
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json=[])

    with GitHubClient(GitHubContext.from_environ(environ), transport=httpx.MockTransport(handler)) as client:
        client.list_issues(labels=["drift"])
    assert seen == [
        "https://ghe.example.com/api/v3/repos/acme/data-platform/issues?state=open&labels=drift&per_page=100"
    ]
