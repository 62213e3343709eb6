"""A canary secret planted in the environment never appears in anything the CLI prints or logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from reconciler import cli
from reconciler.redaction import ScrubbingFilter, SecretRegistry
from tests.helpers import CANARY, EXAMPLES

COMMANDS = [
    ["validate", str(EXAMPLES)],
    ["-vv", "validate", str(EXAMPLES)],
    ["render", str(EXAMPLES)],
    ["render", "-o", "yaml", str(EXAMPLES)],
    ["schema"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_canary_never_printed(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    caplog.set_level(logging.DEBUG)
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert CANARY not in out + err + caplog.text


def test_canary_not_printed_when_another_manifest_is_broken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", CANARY)  # even a non-secret field holding the canary
    good = (EXAMPLES / "asset-import" / "snowflake-assets.yaml").read_text()
    (tmp_path / "good.yaml").write_text(good)
    (tmp_path / "bad.yaml").write_text(
        good.replace("snowflake-assets", "other").replace("batch_size: 20", "batch_size: -1")
    )
    assert cli.main(["render", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "batch_size: must be at least 1, got -1" in err
    assert CANARY not in out + err


def test_literal_secret_in_a_manifest_is_not_echoed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (EXAMPLES / "asset-import" / "snowflake-assets.yaml").read_text()
    (tmp_path / "m.yaml").write_text(text.replace("${env:AWS_SECRET_ACCESS_KEY}", CANARY))
    assert cli.main(["validate", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "a literal value is not accepted" in err
    assert CANARY not in out + err


def test_registry_scrubs_longest_first_and_logging_filter_scrubs_records() -> None:
    registry = SecretRegistry()
    registry.add(["abc", "abcdef", ""])
    assert registry.scrub("x abcdef y abc z") == "x *** y *** z"
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "key=%s", ("abcdef",), None)
    assert ScrubbingFilter(registry).filter(record)
    assert record.getMessage() == "key=***"
