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


def env_digest(values: Mapping[str, str], salt: str) -> str:
    """A salted HMAC of each value resolved from the environment, by its JSON pointer:
    ``{"v": "v1", "salt": ..., "macs": {pointer: hmac}}``. Enough to tell that a value changed
    (and which), never what it is."""
    key = bytes.fromhex(salt)
    macs = {pointer: _env_mac(key, pointer, value) for pointer, value in sorted(values.items())}
    return canonical_json({"v": _VERSION, "salt": salt, "macs": macs}).decode()


def env_digest_matches(recorded: str | None, values: Mapping[str, str]) -> bool:
    """True when ``recorded`` (from env_digest) is of exactly these values."""
    parsed = _parse_env_digest(recorded)
    return parsed is not None and hmac.compare_digest(env_digest(values, parsed[0]), recorded or "")


def env_value_matches(recorded: str | None, pointer: str, value: object) -> bool:
    """True when ``recorded`` holds ``value`` for the field at ``pointer``."""
    parsed = _parse_env_digest(recorded)
    if parsed is None or not isinstance(value, str):
        return False
    salt, macs = parsed
    mac = macs.get(pointer)
    return isinstance(mac, str) and hmac.compare_digest(mac, _env_mac(bytes.fromhex(salt), pointer, value))


def _env_mac(key: bytes, pointer: str, value: str) -> str:
    return hmac.new(key, pointer.encode() + b"\0" + value.encode(), hashlib.sha256).hexdigest()


def _parse_env_digest(recorded: str | None) -> tuple[str, dict[str, Any]] | None:
    """The salt (hex) and the MACs of a recorded env digest; None unless it is ours (v1)."""
    try:
        data = json.loads(recorded) if recorded else None
        if not isinstance(data, dict) or data.get("v") != _VERSION or not isinstance(data.get("salt"), str):
            return None
        bytes.fromhex(data["salt"])  # a salt that is not hex was recorded by someone else
    except ValueError:
        return None
    salt, macs = data["salt"], data.get("macs")
    return (salt, macs) if salt and isinstance(macs, dict) else None
