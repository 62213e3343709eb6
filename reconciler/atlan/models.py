"""Typed answers of the API that only the client reads (who the token is)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

API_TOKEN_ROLES = frozenset({"$api-token-default-access", "$admin"})


class Whoami(BaseModel):
    """The caller as ``GET whoami`` describes it; only the role names are read (the SDK picks the
    endpoint family from them; tests/atlan/test_requests.py::test_paths_per_family)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    roles: tuple[str, ...] = ()
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def is_api_token_user(self) -> bool:
        """True for API-token and admin users, who use the legacy ``workflows/...`` endpoints."""
        return any(role in API_TOKEN_ROLES for role in self.roles)

    @classmethod
    def from_response(cls, body: Any) -> Whoami:
        body = body if isinstance(body, Mapping) else {}
        roles = body.get("roles") or []
        names = tuple(
            str(role["name"]) for role in roles if isinstance(role, Mapping) and role.get("name") is not None
        )
        return cls(roles=names, raw=dict(body))
