"""What a GitHub Actions job tells a step about itself, read once from the environment.

Reading never fails for a piece that is merely absent: a plan comment needs a pull request and a
token, a job summary needs neither, so each use asks for what it needs (``require_*``) and gets
a one-line ``GitHubError`` naming the variable when it is missing. Malformed values (a
GITHUB_REPOSITORY that is not ``owner/repo``, a non-HTTP API URL) fail at once.

The token is kept out of ``repr`` and out of every message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.errors import GitHubError

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_SERVER_URL = "https://github.com"
# Who writes the plan comment with the job's own GITHUB_TOKEN. Only this author's comments are
# read back: anyone can post a comment that starts with the marker.
DEFAULT_COMMENT_AUTHOR = "github-actions[bot]"
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class GitHubContext:
    """The Actions environment of one job step (see ``from_environ``)."""

    api_url: str = DEFAULT_API_URL
    repository: str | None = None  # "owner/repo"
    token: str | None = field(default=None, repr=False)
    event_path: Path | None = None
    pull_request: int | None = None  # from the event: pull_request.number, issue.number or number
    step_summary: Path | None = None
    sha: str | None = None
    run_id: str | None = None
    server_url: str = DEFAULT_SERVER_URL
    comment_author: str = DEFAULT_COMMENT_AUTHOR  # RECONCILER_GITHUB_COMMENT_AUTHOR
    # Why the event gave no pull request number, for the error when one is needed.
    event_problem: str | None = field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> GitHubContext:
        """Read GITHUB_API_URL, GITHUB_REPOSITORY, GITHUB_TOKEN, GITHUB_EVENT_PATH,
        GITHUB_STEP_SUMMARY, GITHUB_SHA, GITHUB_RUN_ID, GITHUB_SERVER_URL and
        RECONCILER_GITHUB_COMMENT_AUTHOR (the login the plan comment is written as, when the token
        is not the job's own: a GitHub App's ``<slug>[bot]`` or a user's login).

        The event file is read here (it is small); a missing or unreadable one only matters to a
        caller that needs the pull request number.
        """

        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        api_url = (get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        if not api_url.startswith(("https://", "http://")):
            raise GitHubError(f"GITHUB_API_URL must be an http(s) URL, got {api_url!r}")
        server_url = (get("GITHUB_SERVER_URL") or DEFAULT_SERVER_URL).rstrip("/")
        repository = get("GITHUB_REPOSITORY")
        if repository is not None and not _REPOSITORY.match(repository):
            raise GitHubError(f"GITHUB_REPOSITORY must look like owner/repo, got {repository!r}")
        event_path_text = get("GITHUB_EVENT_PATH")
        event_path = Path(event_path_text) if event_path_text else None
        pull_request, problem = _pull_request_from_event(event_path)
        summary = get("GITHUB_STEP_SUMMARY")
        return cls(
            api_url=api_url,
            repository=repository,
            token=get("GITHUB_TOKEN"),
            event_path=event_path,
            pull_request=pull_request,
            step_summary=Path(summary) if summary else None,
            sha=get("GITHUB_SHA"),
            run_id=get("GITHUB_RUN_ID"),
            server_url=server_url,
            comment_author=get("RECONCILER_GITHUB_COMMENT_AUTHOR") or DEFAULT_COMMENT_AUTHOR,
            event_problem=problem,
        )

    def require_repository(self) -> tuple[str, str]:
        """``(owner, repo)``, or a GitHubError naming GITHUB_REPOSITORY."""
        if self.repository is None:
            raise GitHubError(
                "GITHUB_REPOSITORY is not set: run inside GitHub Actions or set it to owner/repo"
            )
        owner, _, repo = self.repository.partition("/")
        return owner, repo

    def require_token(self) -> str:
        """The token, or a GitHubError naming GITHUB_TOKEN."""
        if self.token is None:
            raise GitHubError(
                "GITHUB_TOKEN is not set: give the step the job's token "
                "(env: GITHUB_TOKEN: ${{ github.token }}, or the action's github-token input)"
            )
        return self.token

    def require_pull_request(self) -> int:
        """The pull request this run is for, or a GitHubError saying why it is not known."""
        if self.pull_request is not None:
            return self.pull_request
        if self.event_path is None:
            raise GitHubError(
                "GITHUB_EVENT_PATH is not set: cannot tell which pull request to comment on "
                "(run on a pull_request event)"
            )
        raise GitHubError(self.event_problem or "the event in GITHUB_EVENT_PATH has no pull request number")

    def require_sha(self) -> str:
        if self.sha is None:
            raise GitHubError("GITHUB_SHA is not set: cannot tell which commit was pushed")
        return self.sha

    @property
    def run_url(self) -> str | None:
        """The link to this workflow run, when the environment names one."""
        if self.repository is None or self.run_id is None:
            return None
        return f"{self.server_url}/{self.repository}/actions/runs/{self.run_id}"


def _pull_request_from_event(path: Path | None) -> tuple[int | None, str | None]:
    if path is None:
        return None, None
    try:
        event: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        return None, f"cannot read GITHUB_EVENT_PATH {str(path)!r}: {exc.strerror or exc}"
    except ValueError:
        return None, f"GITHUB_EVENT_PATH {str(path)!r} does not hold JSON"
    if not isinstance(event, dict):
        return None, f"GITHUB_EVENT_PATH {str(path)!r} does not hold a JSON object"
    candidates = [event.get("number")]
    candidates += [
        part.get("number") for key in ("issue", "pull_request") if isinstance(part := event.get(key), dict)
    ]
    for number in reversed(candidates):  # pull_request.number first, then issue.number, then number
        if isinstance(number, int) and not isinstance(number, bool):
            return number, None
    return None, (
        "the event in GITHUB_EVENT_PATH has no pull request number "
        "(plan --github-comment runs on pull_request events)"
    )
