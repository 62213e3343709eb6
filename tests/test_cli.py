"""The CLI's commands, exit codes and error boundary, run in-process through ``main(argv)``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler import cli
from reconciler.errors import ReconcilerError
from tests.helpers import CANARY, EXAMPLES, TEST_MANIFESTS

SECRETS_ENV = ("AWS_SECRET_ACCESS_KEY", "GCS_SERVICE_ACCOUNT_JSON", "AZURE_CLIENT_SECRET")


@pytest.fixture(autouse=True)
def example_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    for name in ("TEST_SECRET_KEY", "TEST_SERVICE_ACCOUNT_JSON", "TEST_CLIENT_SECRET"):
        monkeypatch.setenv(name, CANARY)


def test_validate_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", str(EXAMPLES)]) == 0
    out, err = capsys.readouterr()
    assert out == "Valid: 7 manifests in 5 files (4 AssetImport, 3 LineageBuilder).\n"
    assert err == ""


def test_validate_reports_a_missing_variable_by_name(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    assert cli.main(["validate", str(EXAMPLES)]) == 1
    _, err = capsys.readouterr()
    lines = err.splitlines()
    assert lines[-1] == "error: 2 problems in 2 files"
    assert all("environment variable AZURE_CLIENT_SECRET is not set" in line for line in lines[:-1])
    assert any(line.startswith(f"{EXAMPLES / 'lineage' / 'lineage.yaml'}:") for line in lines)


def test_validate_skip_env_does_not_need_variables(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SECRETS_ENV:
        monkeypatch.delenv(name)
    assert cli.main(["validate", "--skip-env", str(EXAMPLES)]) == 0
    assert "environment references not checked" in capsys.readouterr().out


def test_invalid_manifest_exits_1_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.yaml").write_text(
        "apiVersion: reconciler/v1\nkind: AssetImport\nmetadata: {name: x}\nspec: {}\n"
    )
    assert cli.main(["validate", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{tmp_path / 'bad.yaml'}:4:7: spec: nothing to import: give at least one of assets, glossaries, data_products, tags",
        "error: 1 problem in 1 file",
    ]
    assert "Traceback" not in err


def test_render_json_is_the_compiled_requests_with_secrets_masked(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render", str(TEST_MANIFESTS / "sdk" / "asset_import_s3.yaml")]) == 0
    out, _ = capsys.readouterr()
    (body,) = json.loads(out)
    assert body["metadata"]["name"].startswith("csa-asset-import-")
    assert body["payload"][0]["body"]["password"] == "(sensitive value)"
    assert body["payload"][0]["body"]["username"] == "test-access-key"
    assert CANARY not in out


def test_render_yaml(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render", "-o", "yaml", str(EXAMPLES)]) == 0
    out, _ = capsys.readouterr()
    assert out.count("templateRef:") == 7
    assert "(sensitive value)" in out


def test_schema_prints_the_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["discriminator"]["mapping"]) == {"AssetImport", "LineageBuilder"}


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["render", "-o", "xml", "x"]) == 2
    assert cli.main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err
    assert cli.main(["export", "--all", "--name", "x"]) == 2  # conflicting flags are a usage error
    assert "give --all or --name, not both" in capsys.readouterr().err


def test_bad_settings_exit_1_naming_the_variable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_INSTANCE", "not a label!")
    assert cli.main(["render", str(EXAMPLES)]) == 1
    assert capsys.readouterr().err.startswith(
        "error: invalid setting RECONCILER_INSTANCE: must be a Kubernetes label value"
    )


def test_expected_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*args: object, **kwargs: object) -> int:
        raise ReconcilerError("the tenant said no")

    monkeypatch.setattr("reconciler.commands.validate.validate", failing)
    assert cli.main(["validate", str(EXAMPLES)]) == 1
    assert capsys.readouterr().err == "error: the tenant said no\n"


def test_unexpected_errors_show_a_scrubbed_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def buggy(*args: object, **kwargs: object) -> int:
        cli.SECRETS.add([CANARY])
        raise RuntimeError(f"bug while holding {CANARY}")

    monkeypatch.setattr("reconciler.commands.render.render", buggy)
    assert cli.main(["render", str(EXAMPLES)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "internal error: this is a bug in reconciler" in err
    assert CANARY not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("reconciler ")


@pytest.mark.parametrize(
    ("argv", "target"),
    [
        (["validate", "m"], "reconciler.commands.validate.validate"),
        (["render", "m"], "reconciler.commands.render.render"),
        (["schema"], "reconciler.commands.schema.schema"),
        (["plan", "m"], "reconciler.commands.plan.plan_command"),
        (["apply", "m"], "reconciler.commands.apply.apply_command"),
        (["drift", "m"], "reconciler.commands.drift.drift_command"),
        (["export"], "reconciler.commands.export.export_command"),
    ],
)
def test_every_command_dispatches_and_returns_its_exit_code(
    argv: list[str], target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[object, ...]] = []

    def command(*args: object, **kwargs: object) -> int:
        calls.append(args)
        return 42

    monkeypatch.setattr(target, command)
    assert cli.main(argv) == 42
    assert len(calls) == 1


def test_the_cli_imports_the_emulators_server_only_when_it_is_used() -> None:
    """Starlette and uvicorn take a tenth of a second to import, on every command otherwise."""
    code = (
        "import sys, reconciler.cli; print(sorted(m for m in ('starlette', 'uvicorn') if m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"
