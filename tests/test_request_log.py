"""Issue 14: ``reconciler -v`` logs one line per HTTP request, to Atlan and to GitHub.

Each line has the method, the path without its query, the status (or the kind of failure), the
milliseconds and the attempt; never a body, a header, a token or a query value.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler import cli
from reconciler.atlan import AtlanWorkflowClient, RetryPolicy
from reconciler.emulator import EmulatorConfig, EmulatorServer
from reconciler.errors import GitHubError
from reconciler.github import GitHubClient, GitHubContext
from tests.atlan.conftest import API_KEY, BASE_URL, NAME, SEARCH, FakeTime, Server, reply, search_reply
from tests.github.conftest import PR_NUMBER, TOKEN, actions_environ
from tests.github.fake_github import FakeGitHub
from tests.helpers import CANARY, EXAMPLES

LINE = re.compile(
    r"^(?P<method>[A-Z]+) (?P<path>/\S*) -> (?P<outcome>\d{3}|[a-z ]+) in (?P<ms>\d+) ms "
    r"\(attempt (?P<attempt>\d+) of (?P<attempts>\d+)\)$"
)


def ours(caplog: pytest.LogCaptureFixture) -> str:
    """What the reconciler's own loggers said (httpx logs full URLs of its own at INFO, which the
    CLI never shows: it handles only the ``reconciler`` logger)."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("reconciler"))


def request_lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[dict[str, str]]:
    """The request lines ``logger`` logged at INFO, parsed; every one of its INFO lines with an
    arrow must be one."""
    found = []
    for record in caplog.records:
        if record.name == logger and record.levelno == logging.INFO and " -> " in record.getMessage():
            match = LINE.match(record.getMessage())
            assert match, record.getMessage()
            found.append(match.groupdict())
    return found


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def reconciler_log_level() -> Iterator[None]:
    """`reconciler -v` sets the level of the ``reconciler`` logger (and a CLI run in an earlier
    test may have left it at WARNING): each test starts from no level and leaves none behind."""
    logger = logging.getLogger("reconciler")
    level = logger.level
    logger.setLevel(logging.NOTSET)
    yield
    logger.setLevel(level)


def atlan_client(server: Server, time: FakeTime) -> AtlanWorkflowClient:
    return AtlanWorkflowClient(
        BASE_URL,
        API_KEY,
        transport=httpx.MockTransport(server),
        retry=RetryPolicy.no_wait(attempts=3),
        rate_limit=None,
        sleep=time.sleep,
        clock=time.clock,
        now=time.now,
        uniform=lambda low, high: high,
    )


def taking(seconds: float, time: FakeTime, answer: httpx.Response | Exception) -> Callable[..., Any]:
    """An answer the server gives after ``seconds`` of the fake clock."""

    def respond(request: httpx.Request) -> httpx.Response:
        time.monotonic += seconds
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer.status_code, content=answer.content, headers=answer.headers)

    return respond


# -- Atlan ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_each_atlan_attempt_is_one_info_line_with_status_time_and_attempt(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="reconciler.atlan")
    time = FakeTime()
    server = Server({SEARCH: [taking(0.25, time, reply(503)), taking(0.012, time, search_reply([]))]})
    async with atlan_client(server, time) as client:
        assert await client.get_workflow(NAME) is None

    search = "/api/service/workflows/indexsearch"
    assert request_lines(caplog, "reconciler.atlan") == [
        {"method": "POST", "path": search, "outcome": "503", "ms": "250", "attempt": "1", "attempts": "3"},
        {"method": "POST", "path": search, "outcome": "200", "ms": "12", "attempt": "2", "attempts": "3"},
    ]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (httpx.ReadTimeout("read timed out"), "timeout"),
        (httpx.ConnectTimeout("connect timed out"), "timeout"),
        (httpx.ConnectError("connection refused"), "connection error"),
        (httpx.ReadError("connection reset"), "connection error"),
        (httpx.RemoteProtocolError("server disconnected"), "protocol error"),
    ],
)
async def test_an_atlan_request_without_an_answer_logs_what_went_wrong(
    caplog: pytest.LogCaptureFixture, failure: Exception, kind: str
) -> None:
    caplog.set_level(logging.INFO, logger="reconciler.atlan")
    time = FakeTime()
    server = Server({SEARCH: [taking(30.0, time, failure), search_reply([])]})
    async with atlan_client(server, time) as client:
        await client.get_workflow(NAME)

    first, second = request_lines(caplog, "reconciler.atlan")
    assert (first["outcome"], first["ms"], first["attempt"]) == (kind, "30000", "1")
    assert (second["outcome"], second["attempt"]) == ("200", "2")


@pytest.mark.anyio
async def test_a_create_logs_its_path_but_no_query_body_or_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    time = FakeTime()
    created = {"metadata": {"name": NAME, "labels": {}}, "spec": {}}
    server = Server({"POST workflows?submit=false": reply(200, created)})
    body = {"metadata": {"name": NAME}, "spec": {"password": CANARY}}
    async with atlan_client(server, time) as client:
        await client.create_workflow(body, submit=False)

    lines = request_lines(caplog, "reconciler.atlan")
    assert [(line["method"], line["path"]) for line in lines] == [
        ("GET", "/api/service/whoami"),
        ("POST", "/api/service/workflows"),
    ]
    for secret in (CANARY, API_KEY, "Bearer"):
        assert secret not in caplog.text
    assert "submit=" not in ours(caplog)


def test_no_request_line_below_info(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="reconciler")
    context = GitHubContext.from_environ({"GITHUB_REPOSITORY": "acme/x", "GITHUB_TOKEN": TOKEN})
    with GitHubClient(
        context, transport=httpx.MockTransport(lambda _: httpx.Response(200, json=[]))
    ) as client:
        client.list_issue_comments(1)
    assert caplog.records == []


# -- GitHub -----------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_each_github_attempt_is_one_info_line_without_the_query(
    github: FakeGitHub, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="reconciler.github")
    clock = Clock()
    answers = iter([httpx.Response(503, json={"message": "busy"}), httpx.Response(200, json=[])])

    def handler(request: httpx.Request) -> httpx.Response:
        clock.now += 0.04
        return next(answers)

    context = GitHubContext.from_environ(actions_environ(github, tmp_path))
    with GitHubClient(
        context, transport=httpx.MockTransport(handler), sleep=lambda _: None, clock=clock
    ) as client:
        assert client.list_issues(labels=["drift", "secret-label"]) == []

    path = "/repos/acme/data-platform/issues"
    assert request_lines(caplog, "reconciler.github") == [
        {"method": "GET", "path": path, "outcome": "503", "ms": "40", "attempt": "1", "attempts": "3"},
        {"method": "GET", "path": path, "outcome": "200", "ms": "40", "attempt": "2", "attempts": "3"},
    ]
    assert TOKEN not in caplog.text
    for hidden in ("secret-label", "per_page", "state="):
        assert hidden not in ours(caplog)


def test_a_github_request_without_an_answer_logs_the_kind_of_failure(
    tmp_path: Path, github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="reconciler.github")

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}")

    context = GitHubContext.from_environ(actions_environ(github, tmp_path))
    with (
        GitHubClient(context, transport=httpx.MockTransport(handler), retries=0) as client,
        pytest.raises(GitHubError, match="cannot reach GitHub"),
    ):
        client.list_issue_comments(PR_NUMBER)
    (line,) = request_lines(caplog, "reconciler.github")
    assert (line["outcome"], line["attempt"], line["attempts"]) == ("connection error", "1", "1")
    assert "per_page" not in ours(caplog)


# -- the CLI ----------------------------------------------------------------------------------


@pytest.fixture
def example_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")


def stderr_request_lines(err: str, logger: str) -> list[re.Match[str]]:
    prefix = f"INFO {logger}: "
    matches = [LINE.match(line.removeprefix(prefix)) for line in err.splitlines() if line.startswith(prefix)]
    return [match for match in matches if match]


@pytest.mark.usefixtures("example_env")
def test_verbose_plan_logs_every_request_to_stderr_and_no_secret(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """Against the emulator on 127.0.0.1, whose API key is the canary itself."""
    caplog.set_level(logging.DEBUG)
    config = EmulatorConfig(api_key=CANARY, db_path=tmp_path / "emulator.db")
    with EmulatorServer(config) as server:
        monkeypatch.setenv("ATLAN_BASE_URL", server.base_url)
        monkeypatch.setenv("ATLAN_API_KEY", CANARY)
        assert cli.main(["-v", "plan", str(EXAMPLES)]) == 0
        out, err = capsys.readouterr()
        served = server.app.emulator.log.records()

    lines = stderr_request_lines(err, "reconciler.atlan")
    assert len(lines) == len(served) > 0
    assert ("POST", "/api/service/workflows/indexsearch") in {(m["method"], m["path"]) for m in lines}
    assert all(m["outcome"] == "200" and m["attempt"] == "1" for m in lines)
    assert "Plan: 7 to create" in out
    assert CANARY not in out + err + caplog.text


@pytest.mark.usefixtures("example_env")
def test_verbose_apply_logs_the_writes_without_their_bodies(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The creates carry the canary (a credential from the environment) in their bodies."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")
    cli.main(["-v", "apply", "--auto-approve", str(EXAMPLES)])
    out, err = capsys.readouterr()
    writes = [
        m for m in stderr_request_lines(err, "reconciler.atlan") if m["path"] == "/api/service/workflows"
    ]
    assert len(writes) == 7
    assert all(m["method"] == "POST" and m["outcome"] == "200" for m in writes)
    assert "submit=" not in err
    assert CANARY not in out + err + caplog.text


def test_without_verbose_no_request_is_logged(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    assert cli.main(["plan", str(EXAMPLES)]) == 0
    assert " -> 200 in " not in capsys.readouterr().err


def test_verbose_plan_comment_logs_the_github_requests(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    github: FakeGitHub,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    manifests = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, manifests)
    monkeypatch.chdir(tmp_path)  # outside git, data sources must be under the current directory
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    for key, value in actions_environ(github, tmp_path).items():
        monkeypatch.setenv(key, value)

    assert cli.main(["-v", "plan", "--github-comment", str(manifests)]) == 0
    _, err = capsys.readouterr()
    lines = stderr_request_lines(err, "reconciler.github")
    comments = f"/repos/acme/data-platform/issues/{PR_NUMBER}/comments"
    assert [(m["method"], m["path"], m["outcome"]) for m in lines] == [
        ("GET", comments, "200"),
        ("POST", comments, "201"),
    ]
    assert TOKEN not in err + caplog.text
    assert CANARY not in err + caplog.text
