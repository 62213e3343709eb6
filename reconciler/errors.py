"""The reconciler's own exceptions.

Every error a user can cause or meet in normal operation is a ``ReconcilerError``; the CLI's
error boundary prints its message on one line and exits 1. Anything else is a bug and gets a
traceback hint. Library errors (httpx, ruamel.yaml, pydantic) are translated where they occur
and chained with ``raise ... from exc``::

    ReconcilerError
    ├── ManifestError            one or more manifests are invalid (carries every problem)
    │   └── DataError            a data source, its template or the file rendered from them is
    │                            invalid (``reconciler.data``; file:line and template key each)
    ├── SettingsError            the environment configures the reconciler wrongly
    ├── PlanFileError            a saved plan cannot be read, is stale, or is not what planning decides
    ├── PlanningError            the live state makes a safe plan impossible (a name taken by someone
    │                            else, a prune beyond its guards)
    ├── ObjectStoreError         an object store (S3, GCS, Azure Blob, the tenant's own store)
    │   │                        refused or failed a request, or no credentials were found for it
    │   │                        (``reconciler.stores``)
    │   └── PreconditionFailedError  a conditional write found another object than the one expected
    ├── GitHubError              the Actions environment is incomplete, or GitHub's REST API
    │   │                        refused or failed a request (``reconciler.github``)
    │   └── PlanMismatchError    (reconciler.github) apply's plan is not the one reviewed on the PR
    └── ApiError                 the Atlan workflow API answered with an error or not at all
        ├── AuthenticationError  401: the API key was refused
        ├── PermissionDeniedError 403
        ├── NotFoundError        404
        ├── ConflictError        409: name taken or stale resourceVersion
        ├── RateLimitedError     429, after retries
        ├── ServerError          5xx, after retries
        ├── TransportError       no answer: connection refused, dropped, timed out
        └── OutcomeUnknownError  a create/submit lost its answer and re-reading could not tell
                                 whether it took effect
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ReconcilerError(Exception):
    """Base of every expected error; its ``str`` is the one line the CLI prints."""


class PlanningError(ReconcilerError):
    """The live state makes a safe plan impossible (e.g. a name taken by someone else)."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one manifest, pinned to where it is."""

    file: str
    line: int  # 1-based; 0 when the problem has no position (e.g. an unreadable file)
    column: int  # 1-based
    path: str  # the field path, e.g. "spec.assets.advanced.batch_size"; "" for the document
    message: str

    def __str__(self) -> str:
        # A CSV source's problems have a line but no column (0): file:line.
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.line and self.column:
            where += f":{self.column}"
        field = f" {self.path}:" if self.path else ""
        return f"{where}:{field} {self.message}"


class ManifestError(ReconcilerError):
    """The manifests are invalid; ``problems`` holds every problem found, in file order."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        files = len({p.file for p in self.problems})
        noun = "problem" if len(self.problems) == 1 else "problems"
        where = "file" if files == 1 else "files"
        super().__init__(f"{len(self.problems)} {noun} in {files} {where}")


class DataError(ManifestError):
    """A data source, its template or the file rendered from them is invalid.

    ``problems`` holds the first problems found, each at its file:line (the template's, or the
    source CSV's) and template key; ``omitted`` counts those left out beyond them.
    """

    def __init__(self, problems: Sequence[Problem], *, omitted: int = 0) -> None:
        super().__init__(problems)
        self.omitted = omitted
        if omitted:
            self.args = (f"{self.args[0]}, and {omitted} more not listed",)


class SettingsError(ReconcilerError):
    """A setting (environment variable) is missing or malformed."""


class PlanFileError(ReconcilerError):
    """A saved plan file is unreadable, from another version, or stale."""


class ObjectStoreError(ReconcilerError):
    """An object store failed a request or cannot be reached with the credentials at hand.

    The message names the object (``s3://bucket/key``) and what went wrong, never a credential
    or a presigned URL. ``status`` is the HTTP status when the store answered, None otherwise.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class PreconditionFailedError(ObjectStoreError):
    """A conditional write was refused: the object exists although it was to be created, or it is
    no longer the version (ETag or generation) it was expected to be."""


class GitHubError(ReconcilerError):
    """A GitHub Actions integration failed: a missing variable, or GitHub refused or failed a call.

    ``status`` is the HTTP status when GitHub answered, None otherwise. The message never holds
    the token.
    """

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ApiError(ReconcilerError):
    """The workflow API failed a request; ``status`` is None when there was no HTTP answer."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthenticationError(ApiError):
    """401: the API key was refused."""


class PermissionDeniedError(ApiError):
    """403: the key is valid but may not do this."""


class NotFoundError(ApiError):
    """404: the workflow or run does not exist."""


class ConflictError(ApiError):
    """409: the name is taken, or the resourceVersion sent is stale."""


class RateLimitedError(ApiError):
    """429 after every retry was spent."""


class ServerError(ApiError):
    """5xx after every retry was spent."""


class TransportError(ApiError):
    """No HTTP answer: refused, dropped or timed-out connection."""


class OutcomeUnknownError(ApiError):
    """A create or submit lost its answer and the re-read that should settle it failed too.

    The request may or may not have taken effect; the caller must re-read before acting again.
    ``status`` is that of the lost answer (None when there was none).
    """
