"""A local stand-in for the part of GitHub's REST API the reconciler uses, served over real HTTP.

It answers with GitHub's JSON shapes (comment, issue, label and pull request objects; ``Link``
header paging with ``per_page``/``page``; ``{"message": ..., "documentation_url": ...}`` errors),
checks the bearer token like GitHub (401 "Bad credentials"), refuses bodies over 65,536
characters (422) and records every request it gets, so tests can assert on the wire.

::

    with FakeGitHub(token="t").serve() as github:
        github.add_pull_request(7)
        ...  # GITHUB_API_URL=github.base_url
        github.requests  # every request: method, path, query, headers, body
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reconciler.emulator.server import base_url, bind

DOCS = "https://docs.github.com/rest"
BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}
MAX_BODY = 65_536
NOW = "2026-11-21T12:00:00Z"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str


@dataclass
class FakeGitHub:
    owner: str = "acme"
    repo: str = "data-platform"
    token: str = "ghs_fake_token"
    max_per_page: int = 100  # GitHub's own cap; tests lower it to force several pages
    read_only: bool = False  # a token without write permission: writes answer 403
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls_by_sha: dict[str, list[int]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    base_url: str = ""

    def __post_init__(self) -> None:
        self._ids = itertools.count(1_000_001)
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        prefix = "/repos/{owner}/{repo}"
        self.app = Starlette(
            routes=[
                Route(prefix + "/issues/comments/{comment_id:int}", self._edit_comment, methods=["PATCH"]),
                Route(prefix + "/issues/{number:int}/comments", self._comments, methods=["GET", "POST"]),
                Route(prefix + "/issues/{number:int}", self._edit_issue, methods=["PATCH"]),
                Route(prefix + "/issues", self._issues, methods=["GET", "POST"]),
                Route(prefix + "/commits/{sha}/pulls", self._pulls, methods=["GET"]),
            ]
        )

    # -- set-up helpers ------------------------------------------------------------------------

    @property
    def html(self) -> str:
        return f"https://github.com/{self.owner}/{self.repo}"

    def add_pull_request(
        self, number: int | None = None, *, merge_commit_sha: str | None = None, merged: bool = False
    ) -> dict[str, Any]:
        number = number if number is not None else next(self._numbers)
        issue = self._issue_object(number, f"PR {number}", "", [])
        issue["pull_request"] = {"url": f"{self.base_url}/repos/{self.owner}/{self.repo}/pulls/{number}"}
        issue["html_url"] = f"{self.html}/pull/{number}"
        issue["merged_at"] = NOW if merged else None
        issue["merge_commit_sha"] = merge_commit_sha
        self.issues[number] = issue
        if merge_commit_sha:
            self.pulls_by_sha.setdefault(merge_commit_sha, []).append(number)
        return issue

    def add_issue(self, title: str, body: str, labels: list[str], *, state: str = "open") -> dict[str, Any]:
        number = next(self._numbers)
        issue = self._issue_object(number, title, body, labels)
        issue["state"] = state
        self.issues[number] = issue
        return issue

    def add_comment(self, number: int, body: str, *, user: str = "octocat") -> dict[str, Any]:
        comment = self._comment_object(number, body)
        comment["user"] = {"login": user, "id": 583231, "type": "User"}
        self.comments.setdefault(number, []).append(comment)
        return comment

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    # -- serving -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def serve(self) -> Iterator[FakeGitHub]:
        """Serve on a free 127.0.0.1 port on a background thread; stopped cleanly on exit."""
        sock = bind("127.0.0.1", 0)
        self.base_url = base_url(sock)
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="off", server_header=False
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="fake-github")
        thread.start()
        try:
            while not server.started:
                if not thread.is_alive():
                    raise RuntimeError("the GitHub stand-in did not start")
                threading.Event().wait(0.005)
            yield self
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            sock.close()

    # -- GitHub's shapes -----------------------------------------------------------------------

    def _comment_object(self, number: int, body: str) -> dict[str, Any]:
        comment_id = next(self._ids)
        kind = "pull" if "pull_request" in self.issues.get(number, {}) else "issues"
        return {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": f"{self.base_url}/repos/{self.owner}/{self.repo}/issues/comments/{comment_id}",
            "html_url": f"{self.html}/{kind}/{number}#issuecomment-{comment_id}",
            "issue_url": f"{self.base_url}/repos/{self.owner}/{self.repo}/issues/{number}",
            "body": body,
            "user": dict(BOT),
            "author_association": "NONE",
            "created_at": NOW,
            "updated_at": NOW,
        }

    def _issue_object(self, number: int, title: str, body: str, labels: list[str]) -> dict[str, Any]:
        return {
            "id": 2_000_000 + number,
            "node_id": f"I_{number}",
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "state_reason": None,
            "labels": [self._label(name) for name in labels],
            "html_url": f"{self.html}/issues/{number}",
            "user": dict(BOT),
            "comments": 0,
            "created_at": NOW,
            "updated_at": NOW,
            "closed_at": None,
        }

    @staticmethod
    def _label(name: str) -> dict[str, Any]:
        return {"id": abs(hash(name)) % 10**9, "name": name, "color": "d73a4a", "default": False}

    # -- the request pipeline ------------------------------------------------------------------

    @staticmethod
    def _error(status: int, message: str, **extra: Any) -> JSONResponse:
        return JSONResponse(
            {"message": message, "documentation_url": DOCS, "status": str(status), **extra},
            status_code=status,
        )

    async def _admit(self, request: Request) -> tuple[Response | None, Any]:
        """Record the request; the error response GitHub would give, or None, and the JSON body."""
        raw = (await request.body()).decode()
        with self._lock:
            self.requests.append(
                Recorded(
                    method=request.method,
                    path=request.url.path,
                    query=dict(request.query_params),
                    headers={k.lower(): v for k, v in request.headers.items()},
                    body=raw,
                )
            )
        if request.headers.get("authorization") not in (f"Bearer {self.token}", f"token {self.token}"):
            return self._error(401, "Bad credentials"), None
        params = request.path_params
        if (params.get("owner"), params.get("repo")) != (self.owner, self.repo):
            return self._error(404, "Not Found"), None
        if request.method != "GET" and self.read_only:
            return self._error(403, "Resource not accessible by integration"), None
        data = None
        if raw:
            try:
                data = json.loads(raw)
            except ValueError:
                return self._error(400, "Problems parsing JSON"), None
            body = data.get("body") if isinstance(data, dict) else None
            if isinstance(body, str) and len(body) > MAX_BODY:
                return self._error(
                    422,
                    "Validation Failed",
                    errors=[
                        {
                            "resource": "IssueComment",
                            "code": "custom",
                            "field": "body",
                            "message": f"body is too long (maximum is {MAX_BODY} characters)",
                        }
                    ],
                ), None
        return None, data

    def _page(self, request: Request, items: list[dict[str, Any]]) -> JSONResponse:
        per_page = min(int(request.query_params.get("per_page", "30")), self.max_per_page)
        page = int(request.query_params.get("page", "1"))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def link(number: int, rel: str) -> str:
            return f'<{request.url.include_query_params(page=number, per_page=per_page)}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        headers = {"Link": ", ".join(links)} if links else {}
        return JSONResponse(chunk, headers=headers)

    async def _comments(self, request: Request) -> Response:
        refused, data = await self._admit(request)
        if refused is not None:
            return refused
        number = int(request.path_params["number"])
        if number not in self.issues:
            return self._error(404, "Not Found")
        if request.method == "GET":
            return self._page(request, self.comments.get(number, []))
        if not isinstance(data, dict) or not isinstance(data.get("body"), str):
            return self._error(422, 'Invalid request.\n\n"body" wasn\'t supplied.')
        comment = self._comment_object(number, data["body"])
        self.comments.setdefault(number, []).append(comment)
        self.issues[number]["comments"] += 1
        return JSONResponse(comment, status_code=201)

    async def _edit_comment(self, request: Request) -> Response:
        refused, data = await self._admit(request)
        if refused is not None:
            return refused
        comment_id = int(request.path_params["comment_id"])
        for comment in itertools.chain.from_iterable(self.comments.values()):
            if comment["id"] == comment_id:
                if not isinstance(data, dict) or not isinstance(data.get("body"), str):
                    return self._error(422, 'Invalid request.\n\n"body" wasn\'t supplied.')
                comment["body"] = data["body"]
                comment["updated_at"] = "2026-11-21T12:30:00Z"
                return JSONResponse(comment)
        return self._error(404, "Not Found")

    async def _issues(self, request: Request) -> Response:
        refused, data = await self._admit(request)
        if refused is not None:
            return refused
        if request.method == "POST":
            if not isinstance(data, dict) or not data.get("title"):
                return self._error(
                    422, "Validation Failed", errors=[{"field": "title", "code": "missing_field"}]
                )
            issue = self.add_issue(
                str(data["title"]), str(data.get("body") or ""), list(data.get("labels") or [])
            )
            return JSONResponse(issue, status_code=201)
        state = request.query_params.get("state", "open")
        wanted = {name for name in request.query_params.get("labels", "").split(",") if name}
        found = [
            issue
            for number, issue in sorted(self.issues.items(), reverse=True)  # GitHub: newest first
            if (state == "all" or issue["state"] == state)
            and wanted <= {label["name"] for label in issue["labels"]}
        ]
        return self._page(request, found)

    async def _edit_issue(self, request: Request) -> Response:
        refused, data = await self._admit(request)
        if refused is not None:
            return refused
        issue = self.issues.get(int(request.path_params["number"]))
        if issue is None:
            return self._error(404, "Not Found")
        if not isinstance(data, dict):
            return self._error(400, "Problems parsing JSON")
        for key in ("title", "body", "state", "state_reason"):
            if key in data:
                issue[key] = data[key]
        if "labels" in data:
            issue["labels"] = [self._label(name) for name in data["labels"]]
        issue["closed_at"] = NOW if issue["state"] == "closed" else None
        return JSONResponse(issue)

    async def _pulls(self, request: Request) -> Response:
        refused, _ = await self._admit(request)
        if refused is not None:
            return refused
        numbers = self.pulls_by_sha.get(request.path_params["sha"], [])
        pulls = []
        for number in numbers:
            issue = self.issues[number]
            pulls.append(
                {
                    "id": 3_000_000 + number,
                    "number": number,
                    "state": "closed" if issue["merged_at"] else issue["state"],
                    "title": issue["title"],
                    "html_url": issue["html_url"],
                    "merged_at": issue["merged_at"],
                    "merge_commit_sha": issue["merge_commit_sha"],
                    "user": dict(BOT),
                }
            )
        return JSONResponse(pulls)
