"""Issue 16 end to end, over real HTTP: the emulator served on 127.0.0.1 (the tenant's own store,
through Atlan's file API and presigned URLs) and a local stand-in of an S3 bucket in its objects
directory (the layout the emulator reads its runs' inputs from).

A first apply uploads each file and runs; the next plan is empty and asks no store anything;
rows added, changed and removed are planned with their counts and cells, then applied; an object
replaced between plan and apply fails its item only; a file replaced or deleted behind git's back
is drift; an apply stopped between the upload and the submit leaves the rerun pending.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from reconciler.apply import ApplyGuard, ApplyResult, Interruption, apply_plan
from reconciler.desired import DesiredWorkflow
from reconciler.engine import Uploads, plan_with_content, session
from reconciler.plan.model import Upload
from reconciler.settings import load_settings
from tests.helpers import CANARY
from tests.integration.conftest import Tenant
from tests.integration.test_interruption import Interrupting, When
from tests.integration.test_plan_apply import by_address, converged

GLOSSARY = "AssetImport.glossary"
ASSETS = "AssetImport.tables"
GLOSSARY_KEY = "glossaries/terms.csv"
ASSETS_KEY = "imports/tables.csv"
BUCKET = "acme-assets"

TERMS = (
    "typeName,name,anchor,userDescription,ownerUsers,qualifiedName\n"
    "AtlasGlossary,Finance,,Money matters,,\n"
    "AtlasGlossaryTerm,Revenue,Finance,Income,alice,\n"
    "AtlasGlossaryTerm,Cost,Finance,Outgoings,bob,\n"
)
TABLES = (
    "typeName,qualifiedName,name,userDescription\n"
    "Table,default/snowflake/1/DB/SCH/ORDERS,ORDERS,Orders\n"
    "Table,default/snowflake/1/DB/SCH/ITEMS,ITEMS,Items\n"
)
MANIFESTS = {
    "glossary.yaml": """\
        apiVersion: reconciler/v1
        kind: AssetImport
        metadata: {name: glossary}
        spec:
          glossaries:
            prefix: /glossaries
            object_key: terms.csv
            input_handling: upsert
            source: {file: ../data/terms.csv, mask: [ownerUsers]}
        """,
    "tables.yaml": """\
        apiVersion: reconciler/v1
        kind: AssetImport
        metadata: {name: tables}
        spec:
          object_store:
            s3:
              bucket: acme-assets
              region: us-west-1
              access_key: ${env:AWS_ACCESS_KEY_ID}
              secret_key: ${env:AWS_SECRET_ACCESS_KEY}
          assets:
            prefix: imports/
            object_key: tables.csv
            source: ../data/tables.csv
          run: {policy: RUN_POLICY}
        """,
}


class Project:
    """The tenant fixture with two manifests of our own, and where their objects live."""

    def __init__(self, tenant: Tenant, objects: Path) -> None:
        self.tenant = tenant
        self.objects = objects
        self.data = tenant.manifests.parent / "data"

    def write(self, name: str, text: str) -> None:
        (self.data / name).write_text(text)

    def glossary_object(self) -> Path:
        return self.objects / "tenant" / GLOSSARY_KEY

    def assets_object(self) -> Path:
        return self.objects / "s3" / BUCKET / ASSETS_KEY

    def workflow(self, address: str) -> str:
        return str(by_address(self.tenant.plan("-o", "json").json())[address]["workflow"])

    def runs(self, address: str) -> list[Any]:
        return self.tenant.runs_of(self.workflow(address))

    def run_inputs(self, address: str) -> list[dict[str, Any]]:
        newest = max(self.runs(address), key=lambda run: run.seq)
        inputs: list[dict[str, Any]] = newest.source["status"]["inputs"]
        return inputs

    def store_requests(self) -> int:
        """Requests the tenant's file API and its presigned URLs were asked."""
        return sum(
            1 for r in self.tenant.requests() if "presignedUrl" in r["path"] or "/_store/" in r["path"]
        )


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'


@pytest.fixture
def project(tenant: Tenant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    for path in tenant.manifests.rglob("*.yaml"):
        path.unlink()
    objects = tmp_path / "objects"  # the served emulator's objects directory (beside its database)
    monkeypatch.setenv("RECONCILER_STAND_INS", str(objects))
    project = Project(tenant, objects)
    project.data.mkdir()
    project.write("terms.csv", TERMS)
    project.write("tables.csv", TABLES)
    set_policy(project, "on-change")
    (tenant.manifests / "glossary.yaml").write_text(textwrap.dedent(MANIFESTS["glossary.yaml"]))
    return project


def set_policy(project: Project, policy: str) -> None:
    text = textwrap.dedent(MANIFESTS["tables.yaml"]).replace("RUN_POLICY", policy)
    (project.tenant.manifests / "tables.yaml").write_text(text)


@pytest.fixture
def applied(project: Project) -> Project:
    assert project.tenant.apply().code == 0
    project.tenant.finish_runs()
    return project


def test_the_first_apply_uploads_and_runs_and_the_next_plan_reads_no_object(
    project: Project, store_calls: Counter[str]
) -> None:
    planned = by_address(project.tenant.plan("-o", "json").json())
    [content] = planned[GLOSSARY]["content"]
    assert (content["object"], content["before_digest"], content["added"]) == (
        f"tenant:{GLOSSARY_KEY}",
        None,
        3,
    )
    assert planned[ASSETS]["content"][0]["object"] == f"s3://{BUCKET}/{ASSETS_KEY}"
    assert store_calls["GET"] == 2

    result = project.tenant.apply()
    assert result.code == 0, result.out + result.err
    assert project.glossary_object().read_bytes() == TERMS.encode()
    assert project.assets_object().read_bytes() == TABLES.encode()
    # Each run was created with the file in place (the emulator notes what a run reads).
    [glossary_input] = project.run_inputs(GLOSSARY)
    assert (glossary_input["store"], glossary_input["state"]) == ("tenant", "found")
    assert glossary_input["etag"] == md5_etag(TERMS.encode())
    [assets_input] = project.run_inputs(ASSETS)
    assert (assets_input["store"], assets_input["key"]) == (f"s3/{BUCKET}", ASSETS_KEY)
    assert assets_input["etag"] == md5_etag(TABLES.encode())

    assert project.store_requests() > 0  # the upload went through the file API and its URLs
    project.tenant.finish_runs()
    store_calls.clear()
    project.tenant.reset_counts()
    again = project.tenant.plan("--detailed-exitcode")
    assert again.code == 0, again.out
    assert "No changes." in again.out
    assert sum(store_calls.values()) == 0
    assert project.store_requests() == 0


def test_added_changed_and_removed_rows_are_planned_then_applied(
    applied: Project, store_calls: Counter[str]
) -> None:
    tenant = applied.tenant
    runs_before = len(applied.runs(GLOSSARY))
    applied.write(
        "terms.csv",
        TERMS.replace("Income,alice", "Income from sales,alice").replace(
            "AtlasGlossaryTerm,Cost,Finance,Outgoings,bob,\n",
            "AtlasGlossaryTerm,Margin,Finance,Revenue less cost,carol,\n",
        ),
    )
    store_calls.clear()
    exit_code = tenant.plan("--detailed-exitcode")
    assert exit_code.code == 2  # only content changed
    assert store_calls == Counter({"GET": 1})  # the changed file's object only
    assert "# content changed: glossaries (+1 ~1 -1 rows)" in exit_code.out
    assert "~ typeName=AtlasGlossaryTerm, name=Revenue, anchor=Finance: userDescription: " in exit_code.out

    entry = by_address(tenant.plan("-o", "json").json())[GLOSSARY]
    assert entry["actions"] == ["update", "rerun"]
    assert entry["reason"] == "content changed: glossaries (+1 ~1 -1 rows)"
    [content] = entry["content"]
    assert (content["added"], content["changed"], content["removed"]) == (1, 1, 1)
    assert content["before_digest"] == hashlib.sha256(TERMS.encode()).hexdigest()
    rows = {row["identity"]["name"]: row for row in content["rows"]}
    assert rows["Revenue"]["cells"] == [
        {"column": "userDescription", "old": "Income", "new": "Income from sales"}
    ]
    assert rows["Cost"]["op"] == "remove"
    margin = {cell["column"]: cell["new"] for cell in rows["Margin"]["cells"]}
    assert margin["ownerUsers"] == "sha256:" + hashlib.sha256(b"carol").hexdigest()[:12]  # masked
    assert "carol" not in json.dumps(entry)
    untouched = by_address(tenant.plan("-o", "json").json())[ASSETS]
    assert (untouched["actions"], untouched["content"]) == (["no-op"], [])

    result = tenant.apply()
    assert result.code == 0, result.out + result.err
    assert len(applied.runs(GLOSSARY)) == runs_before + 1
    written = applied.glossary_object().read_bytes()
    assert b"Margin" in written
    assert applied.run_inputs(GLOSSARY)[0]["etag"] == md5_etag(written)
    tenant.finish_runs()
    assert converged(tenant)
    assert tenant.cli("drift", str(tenant.manifests)).code == 0


def test_an_object_replaced_between_plan_and_upload_fails_that_item_only(
    applied: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = applied.tenant
    applied.write("terms.csv", TERMS.replace("Income,", "Earnings,"))
    applied.write("tables.csv", TABLES.replace("Orders", "All orders"))
    glossary_runs, assets_runs = len(applied.runs(GLOSSARY)), len(applied.runs(ASSETS))
    intruder = b"typeName,name,qualifiedName\nAtlasGlossary,Somebody else's,\n"
    original = Uploads.upload

    async def replaced_first(self: Uploads, desired: DesiredWorkflow, step: Upload) -> str:
        if step.section == "glossaries":  # someone writes the object after the plan read it
            with tenant.api() as api:
                url = api.post("files/presignedUrl", json={"key": step.key, "expiry": "60s", "method": "PUT"})
                assert api.put(url.json()["url"], content=intruder).status_code == 200
        return await original(self, desired, step)

    monkeypatch.setattr(Uploads, "upload", replaced_first)
    result = tenant.apply()

    assert result.code == 1
    failed = [line for line in result.out.splitlines() if "glossary" in line and "failed" in line]
    assert failed, result.out
    assert (
        f"glossaries: tenant:{GLOSSARY_KEY} was replaced since the plan read it; nothing was uploaded "
        "and nothing run: plan again to see its rows"
    ) in " ".join(result.out.split())
    assert applied.glossary_object().read_bytes() == intruder
    assert len(applied.runs(GLOSSARY)) == glossary_runs  # nothing run for it
    assert len(applied.runs(ASSETS)) == assets_runs + 1  # the other item went on
    assert b"All orders" in applied.assets_object().read_bytes()

    monkeypatch.setattr(Uploads, "upload", original)
    # Planned again, the rows are those of the object now in place: the intruder's.
    entry = by_address(tenant.plan("-o", "json").json())[GLOSSARY]
    assert entry["content"][0]["before_digest"] == hashlib.sha256(intruder).hexdigest()


def test_a_saved_plan_is_refused_when_the_object_changed_since(applied: Project) -> None:
    tenant = applied.tenant
    applied.write("terms.csv", TERMS.replace("Income,", "Earnings,"))
    plan_file = tenant.manifests.parent / "plan.json"
    assert tenant.plan("--out", str(plan_file)).code == 0
    saved = plan_file.read_text()
    assert "presigned" not in saved.lower()
    assert "X-Amz-Signature" not in saved
    applied.glossary_object().write_bytes(b"typeName,name,qualifiedName\nAtlasGlossary,Edited by hand,\n")

    refused = tenant.cli("apply", str(plan_file))
    assert refused.code == 1
    assert (
        "the saved plan is not what planning decides now: AssetImport.glossary: steps, content differ"
        in refused.err
    )

    assert tenant.plan("--out", str(plan_file)).code == 0
    assert tenant.cli("apply", str(plan_file)).code == 0
    assert b"Earnings" in applied.glossary_object().read_bytes()


def test_a_file_replaced_or_deleted_behind_gits_back_is_drift(
    applied: Project, store_calls: Counter[str]
) -> None:
    tenant = applied.tenant
    drift = tenant.cli("drift", str(tenant.manifests))
    assert drift.code == 0, drift.out
    assert store_calls == Counter({"HEAD": 2})  # one HEAD per recorded file, no body read

    applied.glossary_object().write_bytes(b"typeName,name,qualifiedName\nAtlasGlossary,Edited by hand,\n")
    applied.assets_object().unlink()
    drift = tenant.cli("drift", str(tenant.manifests))
    assert drift.code == 3
    assert "[content]" in drift.out
    assert f"# glossaries: replaced outside git (tenant:{GLOSSARY_KEY})" in drift.out
    report = tenant.cli("drift", str(tenant.manifests), "-o", "json").json()
    found = {(f["address"], f["kind"]): f["message"] for f in report["findings"]}
    assert found == {
        (GLOSSARY, "content"): f"glossaries: replaced outside git (tenant:{GLOSSARY_KEY})",
        (ASSETS, "content"): f"assets: missing: deleted outside git (s3://{BUCKET}/{ASSETS_KEY})",
    }

    store_calls.clear()
    assert tenant.cli("drift", str(tenant.manifests), "--no-content").code == 0
    assert sum(store_calls.values()) == 0
    assert tenant.cli("drift", str(tenant.manifests), "--ignore", "/content").code == 0

    # Not applied yet is told apart: the next apply writes it, and drift says so.
    applied.write("terms.csv", TERMS.replace("Income,", "Earnings,"))
    report = tenant.cli("drift", str(tenant.manifests), "-o", "json").json()
    assert {
        (f["address"], f["kind"], f["message"]) for f in report["findings"] if f["address"] == GLOSSARY
    } == {(GLOSSARY, "unapplied", "content not applied yet (run apply): glossaries")}


def test_run_policy_never_uploads_and_starts_no_run(applied: Project) -> None:
    tenant = applied.tenant
    set_policy(applied, "never")
    applied.write("tables.csv", TABLES.replace("Items", "Line items"))
    runs = len(applied.runs(ASSETS))
    entry = by_address(tenant.plan("-o", "json").json())[ASSETS]
    assert entry["actions"] == ["update"]
    assert entry["reason"] == "content changed: assets (+0 ~1 -0 rows)"
    assert tenant.apply().code == 0
    assert b"Line items" in applied.assets_object().read_bytes()
    assert len(applied.runs(ASSETS)) == runs
    assert converged(tenant)


def test_no_credential_or_presigned_url_is_shown(applied: Project) -> None:
    tenant = applied.tenant
    applied.write("terms.csv", TERMS.replace("Income,", "Earnings,"))
    outputs = [
        tenant.cli("-v", "plan", str(tenant.manifests)),
        tenant.cli("-v", "plan", "-o", "json", str(tenant.manifests)),
        tenant.cli("-v", "apply", "--auto-approve", str(tenant.manifests)),
        tenant.cli("-vv", "drift", str(tenant.manifests)),
    ]
    shown = "".join(result.out + result.err for result in outputs)
    assert "tenant:glossaries/terms.csv" in shown  # the objects are named our way
    for secret in ("X-Amz-Signature", "_store/", CANARY, "alice", "bob"):
        assert secret not in shown


# -- an apply stopped between the upload and the submit -------------------------------------------

# A content-only rerun: the runs in progress, the newest run, the claim (with the new content
# record), the submit, the confirmation. The upload comes before the second call.
CALLS = ["runs_for", "newest_run", "update_workflow", "submit", "update_workflow"]


async def _apply(tenant: Tenant, at: int, when: When) -> tuple[ApplyResult, list[str]]:
    settings = load_settings()
    async with session(settings, [tenant.manifests], os.environ) as (client, stores, desired, live):
        guard = ApplyGuard.of(live, desired, instance=settings.instance)
        planned, _, _ = await plan_with_content(settings, stores, desired, live)
        interruption = Interruption()
        api = Interrupting(client, interruption, at, when, signals=2)
        result = await apply_plan(
            planned, desired, api, guard=guard, interruption=interruption, uploads=Uploads(stores)
        )
    return result, api.calls


def test_the_calls_of_a_content_rerun(applied: Project) -> None:
    (applied.tenant.manifests / "tables.yaml").unlink()
    applied.write("terms.csv", TERMS.replace("Income,", "Earnings,"))
    result, calls = asyncio.run(_apply(applied.tenant, at=0, when="before"))
    assert calls == CALLS
    assert [item.outcome for item in result.items] == ["done"]
    assert result.items[0].detail.startswith("glossaries uploaded; run ")


@pytest.mark.parametrize(
    ("at", "when"), [(at, when) for at in range(1, len(CALLS) + 1) for when in ("before", "after")]
)
def test_an_apply_stopped_anywhere_leaves_the_rerun_of_the_new_file_pending(
    applied: Project, at: int, when: When
) -> None:
    tenant = applied.tenant
    (tenant.manifests / "tables.yaml").unlink()
    edited = TERMS.replace("Income,", "Earnings,").encode()
    applied.write("terms.csv", edited.decode())
    workflow = applied.workflow(GLOSSARY)
    runs_before = len(tenant.runs_of(workflow))

    result, _ = asyncio.run(_apply(tenant, at=at, when=when))

    assert result.interrupted
    started = len(tenant.runs_of(workflow)) - runs_before
    assert started in (0, 1)
    entry = by_address(tenant.plan("-o", "json").json())[GLOSSARY]
    if started:
        assert "rerun" not in entry["actions"], entry  # it ran with the new file: nothing pending
        assert applied.run_inputs(GLOSSARY)[0]["etag"] == md5_etag(edited)
    else:
        assert "rerun" in entry["actions"], entry
        if applied.glossary_object().read_bytes() == edited:  # uploaded, stopped before the submit
            assert "uploaded already, not run yet" in entry["reason"] or entry["reason"] == (
                "an apply asked for this run and was stopped before it started"
            )
        assert tenant.cli("drift", str(tenant.manifests)).code == 3

    assert tenant.apply().code == 0
    assert len(tenant.runs_of(workflow)) - runs_before == 1
    assert applied.run_inputs(GLOSSARY)[0]["etag"] == md5_etag(edited)  # never a run of the old file
    tenant.finish_runs()
    assert converged(tenant)


@pytest.mark.parametrize(
    ("at", "reason"),
    [
        (2, "content changed: glossaries (+0 ~0 -0 rows; uploaded already, not run yet)"),
        (4, "an apply asked for this run and was stopped before it started"),
    ],
)
def test_stopped_after_the_upload_the_plan_says_why_the_rerun_is_pending(
    applied: Project, at: int, reason: str
) -> None:
    """Before the claim: the new file is in place, its record is not, so it is run (not uploaded
    again). Before the submit: the claim recorded the new file, and the run it asked for is missing."""
    tenant = applied.tenant
    (tenant.manifests / "tables.yaml").unlink()
    edited = TERMS.replace("Income,", "Earnings,").encode()
    applied.write("terms.csv", edited.decode())

    result, calls = asyncio.run(_apply(tenant, at=at, when="before"))

    assert calls[-1] == CALLS[at - 1]
    assert result.interrupted
    assert applied.glossary_object().read_bytes() == edited
    entry = by_address(tenant.plan("-o", "json").json())[GLOSSARY]
    assert entry["reason"] == reason
    assert not any(step for step in entry["content"] if step["before_digest"] != step["after_digest"])
    drift = tenant.cli("drift", str(tenant.manifests), "-o", "json").json()
    found = {f["kind"] for f in drift["findings"] if f["address"] == GLOSSARY}
    assert found == {"unapplied" if at == 2 else "pending"}


def test_the_embedded_emulator_keeps_the_files_in_its_state_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``make demo``'s case: no cloud account, no tenant; the buckets are directories of the state."""
    from reconciler import cli

    monkeypatch.chdir(tmp_path)
    state = tmp_path / "state"
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(state))
    monkeypatch.setenv("RECONCILER_STAND_INS", str(tmp_path / "elsewhere"))  # not for the embedded one
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEMBEDDED")
    manifests, data = tmp_path / "manifests", tmp_path / "data"
    manifests.mkdir()
    data.mkdir()
    (data / "terms.csv").write_text(TERMS)
    (data / "tables.csv").write_text(TABLES)
    (manifests / "glossary.yaml").write_text(textwrap.dedent(MANIFESTS["glossary.yaml"]))
    (manifests / "tables.yaml").write_text(
        textwrap.dedent(MANIFESTS["tables.yaml"]).replace("RUN_POLICY", "on-change")
    )

    assert cli.main(["apply", "--auto-approve", str(manifests)]) == 0
    assert (state / "objects" / "tenant" / GLOSSARY_KEY).read_bytes() == TERMS.encode()
    assert (state / "objects" / "s3" / BUCKET / ASSETS_KEY).read_bytes() == TABLES.encode()
    assert not (tmp_path / "elsewhere").exists()
    capsys.readouterr()
    assert cli.main(["plan", "--detailed-exitcode", str(manifests)]) == 0
    assert "No changes." in capsys.readouterr().out


@pytest.mark.parametrize("policy", ["on-change", "always"])
def test_a_run_in_progress_holds_back_the_upload_its_record_waits_for(project: Project, policy: str) -> None:
    """on-change: the new file's record goes with the claim of its run, which waits for the run in
    progress: so does the upload. always: the record is written by the update, so the file goes
    up with it, and the next apply's run reads it."""
    tenant = project.tenant
    set_policy(project, policy)
    assert tenant.apply().code == 0  # the first runs are still in progress: not finished here
    edited = TABLES.replace("Orders", "All orders")
    project.write("tables.csv", edited)

    result = tenant.apply()
    assert result.code == 0, result.out + result.err
    assert "already running" in result.out
    uploaded = project.assets_object().read_bytes() == edited.encode()
    assert uploaded is (policy == "always")
    entry = by_address(tenant.plan("-o", "json").json())[ASSETS]
    assert bool(entry["content"]) is (policy == "on-change")  # still to upload, or recorded

    tenant.finish_runs()
    assert tenant.apply().code == 0
    assert project.run_inputs(ASSETS)[0]["etag"] == md5_etag(edited.encode())
