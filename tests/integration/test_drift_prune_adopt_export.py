"""Issue 5 end to end: drift, ignore lists, prune guards, adoption, export round trip, plan files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reconciler.packages.identity import INSTANCE_LABEL
from tests.helpers import CANARY
from tests.integration.conftest import Tenant

SNOWFLAKE = "asset-import/snowflake-assets.yaml"
GLOSSARY = "asset-import/business-glossary.yaml"


def workflow_of(tenant: Tenant, manifest: str) -> str:
    return next(
        n
        for n, t in tenant.templates().items()
        if t["metadata"]["labels"].get("reconciler.dev/manifest") == manifest
    )


def set_parameter(name: str, value: Any) -> Any:
    def mutate(source: dict[str, Any]) -> None:
        for parameter in source["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]:
            if parameter["name"] == name:
                parameter["value"] = value

    return mutate


def only_searches(tenant: Tenant) -> bool:
    return all(r["endpoint"].endswith("indexsearch") or r["method"] == "GET" for r in tenant.requests())


def findings(result: Any) -> Counter[tuple[str, str]]:
    return Counter((f["address"], f["kind"]) for f in result.json()["findings"])


@pytest.fixture
def applied(tenant: Tenant) -> Tenant:
    assert tenant.apply().code == 0
    tenant.finish_runs()
    return tenant


# -- drift ----------------------------------------------------------------------------------------------


def test_drift_is_clean_after_apply_and_sends_no_write(applied: Tenant) -> None:
    applied.reset_counts()
    result = applied.cli("drift", str(applied.manifests))
    assert result.code == 0
    assert "No drift" in result.out
    assert only_searches(applied)
    # two searches, and one read of each of the six recorded credentials
    assert applied.counts() == {
        "POST workflows/indexsearch": 1,
        "POST runs/indexsearch": 1,
        "GET credentials/{guid}": 6,
    }
    applied.reset_counts()
    assert applied.cli("drift", "--no-credentials", str(applied.manifests)).code == 0
    assert applied.counts() == {"POST workflows/indexsearch": 1, "POST runs/indexsearch": 1}


def test_a_credential_replaced_outside_git_is_drift(applied: Tenant) -> None:
    name = workflow_of(applied, "business-glossary")
    source = applied.templates()[name]
    set_parameter("cloud_source", "{{credentialGuid}}")(source)  # point it at the new credential
    replaced = {
        "metadata": source["metadata"],
        "spec": source["spec"],
        "payload": [
            {
                "parameter": "credentialGuid",
                "type": "credential",
                "body": {
                    "name": f"{name}-0",
                    "authType": "gcs",
                    "username": "someone-elses-project",
                    "password": "typed-into-the-ui",
                    "extra": {"gcs_bucket": "other-bucket"},
                    "connectorConfigName": "csa-connectors-objectstore",
                },
            }
        ],
    }
    with applied.api() as api:  # as the UI would: a new credential for the workflow
        assert api.post(f"workflows/{name}", json=replaced).status_code == 200

    result = applied.cli("drift", "-o", "json", str(applied.manifests))
    assert result.code == 3
    (finding,) = result.json()["findings"]
    assert finding["kind"] == "credentials"
    assert finding["message"].startswith("credential edited outside git")
    assert sorted((c["path"], c["old"], c["new"]) for c in finding["changes"]) == [
        (["credential", "extra", "gcs_bucket"], "other-bucket", "acme-glossaries"),
        (["credential", "username"], "someone-elses-project", "acme-data"),
    ]
    assert "typed-into-the-ui" not in result.out + result.err


def test_each_kind_of_drift_is_reported_with_exit_3(applied: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    snowflake, glossary = workflow_of(applied, "snowflake-assets"), workflow_of(applied, "business-glossary")
    # a UI user edits a parameter and the schedule; another deletes a workflow
    applied.ui_edit(snowflake, set_parameter("assets_batch_size", 500))
    applied.ui_edit(
        glossary,
        lambda s: s["metadata"]["annotations"].update({"orchestration.atlan.com/schedule": "0 9 * * *"}),
    )
    with applied.api() as api:
        assert api.post(f"workflows/{workflow_of(applied, 'dbt-lineage')}/archive").status_code == 200
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "rotated-outside-apply")

    applied.reset_counts()
    result = applied.cli("drift", "-o", "json", str(applied.manifests))
    assert result.code == 3
    assert only_searches(applied)
    assert findings(result) == Counter(
        {
            ("AssetImport.snowflake-assets", "modified"): 1,
            ("AssetImport.business-glossary", "schedule"): 1,
            ("LineageBuilder.dbt-lineage", "missing"): 1,
            ("AssetImport.data-products", "credentials"): 1,
            ("LineageBuilder.azure-lineage", "credentials"): 1,
        }
    )
    modified = next(f for f in result.json()["findings"] if f["kind"] == "modified")
    assert modified["changes"] == [
        {"op": "change", "path": ["parameters", "assets_batch_size"], "old": 500, "new": 20}
    ]
    assert "rotated-outside-apply" not in result.out + result.err

    text = applied.cli("drift", str(applied.manifests)).out
    assert "~ parameters.assets_batch_size: 500 -> 20" in text
    assert text.rstrip().endswith("Drift: 5 drifted, 0 unhealthy, 7 checked.")


def test_a_failed_last_run_is_unhealthy(applied: Tenant) -> None:
    applied.admin.post("/_emulator/settings", json={"failure_rate": 1.0})
    applied.edit(SNOWFLAKE, 'token: "2026-11-21"', 'token: "fails"')
    assert applied.apply().code == 0
    applied.finish_runs()

    result = applied.cli("drift", "-o", "json", str(applied.manifests))
    assert result.code == 3
    (finding,) = result.json()["findings"]
    assert finding["kind"] == "unhealthy"
    assert finding["phase"] == "Failed"
    assert finding["run"].startswith(workflow_of(applied, "snowflake-assets") + "-")
    assert finding["finished_at"]


def test_drift_ignore_per_manifest_global_and_from_the_environment(
    applied: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    applied.ui_edit(workflow_of(applied, "snowflake-assets"), set_parameter("assets_batch_size", 500))
    applied.ui_edit(
        workflow_of(applied, "business-glossary"), set_parameter("glossaries_prefix", "/elsewhere")
    )
    assert applied.cli("drift", str(applied.manifests)).code == 3

    applied.edit(
        SNOWFLAKE, "  protect: true", "  protect: true\n  drift_ignore: [/parameters/assets_batch_size]"
    )
    result = applied.cli("drift", "-o", "json", str(applied.manifests))
    assert [f["address"] for f in result.json()["findings"]] == ["AssetImport.business-glossary"]

    assert applied.cli("drift", "--ignore", "/parameters/glossaries_prefix", str(applied.manifests)).code == 0
    monkeypatch.setenv("RECONCILER_DRIFT_IGNORE", "/parameters")
    assert applied.cli("drift", str(applied.manifests)).code == 0
    bad = applied.cli("drift", "--ignore", "parameters/x", str(applied.manifests))
    assert bad.code == 1
    assert "invalid drift ignore 'parameters/x'" in bad.err


def test_ignore_keeps_the_live_value_in_plan_and_apply(applied: Tenant) -> None:
    name = workflow_of(applied, "snowflake-assets")
    applied.ui_edit(name, set_parameter("assets_batch_size", 500))
    applied.edit(SNOWFLAKE, "  protect: true", "  protect: true\n  ignore: [/parameters/assets_batch_size]")
    assert "No changes." in applied.plan().out
    assert applied.cli("drift", str(applied.manifests)).code == 0

    applied.edit(SNOWFLAKE, "object_key: assets.csv", "object_key: assets-v2.csv")  # an unrelated change
    assert applied.apply().code == 0
    parameters = {
        p["name"]: p["value"]
        for p in applied.templates()[name]["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"][
            "parameters"
        ]
    }
    assert parameters["assets_key"] == "assets-v2.csv"
    assert parameters["assets_batch_size"] == 500  # the ignored field kept its live value


# -- prune ----------------------------------------------------------------------------------------------


def test_prune_archives_what_lost_its_manifest_within_the_guards(applied: Tenant) -> None:
    (applied.manifests / GLOSSARY).unlink()
    glossary = "csa-asset-import-1611995609"
    assert glossary in applied.templates()

    plain = applied.plan()
    assert "have no manifest and are left alone" in plain.out
    assert "0 to archive" in plain.out

    pruned = applied.plan("--prune", "-o", "json")
    assert pruned.code == 0
    (archive,) = [w for w in pruned.json()["workflows"] if w["actions"] == ["archive"]]
    assert archive["workflow"] == glossary
    assert archive["address"] == "AssetImport.business-glossary"

    assert applied.apply("--prune").code == 0
    assert glossary not in applied.templates()
    assert "No changes." in applied.plan("--prune").out


def test_prune_guards(applied: Tenant) -> None:
    for path in ("asset-import/data-products.yaml", "asset-import/tenant-backing-store.yaml"):
        (applied.manifests / path).unlink()
    refused = applied.plan("--prune")
    assert refused.code == 1
    assert "refusing to prune 2 of 7 managed workflows (29%): more than --max-prune 20%" in refused.err
    assert applied.plan("--prune", "--max-prune", "30%").code == 0
    # A bare number is a count (it once meant a share, silently): 1 is less than 2 ...
    counted = applied.plan("--prune", "--max-prune", "1")
    assert counted.code == 1
    assert "more than --max-prune 1, read as 1 workflow (a count)" in counted.err
    # ... and 2 allows both, though they are 29% of the managed set; the plan says how it read it.
    allowed = applied.plan("--prune", "--max-prune", "2")
    assert allowed.code == 0
    assert "--max-prune 2 is read as at most 2 workflows (a count)" in allowed.out
    assert applied.apply("--prune", "--max-prune", "2").code == 0
    assert len(applied.templates()) == 5

    # A path that holds none of the managed manifests: pruning would archive all of them.
    applied.edit(SNOWFLAKE, "protect: true", "protect: false")
    assert applied.apply().code == 0
    elsewhere = applied.manifests.parent / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "new.yaml").write_text(  # one without a data source, which is relative to it
        (applied.manifests / SNOWFLAKE)
        .read_text()
        .replace("    source: ../data/snowflake-assets.csv\n", "")
        .replace("snowflake-assets", "new-one")
    )
    result = applied.cli("plan", "--prune", "--max-prune", "100", str(elsewhere))
    assert result.code == 1
    assert "refusing to prune: it would archive every managed workflow (5)" in result.err
    assert len(applied.templates()) == 5


def test_protected_workflows_survive_prune(applied: Tenant) -> None:
    (applied.manifests / SNOWFLAKE).unlink()
    applied.edit("lineage/lineage.yaml", "  depends_on: [snowflake-assets]\n", "")
    applied.edit("lineage/lineage.yaml", "  depends_on: [snowflake-assets]  #", "  #")
    result = applied.plan("--prune", "-o", "json")
    assert result.code == 0
    assert not any(w["actions"] == ["archive"] for w in result.json()["workflows"])
    assert any("protected and kept" in note for note in result.json()["notes"])
    assert applied.apply("--prune").code == 0
    assert "csa-asset-import-2153912897" in applied.templates()


# -- adoption -------------------------------------------------------------------------------------------


def adopt_manifest(name: str, workflow: str) -> str:
    return f"""\
apiVersion: reconciler/v1
kind: AssetImport
metadata: {{name: {name}}}
spec:
  object_store:
    s3: {{access_key: test-access-key, secret_key: "${{env:AWS_SECRET_ACCESS_KEY}}", bucket: my-bucket, region: us-west-1}}
  assets:
    prefix: /test/prefix
    object_key: assets-test.csv
    input_handling: partial
    advanced: {{remove_attributes: [certificateStatus, announcementType], fail_on_errors: true, case_sensitive_match: false, field_separator: ",", batch_size: 20}}
  glossaries:
    prefix: /test/prefix
    object_key: glossaries-test.csv
    advanced: &common {{remove_attributes: [certificateStatus, announcementType], fail_on_errors: true, field_separator: ",", batch_size: 20}}
  data_products:
    prefix: /test/prefix
    object_key: data-products-test.csv
    advanced: *common
  adopt: {workflow}
"""


def test_adopting_a_workflow_created_with_the_sdk(applied: Tenant) -> None:
    applied.create_like_the_sdk("asset_import_s3", "csa-asset-import-1684500411")
    applied.finish_runs()
    (applied.manifests / "adopted.yaml").write_text(
        adopt_manifest("legacy-import", "csa-asset-import-1684500411")
    )

    plan = applied.plan("-o", "json").json()
    (entry,) = [w for w in plan["workflows"] if w["workflow"] == "csa-asset-import-1684500411"]
    assert entry["actions"] == ["adopt"]
    assert entry["changes"] == []
    before = applied.runs_of("csa-asset-import-1684500411")

    assert applied.apply().code == 0
    labels = applied.templates()["csa-asset-import-1684500411"]["metadata"]["labels"]
    assert labels[INSTANCE_LABEL] == "default"
    assert labels["reconciler.dev/manifest"] == "legacy-import"
    assert len(applied.runs_of("csa-asset-import-1684500411")) == len(before)  # adoption runs nothing
    assert "No changes." in applied.plan().out


def test_adopting_a_workflow_of_another_instance_is_refused(
    applied: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = applied.manifests.parent / "other"
    other.mkdir()
    (other / "theirs.yaml").write_text(
        adopt_manifest("theirs", "csa-asset-import-1111111111").replace(
            "  adopt: csa-asset-import-1111111111\n", ""
        )
    )
    monkeypatch.setenv("RECONCILER_INSTANCE", "team-b")
    assert applied.cli("apply", "--auto-approve", str(other)).code == 0
    theirs = next(
        n for n, t in applied.templates().items() if t["metadata"]["labels"][INSTANCE_LABEL] == "team-b"
    )
    monkeypatch.setenv("RECONCILER_INSTANCE", "default")

    (applied.manifests / "grab.yaml").write_text(adopt_manifest("grab", theirs))
    result = applied.plan()
    assert result.code == 1
    assert f"workflow {theirs} is managed by instance 'team-b', not 'default'" in result.err
    assert applied.apply().code == 1
    assert applied.templates()[theirs]["metadata"]["labels"][INSTANCE_LABEL] == "team-b"


# -- export ---------------------------------------------------------------------------------------------


def test_export_then_plan_shows_only_adoptions(
    applied: Tenant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    applied.create_like_the_sdk("asset_import_gcs", "csa-asset-import-1684500411")
    applied.create_like_the_sdk("lineage_builder_adls", "csa-lineage-builder-1684500412")
    applied.create_like_the_sdk("asset_import_default", "csa-asset-import-1684500413")
    exported = tmp_path / "exported"
    result = applied.cli("export", "--all", "-o", str(exported))
    assert result.code == 0, result.err
    assert "Exported 10 manifest(s)" in result.err
    assert "3 to adopt" in result.err
    assert (
        "${env:CSA_ASSET_IMPORT_1684500411_SERVICE_ACCOUNT_JSON}"
        in (exported / "csa-asset-import-1684500411.yaml").read_text()
    )

    secrets = {
        "CSA_ASSET_IMPORT_1684500411_SERVICE_ACCOUNT_JSON": "test-service-account-json",
        "CSA_LINEAGE_BUILDER_1684500412_CLIENT_SECRET": "test-client-secret",
        "CSA_ASSET_IMPORT_1684500413_SECRET_KEY": "test-secret-key",
        "SNOWFLAKE_ASSETS_SECRET_KEY": CANARY,
        "SNOWFLAKE_LINEAGE_SECRET_KEY": CANARY,
        "BUSINESS_GLOSSARY_SERVICE_ACCOUNT_JSON": CANARY,
        "DBT_LINEAGE_SERVICE_ACCOUNT_JSON": CANARY,
        "DATA_PRODUCTS_CLIENT_SECRET": CANARY,
        "AZURE_LINEAGE_CLIENT_SECRET": CANARY,
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    plan = applied.cli("plan", "-o", "json", str(exported)).json()
    actions = Counter(tuple(w["actions"]) for w in plan["workflows"])
    assert actions == Counter({("no-op",): 7, ("adopt",): 3})
    assert all(w["changes"] == [] for w in plan["workflows"])

    assert applied.cli("apply", "--auto-approve", str(exported)).code == 0
    assert "No changes." in applied.cli("plan", str(exported)).out
    assert not any(CANARY in p.read_text() for p in exported.iterdir())


# -- saved plans ----------------------------------------------------------------------------------------


def test_a_saved_plan_is_applied_exactly_and_holds_no_secret(tenant: Tenant, tmp_path: Path) -> None:
    saved = tmp_path / "plan.json"
    assert tenant.plan("--out", str(saved)).code == 0
    assert CANARY not in saved.read_text()
    result = tenant.cli("apply", str(saved))  # a reviewed plan needs no --auto-approve
    assert result.code == 0, result.err
    assert "Apply: 7 done" in result.out
    assert len(tenant.templates()) == 7


@pytest.mark.parametrize("change", ["manifest", "live", "secret"])
def test_a_stale_saved_plan_is_refused(
    applied: Tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    applied.edit(SNOWFLAKE, 'token: "2026-11-21"', 'token: "saved"')
    saved = tmp_path / "plan.json"
    assert applied.plan("--out", str(saved)).code == 0
    if change == "manifest":
        applied.edit(GLOSSARY, "fail_on_errors: false", "fail_on_errors: true")
        expected = "changed"
    elif change == "live":
        applied.ui_edit(workflow_of(applied, "business-glossary"), set_parameter("glossaries_batch_size", 7))
        expected = "live workflow csa-asset-import-1611995609 changed"
    else:
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "rotated")
        expected = "the credentials of AssetImport.snowflake-assets changed"
    applied.reset_counts()
    result = applied.cli("apply", str(saved))
    assert result.code == 1
    assert "the saved plan is stale" in result.err
    assert expected in result.err
    assert only_searches(applied)
