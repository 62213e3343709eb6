"""The last-resort scrubber: it finds a secret however it was escaped, and never breaks JSON."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reconciler import cli
from reconciler.redaction import MASK, ScrubbingFilter, SecretRegistry, escaped_forms
from tests.helpers import EXAMPLES

STRUCTURE = set(' \t\r\n{}[],:"\\')
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
secrets = st.text(min_size=1, max_size=6).filter(lambda s: bool(s.strip()))


def registry(*values: str) -> SecretRegistry:
    found = SecretRegistry()
    found.add(values)
    return found


def strings_of(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value.keys(), *(s for inner in value.values() for s in strings_of(inner))]
    if isinstance(value, list):
        return [s for inner in value for s in strings_of(inner)]
    return [value] if isinstance(value, str) else []


@settings(max_examples=300, deadline=None)
@given(document=json_values, secret=secrets, indent=st.sampled_from([None, 2]), ascii_only=st.booleans())
# "\u001d" spells the secret "d": the document is withheld, and the notice once spelled it too.
@example(document=[["\x1d"]], secret="d", indent=None, ascii_only=True)
def test_json_stays_json_and_loses_the_secret(
    document: Any, secret: str, indent: int | None, ascii_only: bool
) -> None:
    planted = {"value": document, "planted": f"before {secret} after", "list": [secret]}
    text = json.dumps(planted, indent=indent, ensure_ascii=ascii_only)

    scrubbed = registry(secret).scrub(text)

    parsed = json.loads(scrubbed)  # whatever the secret, the output is JSON
    if set(secret) - STRUCTURE:
        # A secret with anything but JSON punctuation in it is in no string of the output.
        assert not any(secret in s for s in strings_of(parsed))


@pytest.mark.parametrize("secret", ['p"q', "line1\nline2", "back\\slash", "tab\there", "ünï©ode", "é"])
def test_escaped_copies_are_found(secret: str) -> None:
    found = registry(secret)
    for text in (
        json.dumps({"k": secret}),
        json.dumps({"k": secret}, ensure_ascii=False),
        repr(secret),
        f"Traceback ... {secret!r} ...",
        f"raw: {secret}",
    ):
        assert not any(form in found.scrub(text) for form in escaped_forms(secret)), text


def test_plain_text_is_masked_and_json_keeps_its_shape() -> None:
    found = registry("s3cr3t")
    assert found.scrub("token s3cr3t here") == f"token {MASK} here"
    assert json.loads(found.scrub('{"a": "x s3cr3t y", "n": 1}')) == {"a": f"x {MASK} y", "n": 1}
    assert found.scrub("nothing to see") == "nothing to see"


def test_a_blank_value_is_not_a_secret() -> None:
    found = registry("", "   ", "\n")
    assert found.scrub("a b\nc") == "a b\nc"


def test_log_records_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.redaction")
    logger.addFilter(ScrubbingFilter(registry("hunter2")))
    with caplog.at_level(logging.INFO, logger="tests.redaction"):
        logger.info("password is %s", "hunter2")
    assert "hunter2" not in caplog.text
    assert MASK in caplog.text


@pytest.mark.parametrize("secret", ["x", '"', "a\nb", "{", "0"])
def test_plan_json_parses_whatever_the_secret(
    secret: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    for name in ("AWS_SECRET_ACCESS_KEY", "GCS_SERVICE_ACCOUNT_JSON", "AZURE_CLIENT_SECRET"):
        monkeypatch.setenv(name, secret)
    saved = tmp_path / "plan.json"
    code = cli.main(["plan", "-o", "json", "--out", str(saved), str(EXAMPLES)])
    out, err = capsys.readouterr()
    assert code == 0, err
    plan = json.loads(out)
    assert plan["summary"]["create"] == 7
    # The saved plan too (its fingerprints redact the compiled bodies): a one-letter secret once
    # turned a JSON annotation into the mask and the write into a traceback.
    assert json.loads(saved.read_text())["kind"] == "reconciler-plan"


def test_diagnostics_show_control_characters_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    from reconciler import console

    console.err("workflow evil\x1b[2J\rname\u202e is gone\nsecond line")
    _, err = capsys.readouterr()
    assert err == "workflow evil\\x1b[2J\\rname\\u202e is gone\nsecond line\n"
