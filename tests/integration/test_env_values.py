"""Values from ${env:NAME} never leave the process: every output shows the reference instead.

A pull request controls the manifests, and plan output goes into its sticky comment, so a field
like ``prefix: /${env:SOME_SECRET}`` must not be a way to print a variable of the CI job. The
reconciler's own credentials may not be referenced at all; any other variable may be, and its
value reaches the tenant but no output: plan (text, markdown, JSON, saved file), render, drift,
export, and errors.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.integration.conftest import API_KEY, Tenant

SNOWFLAKE = "asset-import/snowflake-assets.yaml"
PREFIX_VALUE = "distinctive-prefix-value-5e0c2a"
ROTATED_VALUE = "rotated-prefix-value-81d7f4"
GITHUB_TOKEN_VALUE = "ghs_distinctive0github0token0value"


def everything_printed(tenant: Tenant, tmp_path: Path) -> str:
    """The output of every read-only command and format, and a saved plan file, as one text."""
    tmp_path.mkdir(exist_ok=True)
    saved = tmp_path / "saved-plan.json"
    outputs = []
    for argv in (
        ("plan", str(tenant.manifests)),
        ("plan", "-o", "markdown", str(tenant.manifests)),
        ("plan", "-o", "json", "--out", str(saved), str(tenant.manifests)),
        ("render", "-o", "json", str(tenant.manifests)),
        ("render", "-o", "yaml", str(tenant.manifests)),
        ("drift", str(tenant.manifests)),
        ("drift", "-o", "json", str(tenant.manifests)),
        ("drift", "-o", "markdown", str(tenant.manifests)),
    ):
        result = tenant.cli(*argv)
        assert result.code in (0, 3), (argv, result.err)
        outputs += [result.out, result.err]
    outputs.append(saved.read_text())
    return "\n".join(outputs)


@pytest.fixture
def prefixed(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> Tenant:
    monkeypatch.setenv("IMPORT_PREFIX", PREFIX_VALUE)
    tenant.edit(SNOWFLAKE, "prefix: /imports/snowflake", "prefix: /imports/${env:IMPORT_PREFIX}")
    # Without its source: where the file moves with the prefix is tests/integration/test_content.py's.
    tenant.edit(SNOWFLAKE, "    source: ../data/snowflake-assets.csv\n", "")
    return tenant


def test_a_value_from_the_environment_reaches_the_tenant_but_no_output(
    prefixed: Tenant, tmp_path: Path
) -> None:
    printed = everything_printed(prefixed, tmp_path)
    assert PREFIX_VALUE not in printed
    assert "/imports/${env:IMPORT_PREFIX}" in printed

    assert prefixed.apply().code == 0
    sent = json.dumps(prefixed.templates())
    assert f"/imports/{PREFIX_VALUE}" in sent  # the tenant does get the value
    assert PREFIX_VALUE not in everything_printed(prefixed, tmp_path / "after")
    assert "No changes." in prefixed.plan().out


def test_a_changed_value_is_shown_as_changed_without_either_value(
    prefixed: Tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert prefixed.apply().code == 0
    monkeypatch.setenv("IMPORT_PREFIX", ROTATED_VALUE)

    text = prefixed.plan("--detailed-exitcode")
    assert text.code == 2
    assert "~ parameters.assets_prefix: " in text.out
    assert "(value changed)" in text.out
    [workflow] = [w for w in prefixed.plan("-o", "json").json()["workflows"] if w["changes"]]
    assert workflow["changes"] == [
        {
            "op": "change",
            "path": ["parameters", "assets_prefix"],
            "old": "/imports/${env:IMPORT_PREFIX}",
            "new": "/imports/${env:IMPORT_PREFIX}",
        }
    ]
    drift = prefixed.cli("drift", str(prefixed.manifests))
    assert drift.code == 3
    printed = everything_printed(prefixed, tmp_path)
    assert PREFIX_VALUE not in printed
    assert ROTATED_VALUE not in printed

    prefixed.finish_runs()  # so that the rerun the change asks for is submitted, not left pending
    assert prefixed.apply().code == 0
    assert f"/imports/{ROTATED_VALUE}" in json.dumps(prefixed.templates())
    assert "No changes." in prefixed.plan().out


def test_a_value_edited_on_the_tenant_is_shown_as_changed_without_it(prefixed: Tenant) -> None:
    assert prefixed.apply().code == 0
    [name] = [n for n, s in prefixed.templates().items() if PREFIX_VALUE in json.dumps(s)]

    def edit(source: dict[str, object]) -> None:
        text = json.dumps(source).replace(PREFIX_VALUE, "typed-in-the-ui-3c9d")
        source.clear()
        source.update(json.loads(text))

    prefixed.ui_edit(name, edit)
    result = prefixed.cli("drift", str(prefixed.manifests))
    assert result.code == 3
    assert "(value changed)" in result.out
    assert "typed-in-the-ui-3c9d" not in result.out + result.err
    assert PREFIX_VALUE not in result.out + result.err


def test_export_writes_the_reference_not_the_value(prefixed: Tenant, tmp_path: Path) -> None:
    assert prefixed.apply().code == 0
    exported = tmp_path / "exported"
    result = prefixed.cli("export", "-o", str(exported))
    assert result.code == 0, result.err
    texts = "\n".join(path.read_text() for path in exported.iterdir())
    assert PREFIX_VALUE not in texts + result.out + result.err
    assert "/imports/${env:IMPORT_PREFIX}" in texts
    assert "${env:AWS_ACCESS_KEY_ID}" in texts  # the access key id came from the environment too


@pytest.mark.parametrize(
    "reference",
    [
        "${env:ATLAN_API_KEY}",
        "${env:GITHUB_TOKEN}",
        "${env:RECONCILER_STATE_DIR}",
        "${env:ACTIONS_RUNTIME_TOKEN}",
    ],
)
@pytest.mark.parametrize(
    "command", ["validate", "plan", "plan -o markdown", "plan -o json", "render -o json"]
)
def test_the_reconcilers_own_credentials_cannot_be_referenced(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch, reference: str, command: str
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN_VALUE)
    monkeypatch.setenv("ACTIONS_RUNTIME_TOKEN", GITHUB_TOKEN_VALUE)
    tenant.edit(SNOWFLAKE, "prefix: /imports/snowflake", f'prefix: "/{reference}/x"')
    tenant.reset_counts()

    result = tenant.cli(*command.split(), str(tenant.manifests))

    assert result.code == 1
    assert f"{SNOWFLAKE}:" in result.err  # file:line:column
    assert "spec.assets.prefix" in result.err
    assert f"{reference} is not allowed" in result.err
    printed = result.out + result.err
    assert API_KEY not in printed
    assert GITHUB_TOKEN_VALUE not in printed
    assert not any(key.startswith("POST workflows/") for key in tenant.counts() if "indexsearch" not in key)


def test_a_blank_secret_is_an_error_naming_the_variable(
    tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "  ")
    result = tenant.cli("validate", str(tenant.manifests))
    assert result.code == 1
    assert "environment variable AWS_SECRET_ACCESS_KEY is empty or blank" in result.err
    assert "spec.object_store.s3.secret_key" in result.err


def test_an_allow_list_limits_what_manifests_may_read(
    prefixed: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_ENV_ALLOW", "AWS_*, GCS_*,AZURE_*")
    refused = prefixed.plan()
    assert refused.code == 1
    assert (
        "spec.assets.prefix: environment variable IMPORT_PREFIX is not allowed by RECONCILER_ENV_ALLOW "
        "(AWS_*, GCS_*, AZURE_*)" in refused.err
    )
    assert PREFIX_VALUE not in refused.out + refused.err

    monkeypatch.setenv("RECONCILER_ENV_ALLOW", "AWS_*,GCS_*,AZURE_*,IMPORT_*")
    assert prefixed.plan().code == 0


def test_nothing_under_the_working_tree_holds_a_secret_after_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``make demo``'s steps, run in a fresh working tree with its default state directory."""
    from reconciler import cli
    from tests.helpers import EXAMPLES

    secret = 'demo-secret-"quoted"\\-é-9d2e'
    work = tmp_path / "work"
    shutil.copytree(EXAMPLES, work / "manifests")
    monkeypatch.chdir(work)
    monkeypatch.delenv("RECONCILER_STATE_DIR")  # the default, .reconciler in the working tree
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADEMO")
    for name in ("AWS_SECRET_ACCESS_KEY", "GCS_SERVICE_ACCOUNT_JSON", "AZURE_CLIENT_SECRET"):
        monkeypatch.setenv(name, secret)
    for argv in (["validate"], ["plan"], ["apply", "--auto-approve"], ["plan", "--detailed-exitcode"]):
        assert cli.main([*argv, "manifests"]) == 0
    printed = "".join(capsys.readouterr())

    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]}
    files = [path for path in work.rglob("*") if path.is_file()]
    assert any(path.name == "emulator.db" for path in files)
    for path in files:
        data = path.read_bytes()
        assert not any(form.encode() in data for form in forms), path
    assert not any(form in printed for form in forms)
    assert "*" in (work / ".reconciler" / ".gitignore").read_text().splitlines()
    assert (work / ".reconciler").stat().st_mode & 0o777 == 0o700


def test_a_saved_plan_is_stale_when_a_value_from_the_environment_changed(
    prefixed: Tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert prefixed.apply().code == 0
    prefixed.finish_runs()
    monkeypatch.setenv("IMPORT_PREFIX", ROTATED_VALUE)
    saved = tmp_path / "plan.json"
    assert prefixed.plan("--out", str(saved)).code == 0
    monkeypatch.setenv("IMPORT_PREFIX", "yet-another-value-0a1b")
    result = prefixed.cli("apply", str(saved))
    assert result.code == 1
    assert "a value AssetImport.snowflake-assets takes from the environment changed" in result.err
    assert "yet-another-value-0a1b" not in result.out + result.err
