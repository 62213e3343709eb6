"""Digests the reconciler records in annotations: of a workflow's spec, of its credential, and
of each field apply wrote.

Credentials cannot be read back from the API, so a salted HMAC of the credential body is kept in
an annotation; a rotated secret shows as "credentials changed" without revealing anything. The
salt is random per write, so equal secrets on two workflows give unrelated digests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
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


# -- what apply wrote, field by field (reconciler.dev/applied) -------------------------------------

_APPLIED_VERSION = "v1:"
# Bytes of a field's path digest, and again of its value's: 8 base64 characters a field, about 400
# for a workflow of 50 fields (the listing of 10,000 workflows grows by 13%). Two of a workflow's
# 50 fields share a path digest in about one workflow of 14,000 (drift then says it cannot tell,
# for those two); a value changed on the tenant looks unchanged once in 16 million.
_HALF = 3
_Field = tuple[tuple[str, ...], Any]


def applied_record(fields: Iterable[_Field]) -> str:
    """The annotation apply writes with a workflow: for each field written (a view path and its
    value, see normalise.view_fields), a short digest of the path and one of the value, sorted.

    Unsalted, so only for what is no secret: the caller masks the values that came from the
    environment first (the salted env digest covers them; an unsalted hash of a short secret could
    be brute-forced). Equal fields give equal records, so it does not tell two plans apart.
    """
    entries = sorted(
        _scalar_entry(path, value) if type(value) in _SCALARS else _path_key(path) + _value_key(value)
        for path, value in fields
    )
    return _APPLIED_VERSION + base64.urlsafe_b64encode(b"".join(entries)).decode()


@dataclass(frozen=True, slots=True)
class AppliedRecord:
    """A parsed ``applied_record``: whether a field of the tenant still holds what apply wrote."""

    values: Mapping[bytes, bytes | None]  # path digest -> value digest; None: two paths share it

    @classmethod
    def parse(cls, text: str | None) -> AppliedRecord | None:
        """The record in ``text``, or None when there is none of ours (an older version applied)."""
        if not text or not text.startswith(_APPLIED_VERSION):
            return None
        try:
            raw = base64.urlsafe_b64decode(text[len(_APPLIED_VERSION) :])
        except ValueError:
            return None
        if len(raw) % (2 * _HALF):
            return None
        values: dict[bytes, bytes | None] = {}
        for start in range(0, len(raw), 2 * _HALF):
            path, value = raw[start : start + _HALF], raw[start + _HALF : start + 2 * _HALF]
            values[path] = None if path in values else value
        return cls(values)

    def holds(self, path: tuple[str, ...], current: Mapping[tuple[str, ...], Any]) -> bool | None:
        """True when ``current`` (the fields as the tenant has them) has at ``path`` what apply
        wrote there, or, like apply, nothing; False when it differs; None when the record cannot tell."""
        key = _path_key(path)
        if key not in self.values:
            return path not in current
        recorded = self.values[key]
        if recorded is None:
            return None
        return path in current and recorded == _value_key(current[path])


_SCALARS = frozenset({str, int, bool, type(None)})


# Most fields are the same in every workflow of a package (its labels, annotations, defaults):
# each is digested once in a plan of 10,000 creates. ``typed``: True and 1 are two values here.
@lru_cache(maxsize=1 << 14, typed=True)
def _scalar_entry(path: tuple[str, ...], value: str | int | bool | None) -> bytes:
    return _path_key(path) + _value_key(value)


@lru_cache(maxsize=4096)  # the workflows of a package share their field paths
def _path_key(path: tuple[str, ...]) -> bytes:
    return hashlib.blake2b("\0".join(path).encode(), digest_size=_HALF).digest()


def _value_key(value: Any) -> bytes:
    return hashlib.blake2b(canonical_json(value), digest_size=_HALF).digest()
