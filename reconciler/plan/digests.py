"""Digests the reconciler records in annotations: of a workflow's spec, and of its credential.

Credentials cannot be read back from the API, so a salted HMAC of the credential body is kept in
an annotation; a rotated secret shows as "credentials changed" without revealing anything. The
salt is random per write, so equal secrets on two workflows give unrelated digests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from typing import Any

import orjson

_VERSION = "v1"


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> bytes:
    """Compact JSON with sorted keys, as UTF-8: what every digest is taken over.

    The bytes are those of ``json.dumps(sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, which recorded digests were made with; orjson writes the same bytes
    four times faster for what is digested here (compiled requests: strings, integers, booleans
    and null, never a float, which the two format differently). What orjson refuses (keys that
    are not strings, integers beyond 64 bits) goes the slow way.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return _CANONICAL.encode(value).encode()


def spec_digest(spec: Mapping[str, Any]) -> str:
    """A short digest of a compiled spec; changes exactly when the workflow's parameters change."""
    return hashlib.sha256(canonical_json(spec)).hexdigest()[:16]


def new_salt() -> str:
    return secrets.token_hex(16)


def credential_digest(credential: Mapping[str, Any], salt: str) -> str:
    """``v1:<salt>:<hmac>`` of the credential body without its name (the name follows the workflow)."""
    material = {key: value for key, value in credential.items() if key != "name"}
    mac = hmac.new(bytes.fromhex(salt), canonical_json(material), hashlib.sha256).hexdigest()
    return f"{_VERSION}:{salt}:{mac}"


def credential_matches(recorded: str, credential: Mapping[str, Any]) -> bool:
    """True when ``recorded`` is the digest of ``credential`` under the salt it carries."""
    version, _, rest = recorded.partition(":")
    salt, _, _mac = rest.partition(":")
    if version != _VERSION or not salt:
        return False
    try:
        expected = credential_digest(credential, salt)
    except ValueError:  # a salt that is not hex: recorded by someone else
        return False
    return hmac.compare_digest(expected, recorded)
