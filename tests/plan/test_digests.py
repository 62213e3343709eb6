"""Digests recorded on tenants must never change their meaning: the canonical JSON is pinned."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.plan.digests import canonical_json, credential_digest, spec_digest

# What compiled requests hold: no floats (the manifest models have none).
leaves = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text()
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def reference(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@settings(max_examples=400, deadline=None)
@given(value=values)
def test_canonical_json_is_byte_for_byte_the_json_modules(value: Any) -> None:
    assert canonical_json(value) == reference(value)


def test_what_orjson_refuses_goes_the_slow_way_with_the_same_result() -> None:
    value = {"big": 2**70, "b": [True, None]}
    assert canonical_json(value) == reference(value)


def test_digests_of_a_known_spec_and_credential_are_pinned() -> None:
    spec = {
        "templates": [{"name": "main", "arguments": {"parameters": [{"name": "ß", "value": "\n\u2028"}]}}]
    }
    credential = {"name": "n-0", "authType": "s3", "password": "p", "extra": {"region": "r"}}
    # Computed once with json.dumps (the format digests on tenants were recorded in).
    assert spec_digest(spec) == "e18f2f7b301c9ce2"
    assert credential_digest(credential, "00" * 16) == (
        "v1:00000000000000000000000000000000:a3bad5cc447c7884d4245f08e83df3de45775c81611f132a16bb27d14a1ebad0"
    )
