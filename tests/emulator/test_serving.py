"""Persistence across restarts, the CLI, in-process use through httpx.ASGITransport, concurrency."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import anyio
import httpx
import pytest

from reconciler.emulator import EmulatorServer, create_app
from tests.emulator.conftest import KEY, make_config, package_body, put_fixture_files
from tests.helpers import REPO

NAME = "csa-asset-import-1700000000"
AUTH = {"authorization": f"Bearer {KEY}"}


def test_state_survives_a_restart(db: Path) -> None:
    with EmulatorServer(make_config(db)) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as c:
        created = c.post("/api/service/workflows?submit=true", json=package_body(name=NAME)).json()
    with EmulatorServer(make_config(db)) as server, httpx.Client(base_url=server.base_url, headers=AUTH) as c:
        hits = c.post("/api/service/workflows/indexsearch", json={"size": 5}).json()["hits"]["hits"]
        assert [h["_source"]["metadata"] for h in hits] == [created["metadata"]]
        runs = c.post("/api/service/runs/indexsearch", json={"size": 5}).json()["hits"]["total"]["value"]
        assert runs == 1
        assert c.post("/api/service/workflows", json=package_body(name=NAME)).status_code == 409
        assert c.get("/_emulator/credentials").json()["credentials"][0]["workflow"] == NAME


def test_two_apps_on_one_database_see_each_other(db: Path) -> None:
    with (
        EmulatorServer(make_config(db)) as first,
        EmulatorServer(make_config(db)) as second,
        httpx.Client(base_url=first.base_url, headers=AUTH) as a,
        httpx.Client(base_url=second.base_url, headers=AUTH) as b,
    ):
        assert b.post("/api/service/workflows/indexsearch", json={}).json()["hits"]["total"]["value"] == 0
        a.post("/api/service/workflows", json=package_body(name=NAME))
        assert b.post("/api/service/workflows/indexsearch", json={}).json()["hits"]["total"]["value"] == 1
        assert b.post("/api/service/workflows", json=package_body(name=NAME)).status_code == 409
        assert a.post(f"/api/service/workflows/{NAME}/archive").status_code == 200
        assert b.post("/api/service/workflows/indexsearch", json={}).json()["hits"]["total"]["value"] == 0


def test_concurrent_creates_of_one_name_give_one_winner(server: EmulatorServer) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt() -> None:
        with httpx.Client(base_url=server.base_url, headers=AUTH) as c:
            status = c.post("/api/service/workflows?submit=true", json=package_body(name=NAME)).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 7
    assert server.app.emulator.store.runs().__len__() == 1


def test_in_process_through_asgi_transport(db: Path) -> None:
    app = create_app(make_config(db))

    async def scenario() -> tuple[int, int, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator", headers=AUTH) as c:
            created = await c.post("/api/service/workflows?submit=true", json=package_body(name=NAME))
            found = await c.post("/api/service/workflows/indexsearch", json={})
            await c.post("/_emulator/faults", json={"script": [{"fault": "drop"}]})
            try:
                await c.get("/api/service/whoami")
                dropped = 0
            except httpx.TransportError:
                dropped = 1
            return created.status_code, found.json()["hits"]["total"]["value"], dropped

    try:
        assert anyio.run(scenario) == (200, 1, 1)
        assert app.emulator.log.counts()["by_endpoint"]["GET whoami"] == 1
    finally:
        app.emulator.close()


def _cli(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    code = "from reconciler.commands.emulator import app; app()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def test_cli_serves_and_prints_its_url(tmp_path: Path) -> None:
    process = _cli("--port", "0", "--db", str(tmp_path / "cli.db"), "--api-key", KEY, "--run-seconds", "0")
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.split("listening on ")[1].split()[0]
        assert httpx.get(url + "/").status_code == 200
        with httpx.Client(base_url=url + "/_emulator/", headers=AUTH) as admin:
            put_fixture_files(admin)  # the run reads them: without them it would end Failed
        with httpx.Client(base_url=url, headers=AUTH) as c:
            assert (
                c.post("/api/service/workflows?submit=true", json=package_body(name=NAME)).status_code == 200
            )
            run = c.post("/api/service/runs/indexsearch", json={}).json()["hits"]["hits"][0]
            assert run["_source"]["status"]["phase"] == "Succeeded"  # --run-seconds 0
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert KEY not in stderr
    assert (tmp_path / "cli.db").exists()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
def test_cli_refuses_a_remote_host(tmp_path: Path, host: str) -> None:
    process = _cli("--host", host, "--db", str(tmp_path / "x.db"), "--api-key", KEY)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "--allow-remote" in stderr
    assert stdout == ""
