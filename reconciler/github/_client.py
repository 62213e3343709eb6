"""A small synchronous client for the few GitHub REST endpoints the reconciler uses.

Issue comments (list with ``Link`` paging, create, edit), issues (list by label, create, edit,
close) and the pull requests of a commit. Every failure becomes one ``GitHubError`` line: the
method, the URL, the status and GitHub's own message, plus what to do for 401/403/404. The token
is sent only to the host of ``GITHUB_API_URL`` (a ``Link`` to another host is refused) and never
appears in a message; it is also registered with the secret scrubber.

Reads and edits (GET, PATCH) are retried on 502/503/504 and connection errors, waiting
``backoff * 2**(n - 1)`` seconds before retry n; creates are not. The loop is the one the Atlan
client uses (reconciler/retrying.py, on stamina); tests/github/test_errors.py pins it. Every
attempt logs one INFO line (``reconciler -v``): method, path, status, milliseconds, attempt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from reconciler.errors import GitHubError
from reconciler.github._context import GitHubContext
from reconciler.redaction import SECRETS
from reconciler.retrying import Again, backoff, log_request, retry_sync

logger = logging.getLogger("reconciler.github")

API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_PAGES = 100  # 10,000 comments or issues: far beyond any real pull request
_MESSAGE_CAP = 300
_RETRY_STATUSES = frozenset({502, 503, 504})
_IDEMPOTENT = frozenset({"GET", "PATCH"})


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    body: str
    html_url: str
    user: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Comment:
        user = data.get("user")
        return cls(
            id=int(data["id"]),
            body=str(data.get("body") or ""),
            html_url=str(data.get("html_url") or ""),
            user=str(user["login"]) if isinstance(user, dict) and "login" in user else None,
        )


@dataclass(frozen=True, slots=True)
class Issue:
    number: int
    title: str
    body: str
    state: str
    html_url: str
    labels: tuple[str, ...]
    is_pull_request: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Issue:
        labels = tuple(
            str(label["name"]) if isinstance(label, dict) else str(label)
            for label in data.get("labels") or ()
        )
        return cls(
            number=int(data["number"]),
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
            state=str(data.get("state") or ""),
            html_url=str(data.get("html_url") or ""),
            labels=labels,
            is_pull_request="pull_request" in data,
        )


@dataclass(frozen=True, slots=True)
class PullRequest:
    number: int
    state: str
    html_url: str
    merged_at: str | None
    merge_commit_sha: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PullRequest:
        return cls(
            number=int(data["number"]),
            state=str(data.get("state") or ""),
            html_url=str(data.get("html_url") or ""),
            merged_at=data.get("merged_at") or None,
            merge_commit_sha=data.get("merge_commit_sha") or None,
        )


class GitHubClient:
    """The REST calls, for one repository, with the job's token. Use as a context manager.

    ``transport`` is injected in tests; by default httpx's own is used. Construction fails with a
    GitHubError naming GITHUB_REPOSITORY or GITHUB_TOKEN when either is missing.
    """

    def __init__(
        self,
        context: GitHubContext,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retries: int = 2,
        backoff: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        per_page: int = PER_PAGE,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.owner, self.repo = context.require_repository()
        token = context.require_token()
        SECRETS.add([token])
        self.api_url = context.api_url
        self._origin = httpx.URL(context.api_url + "/")
        self._token = token
        self._retries, self._backoff, self._sleep, self._per_page = retries, backoff, sleep, per_page
        self._clock = clock
        self._http = httpx.Client(
            base_url=context.api_url + "/",
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            headers={
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "reconciler",
            },
        )

    def __repr__(self) -> str:
        return f"GitHubClient({self.api_url!r}, {self.owner}/{self.repo})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- endpoints ---------------------------------------------------------------------------

    @property
    def _repo_path(self) -> str:
        return f"repos/{self.owner}/{self.repo}"

    def iter_issue_comments(self, number: int) -> Iterator[Comment]:
        """Every comment on an issue or pull request, oldest first, page by page."""
        for item in self._paginate(f"{self._repo_path}/issues/{number}/comments", {}, "pull-requests: read"):
            yield Comment.from_json(item)

    def list_issue_comments(self, number: int) -> list[Comment]:
        return list(self.iter_issue_comments(number))

    def create_issue_comment(
        self, number: int, body: str, *, permission: str = "pull-requests: write"
    ) -> Comment:
        data = self._json(
            "POST", f"{self._repo_path}/issues/{number}/comments", permission, body={"body": body}
        )
        return Comment.from_json(data)

    def update_issue_comment(
        self, comment_id: int, body: str, *, permission: str = "pull-requests: write"
    ) -> Comment:
        data = self._json(
            "PATCH", f"{self._repo_path}/issues/comments/{comment_id}", permission, body={"body": body}
        )
        return Comment.from_json(data)

    def list_issues(self, *, labels: Sequence[str] = (), state: str = "open") -> list[Issue]:
        """Issues (not pull requests, which GitHub also lists here) with all of ``labels``."""
        params = {"state": state, **({"labels": ",".join(labels)} if labels else {})}
        issues = (
            Issue.from_json(i) for i in self._paginate(f"{self._repo_path}/issues", params, "issues: read")
        )
        return [issue for issue in issues if not issue.is_pull_request]

    def create_issue(self, title: str, body: str, *, labels: Sequence[str] = ()) -> Issue:
        data = self._json(
            "POST",
            f"{self._repo_path}/issues",
            "issues: write",
            body={"title": title, "body": body, "labels": list(labels)},
        )
        return Issue.from_json(data)

    def update_issue(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
    ) -> Issue:
        fields = {"title": title, "body": body, "state": state, "state_reason": state_reason}
        payload = {key: value for key, value in fields.items() if value is not None}
        data = self._json("PATCH", f"{self._repo_path}/issues/{number}", "issues: write", body=payload)
        return Issue.from_json(data)

    def close_issue(self, number: int, *, reason: str = "completed") -> Issue:
        return self.update_issue(number, state="closed", state_reason=reason)

    def pulls_for_commit(self, sha: str) -> list[PullRequest]:
        """The pull requests a commit belongs to (for a merge commit: the merged one)."""
        items = self._paginate(f"{self._repo_path}/commits/{sha}/pulls", {}, "pull-requests: read")
        return [PullRequest.from_json(item) for item in items]

    # -- plumbing ----------------------------------------------------------------------------

    def _json(
        self, method: str, path: str, permission: str, *, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        response = self._request(method, path, permission, body=body)
        data = _decode(response)
        if not isinstance(data, dict):
            raise GitHubError(f"GitHub answered {method} {response.url} with unexpected JSON", status=200)
        return data

    def _paginate(self, path: str, params: Mapping[str, str], permission: str) -> Iterator[dict[str, Any]]:
        url: str = path
        query: dict[str, str] | None = {**params, "per_page": str(self._per_page)}
        for _ in range(MAX_PAGES):
            response = self._request("GET", url, permission, params=query)
            data = _decode(response)
            if not isinstance(data, list):
                raise GitHubError(f"GitHub answered GET {response.url} with unexpected JSON", status=200)
            yield from (item for item in data if isinstance(item, dict))
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            url, query = self._same_origin(following), None
        raise GitHubError(f"GitHub kept paging past {MAX_PAGES} pages of {path}")

    def _same_origin(self, url: str) -> str:
        target = httpx.URL(url)
        origin = self._origin
        if (target.scheme, target.host, target.port) != (origin.scheme, origin.host, origin.port):
            # The token must never go to another host, whatever a Link header says.
            raise GitHubError(
                f"GitHub's Link header points outside {self.api_url}: {target.copy_with(query=None)}"
            )
        return url

    def _request(
        self,
        method: str,
        url: str,
        permission: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        attempts = 1 + (self._retries if method in _IDEMPOTENT else 0)
        headers = {"Authorization": f"Bearer {self._token}"}
        shown = f"{method} {self._shown(url)}"

        def attempt(number: int) -> httpx.Response:
            began = self._clock()
            try:
                response = self._http.request(method, url, params=params, json=body, headers=headers)
            except httpx.RequestError as exc:
                self._log(method, url, exc, began, number, attempts)
                why = _scrub(str(exc) or type(exc).__name__, self._token)
                error = GitHubError(f"cannot reach GitHub at {self.api_url} ({shown}): {why}")
                raise self._again(error, exc, shown, number, attempts, type(exc).__name__) from exc
            self._log(method, url, response.status_code, began, number, attempts)
            if response.is_success:
                return response
            error = _error(response, method, permission, self._token)
            if response.status_code in _RETRY_STATUSES:
                raise self._again(error, None, shown, number, attempts, f"HTTP {response.status_code}")
            raise error

        return retry_sync(attempts, attempt, sleep=self._sleep)

    def _log(
        self, method: str, url: str, answer: int | BaseException, began: float, number: int, attempts: int
    ) -> None:
        path = self._http.base_url.join(url).path  # a Link header's next page: its query left out
        log_request(logger, method, path, answer, self._clock() - began, attempt=number, attempts=attempts)

    def _shown(self, url: str) -> str:
        return str(self._http.base_url.join(url).copy_with(query=None))

    def _again(
        self,
        error: GitHubError,
        cause: BaseException | None,
        shown: str,
        number: int,
        attempts: int,
        why: str,
    ) -> Again:
        """Another attempt after ``backoff * 2**(number - 1)`` seconds, announced by one log line."""

        def announce() -> float:
            delay = backoff(self._backoff * 2 ** (number - 1))
            logger.warning(
                "%s attempt #%d/%d failed: %s; will retry in %.1f s", shown, number, attempts, why, delay
            )
            return delay

        return Again(error, cause=cause, announce=announce)


def _decode(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise GitHubError(
            f"GitHub answered {response.request.method} {response.url.copy_with(query=None)} "
            f"with something that is not JSON",
            status=response.status_code,
        ) from exc


def _scrub(text: str, token: str) -> str:
    return text.replace(token, "***") if token else text


def _github_message(response: httpx.Response) -> str:
    """GitHub's ``message`` plus the messages of its ``errors`` list, capped, on one line."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        parts = [str(data.get("message") or "")]
        for error in data.get("errors") or ():
            if isinstance(error, dict):
                parts.append(str(error.get("message") or error.get("code") or ""))
            else:
                parts.append(str(error))
        text = ": ".join(part for part in parts if part)
    else:
        text = response.text
    text = " ".join(text.split())
    return text if len(text) <= _MESSAGE_CAP else text[: _MESSAGE_CAP - 3] + "..."


def _error(response: httpx.Response, method: str, permission: str, token: str) -> GitHubError:
    status = response.status_code
    url = response.url.copy_with(query=None)
    detail = _github_message(response)
    what = f"{status}: {detail}" if detail else str(status)
    if status == 401:
        message = (
            f"GitHub refused the token (401) for {url}: check GITHUB_TOKEN (the github-token input); "
            "it may be expired or revoked"
        )
    elif status == 403 and response.headers.get("x-ratelimit-remaining") == "0":
        message = f"GitHub's rate limit is spent ({what}) for {method} {url}; try again later"
    elif status == 403:
        message = f"GitHub denied {method} {url} ({what}); the job needs `permissions: {permission}`"
    elif status == 404:
        message = (
            f"GitHub found nothing at {method} {url} ({what}); check GITHUB_REPOSITORY and that the "
            f"token may see it (`permissions: {permission}`)"
        )
    elif status == 422:
        message = f"GitHub rejected {method} {url} ({what})"
    else:
        message = f"GitHub failed {method} {url} ({what})"
    return GitHubError(_scrub(message, token), status=status)
