"""The workflow API over real HTTP: endpoints, Kubernetes/Argo semantics, runs, credentials, auth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.emulator import EmulatorServer
from tests.emulator.conftest import KEY, START, make_config, package_body, put_fixture_files

NAME = "csa-asset-import-1700000000"
BY_TEMPLATE = {"term": {"spec.workflowTemplateRef.name.keyword": {"value": NAME}}}


def search(
    client: httpx.Client, index: str, query: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"from": 0, "size": 100, **extra}
    if query is not None:
        body["query"] = query
    response = client.post(f"{index}/indexsearch", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def runs_of(client: httpx.Client, name: str = NAME) -> list[dict[str, Any]]:
    query = {"term": {"spec.workflowTemplateRef.name.keyword": {"value": name}}}
    hits: list[dict[str, Any]] = search(client, "runs", query)["hits"]["hits"]
    return hits


def test_health_needs_no_key(server: EmulatorServer) -> None:
    response = httpx.get(server.base_url + "/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong"}, {"authorization": KEY}, {"authorization": f"Basic {KEY}"}],
)
@pytest.mark.parametrize("path", ["/api/service/whoami", "/_emulator/counts"])
def test_auth_refused(server: EmulatorServer, headers: dict[str, str], path: str) -> None:
    response = httpx.get(server.base_url + path, headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert body["errorCode"]
    assert body["errorMessage"]
    assert KEY not in response.text


def test_whoami_role_is_configurable(client: httpx.Client, admin: httpx.Client) -> None:
    assert client.get("whoami").json()["roles"] == [{"name": "$api-token-default-access"}]
    assert admin.post("settings", json={"role": "$member"}).status_code == 200
    assert client.get("whoami").json()["roles"] == [{"name": "$member"}]
    assert admin.post("settings", json={"nope": 1}).status_code == 400


def test_unknown_endpoint_is_a_json_404(client: httpx.Client) -> None:
    response = client.post("no/such/endpoint/here")
    assert response.status_code == 404
    assert response.json()["errorMessage"]


@pytest.mark.parametrize("family", ["workflows", "package-workflows"])
def test_create_with_submit_stores_template_and_first_run(client: httpx.Client, family: str) -> None:
    body = package_body(name=NAME)
    response = client.post(f"{family}?submit=true", json=body)
    assert response.status_code == 200
    created = response.json()
    metadata = created["metadata"]
    assert metadata["name"] == NAME
    assert metadata["labels"] == body["metadata"]["labels"]
    assert metadata["annotations"] == body["metadata"]["annotations"]
    assert metadata["generation"] == 1
    assert metadata["creationTimestamp"] == "2027-01-15T08:00:00Z"
    assert metadata["uid"]
    assert metadata["resourceVersion"]
    assert created["payload"] == []
    hits = search(client, family, {"term": {"_id": NAME}})["hits"]
    assert hits["total"] == {"value": 1, "relation": "eq"}
    hit = hits["hits"][0]
    assert set(hit) >= {"_index", "_type", "_id", "_seq_no", "_primary_term", "sort", "_source"}
    source = hit["_source"]
    assert (source["apiVersion"], source["kind"]) == ("argoproj.io/v1alpha1", "WorkflowTemplate")
    assert source["metadata"]["labels"] == body["metadata"]["labels"]
    (run,) = runs_of(client)
    assert run["_id"].startswith(NAME + "-")
    assert run["_source"]["spec"]["workflowTemplateRef"] == {"name": NAME}


def test_create_without_submit_starts_no_run(client: httpx.Client, create: Callable[..., Any]) -> None:
    create(NAME, submit=False)
    assert runs_of(client) == []
    assert search(client, "workflows")["hits"]["total"]["value"] == 1


def test_credentials_are_stored_apart(
    client: httpx.Client, admin: httpx.Client, create: Callable[..., Any]
) -> None:
    created = create(NAME)
    assert "test-secret-key" not in str(created)
    (credential,) = admin.get("credentials").json()["credentials"]
    assert credential["workflow"] == NAME
    assert credential["authType"] == "s3"
    assert "test-secret-key" not in str(credential)
    parameters = created["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    cloud_source = next(p["value"] for p in parameters if p["name"] == "cloud_source")
    assert cloud_source == credential["guid"]
    hit = search(client, "workflows")["hits"]["hits"][0]
    assert "test-secret-key" not in str(hit)
    assert "payload" not in hit["_source"]


def test_credential_metadata_is_readable_but_never_its_secret(
    client: httpx.Client, create: Callable[..., Any]
) -> None:
    created = create(NAME)
    guid = next(p["value"] for p in _parameters(created) if p["name"] == "cloud_source")
    response = client.get(f"credentials/{guid}")
    assert response.status_code == 200
    assert response.json() == {
        "id": guid,
        "name": "csa-asset-import-123456-0",  # as the body sent it
        "authType": "s3",
        "username": "test-access-key",
        "extra": {"region": "us-west-1", "s3_bucket": "my-bucket"},
        "connectorConfigName": "csa-connectors-objectstore",
    }
    assert client.get("credentials/no-such-guid").status_code == 404


def _parameters(body: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = body["spec"]["templates"][0]["dag"]["tasks"][0]["arguments"]["parameters"]
    return params


def test_update_with_and_without_payload(
    client: httpx.Client, admin: httpx.Client, create: Callable[..., Any]
) -> None:
    created = create(NAME, submit=False)
    guid = next(p["value"] for p in _parameters(created) if p["name"] == "cloud_source")
    # without a payload the credential and cloud_source stay, even when the body has the placeholder
    body = package_body(name=NAME)
    del body["payload"]
    body["metadata"]["labels"]["extra"] = "yes"
    updated = client.post(f"workflows/{NAME}", json=body).json()
    assert next(p["value"] for p in _parameters(updated) if p["name"] == "cloud_source") == guid
    assert updated["metadata"]["labels"]["extra"] == "yes"
    assert updated["metadata"]["generation"] == 1  # only labels changed
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    # with a payload the credential is replaced
    body = package_body(name=NAME)
    body["payload"][0]["body"]["password"] = "rotated-secret"
    replaced = client.post(f"workflows/{NAME}", json=body).json()
    new_guid = next(p["value"] for p in _parameters(replaced) if p["name"] == "cloud_source")
    assert new_guid != guid
    assert replaced["metadata"]["generation"] == 2  # cloud_source changed: a spec change
    credentials = admin.get("credentials").json()["credentials"]
    assert [(c["guid"], c["active"]) for c in credentials] == [(guid, False), (new_guid, True)]
    assert credentials[0]["fingerprint"] != credentials[1]["fingerprint"]


def test_resource_version_rules(client: httpx.Client, create: Callable[..., Any]) -> None:
    created = create(NAME, submit=False)
    body = {"metadata": dict(created["metadata"]), "spec": created["spec"]}
    first = client.post(f"workflows/{NAME}", json=body)
    assert first.status_code == 200
    stale = client.post(f"workflows/{NAME}", json=body)
    assert stale.status_code == 409
    assert "modified" in stale.json()["errorMessage"]
    body["metadata"]["resourceVersion"] = first.json()["metadata"]["resourceVersion"]
    body["spec"] = {**body["spec"], "entrypoint": "other"}
    fresh = client.post(f"workflows/{NAME}", json=body)
    assert fresh.status_code == 200
    assert fresh.json()["metadata"]["generation"] == 2
    del body["metadata"]["resourceVersion"]
    assert client.post(f"workflows/{NAME}", json=body).status_code == 200
    assert fresh.json()["metadata"]["uid"] == created["metadata"]["uid"]
    assert fresh.json()["metadata"]["creationTimestamp"] == created["metadata"]["creationTimestamp"]


def test_conflicts_and_missing(client: httpx.Client, create: Callable[..., Any]) -> None:
    create(NAME)
    assert client.post("workflows?submit=true", json=package_body(name=NAME)).status_code == 409
    assert client.post("workflows", json=package_body(name=NAME)).status_code == 409
    missing = "csa-asset-import-1799999999"
    assert client.post(f"workflows/{missing}", json=package_body(name=missing)).status_code == 404
    assert client.post(f"workflows/{missing}/archive").status_code == 404
    assert client.post(f"workflows/{missing}/changeownership", json={"username": "x"}).status_code == 404
    submit = {"namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": missing}
    assert client.post("workflows/submit", json=submit).status_code == 404
    assert client.post("runs/nope-abcde/stop").status_code == 404
    assert client.get(f"runs/cron/{missing}-cron").status_code == 404
    assert client.post(f"workflows/{NAME}", json=package_body(name="other-name")).status_code == 400


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b["metadata"].update(name="Upper_Case"), "RFC 1123"),
        (lambda b: b["metadata"]["labels"].update(bad="x" * 64), "valid label"),
        (lambda b: b["metadata"]["annotations"].update(number=1), "annotations"),
        (lambda b: b.pop("spec"), "spec"),
        (lambda b: b.update(payload={"not": "a list"}), "payload"),
    ],
)
def test_invalid_bodies(client: httpx.Client, mutate: Callable[[dict[str, Any]], Any], message: str) -> None:
    body = package_body(name=NAME)
    mutate(body)
    response = client.post("workflows", json=body)
    assert response.status_code == 400
    assert message in response.json()["errorMessage"]


def test_archive_hides_and_frees_the_name(client: httpx.Client, create: Callable[..., Any]) -> None:
    first = create(NAME)
    assert client.post(f"workflows/{NAME}/archive").status_code == 200
    assert search(client, "workflows")["hits"]["total"]["value"] == 0
    assert client.post(f"workflows/{NAME}/archive").status_code == 404
    assert len(runs_of(client)) == 1  # runs stay searchable
    second = create(NAME)
    assert second["metadata"]["uid"] != first["metadata"]["uid"]
    assert search(client, "workflows")["hits"]["total"]["value"] == 1


def test_run_lifecycle(client: httpx.Client, admin: httpx.Client, create: Callable[..., Any]) -> None:
    put_fixture_files(admin)  # the run reads them: without them it would end Failed
    create(NAME)
    (run,) = runs_of(client)
    source = run["_source"]
    labels = source["metadata"]["labels"]
    assert source["status"]["phase"] == labels["workflows.argoproj.io/phase"] == "Pending"
    assert labels["workflows.argoproj.io/workflow-template"] == NAME
    assert labels["workflows.argoproj.io/creator"]
    assert source["status"]["startedAt"] == "2027-01-15T08:00:00Z"
    assert source["status"]["finishedAt"] is None
    admin.post("clock", json={"advance": 1})
    assert runs_of(client)[0]["_source"]["status"]["phase"] == "Running"
    admin.post("clock", json={"advance": 29})
    status = runs_of(client)[0]["_source"]["status"]
    assert status["phase"] == "Succeeded"
    assert status["finishedAt"] == "2027-01-15T08:00:30Z"
    submit = {"namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": NAME}
    rerun = client.post("workflows/submit", json=submit).json()
    assert rerun["metadata"]["name"] != run["_id"]
    assert rerun["status"]["phase"] == "Pending"
    assert rerun["spec"]["workflowTemplateRef"] == {"name": NAME}
    assert client.post("package-workflows/submit", json=submit).status_code == 200
    latest = search(
        client,
        "runs",
        {"bool": {"filter": [BY_TEMPLATE]}},
        size=1,
        sort=[{"status.startedAt": {"order": "desc"}}],
    )
    assert latest["hits"]["total"]["value"] == 3
    assert latest["hits"]["hits"][0]["_id"] not in (run["_id"], rerun["metadata"]["name"])


def test_stop(client: httpx.Client, admin: httpx.Client, create: Callable[..., Any]) -> None:
    create(NAME)
    admin.post("clock", json={"advance": 5})
    (run,) = runs_of(client)
    stopped = client.post(f"runs/{run['_id']}/stop")
    assert stopped.status_code == 200
    assert stopped.json()["status"]["phase"] == "Running"
    assert stopped.json()["status"]["storedWorkflowTemplateSpec"]["workflowTemplateRef"]["name"] == NAME
    status = runs_of(client)[0]["_source"]["status"]
    assert status["phase"] == "Failed"
    assert status["finishedAt"] == "2027-01-15T08:00:05Z"
    assert client.post(f"runs/{run['_id']}/stop").status_code == 200  # stopping again is harmless
    admin.post("clock", json={"advance": 100})
    assert runs_of(client)[0]["_source"]["status"]["phase"] == "Failed"
    submit = {"namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": NAME}
    finished = client.post("workflows/submit", json=submit).json()["metadata"]["name"]
    admin.post("clock", json={"advance": 100})
    assert client.post(f"runs/{finished}/stop").status_code == 409


def test_failure_rate_is_seeded(tmp_path: Any) -> None:
    outcomes = []
    for attempt in range(2):
        # About the seeded outcomes: runs are only accepted, not carried out (they read no files).
        config = make_config(
            tmp_path / f"{attempt}.db", failure_rate=0.5, seed=7, run_seconds=0, run_imports=False
        )
        with (
            EmulatorServer(config) as server,
            httpx.Client(
                base_url=server.base_url + "/api/service/", headers={"authorization": f"Bearer {KEY}"}
            ) as client,
        ):
            client.post("workflows?submit=true", json=package_body(name=NAME))
            submit = {"namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": NAME}
            for _ in range(11):
                client.post("workflows/submit", json=submit)
            hits = search(client, "runs", sort=[{"metadata.name": "asc"}])["hits"]["hits"]
            outcomes.append([(h["_id"], h["_source"]["status"]["phase"]) for h in hits])
    assert outcomes[0] == outcomes[1]
    phases = {phase for _, phase in outcomes[0]}
    assert phases == {"Succeeded", "Failed"}


def test_change_ownership_sets_the_creator_of_later_runs(
    client: httpx.Client, create: Callable[..., Any]
) -> None:
    created = create(NAME)
    response = client.post(f"workflows/{NAME}/changeownership", json={"username": "jsmith"})
    assert response.status_code == 200
    assert response.json()["metadata"]["labels"] == created["metadata"]["labels"]
    assert client.post(f"workflows/{NAME}/changeownership", json={}).status_code == 400
    submit = {"namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": NAME}
    client.post("workflows/submit", json=submit)
    creators = {h["_source"]["metadata"]["labels"]["workflows.argoproj.io/creator"] for h in runs_of(client)}
    assert "jsmith" in creators


def test_cron(client: httpx.Client, create: Callable[..., Any]) -> None:
    create(NAME)
    assert client.get("runs/cron").json() == {"items": []}
    body = package_body(name="csa-lineage-builder-1700000000", fixture="lineage_builder_s3")
    body["metadata"]["annotations"]["orchestration.atlan.com/schedule"] = "0 1 * * *"
    body["metadata"]["annotations"]["orchestration.atlan.com/timezone"] = "Europe/Paris"
    client.post("workflows?submit=true", json=body)
    (item,) = client.get("runs/cron").json()["items"]
    assert item["metadata"]["name"] == "csa-lineage-builder-1700000000-cron"
    assert (item["spec"]["schedule"], item["spec"]["timezone"]) == ("0 1 * * *", "Europe/Paris")
    one = client.get("runs/cron/csa-lineage-builder-1700000000-cron")
    assert one.status_code == 200
    assert one.json() == item
    query = "startDate=2024-03-25T16:30:00.000%2B05:30&endDate=2024-03-26T16:30:00.000%2B05:30"
    assert client.get(f"runs/cron/scheduleQueriesBetweenDuration?{query}").json() == []
    assert client.get("runs/cron/missedScheduleQueriesBetweenDuration").status_code == 400


def test_trigger_as_owner_reruns(client: httpx.Client, create: Callable[..., Any]) -> None:
    create(NAME)
    body = {"namespace": "default", "resourceKind": "WorkflowTemplate", "resourceName": NAME}
    assert client.post("workflows/triggerAsOwner", json=body).status_code == 200
    assert len(runs_of(client)) == 2
    assert client.post("workflows/submit", json={**body, "resourceKind": "Workflow"}).status_code == 400


def test_clock_admin(admin: httpx.Client) -> None:
    assert admin.get("clock").json() == {"now": "2027-01-15T08:00:00Z", "epoch": START, "frozen": True}
    assert admin.post("clock", json={"advance": 90}).json()["now"] == "2027-01-15T08:01:30Z"
    assert admin.post("clock", json={"set": "2030-01-01T00:00:00Z"}).json()["now"] == "2030-01-01T00:00:00Z"
    assert admin.post("clock", json={"set": START}).json()["epoch"] == START
    assert admin.post("clock", json={"bogus": 1}).status_code == 400
    assert admin.post("clock", json={"freeze": False}).json()["frozen"] is False


def test_state_and_reset(client: httpx.Client, admin: httpx.Client, create: Callable[..., Any]) -> None:
    create(NAME)
    assert admin.get("state").json() == {"templates": 1, "runs": 1, "runs_by_phase": {"Pending": 1}}
    assert admin.post("reset").json() == {"reset": True}
    assert admin.get("state").json()["templates"] == 0
    assert admin.get("counts").json()["total"] == 0
    create(NAME)
