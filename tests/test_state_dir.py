"""The state directory: private, ignored by git, and never holding a secret."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from reconciler import cli
from reconciler.commands import emulator as emulator_command
from reconciler.emulator.store import Store, salt_of
from reconciler.settings import STATE_GITIGNORE, ensure_state_dir, load_settings
from tests.helpers import CANARY, EXAMPLES

# Characters JSON escapes (a quote, a backslash, a slash, non-ASCII), so an escaped copy differs.
SECRET = 'state-dir-secret-"quoted"\\back/slash-é-' + CANARY
ROTATED = "rotated-état-\\-" + CANARY[::-1]
MANIFEST = EXAMPLES / "asset-import" / "snowflake-assets.yaml"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _forms(secret: str) -> list[bytes]:
    """The ways ``secret`` could be written down: raw, and JSON-escaped with and without ASCII."""
    return [
        secret.encode(),
        json.dumps(secret)[1:-1].encode(),
        json.dumps(secret, ensure_ascii=False)[1:-1].encode(),
    ]


def _files_holding(directory: Path, secret: str) -> list[str]:
    found = []
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            content = path.read_bytes()
            if any(form in content for form in _forms(secret)):
                found.append(str(path.relative_to(directory)))
    return found


@pytest.fixture
def umask() -> Iterator[None]:
    """A permissive umask, so a 0o700 mode is the code's doing, not the machine's."""
    previous = os.umask(0o002)
    try:
        yield
    finally:
        os.umask(previous)


# -- ensure_state_dir --------------------------------------------------------------------------------


def test_a_new_state_dir_is_private_and_ignored_by_git(tmp_path: Path, umask: None) -> None:
    state = tmp_path / "nested" / "state"
    assert ensure_state_dir(state) == state
    assert _mode(state) == 0o700
    assert (state / ".gitignore").read_text() == STATE_GITIGNORE
    assert STATE_GITIGNORE.splitlines()[-1] == "*"


def test_git_sees_nothing_in_a_state_dir(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    environ = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, env=environ)
    state = ensure_state_dir(tmp_path / ".reconciler")
    (state / "emulator.db").write_bytes(b"state")
    (tmp_path / "kept.txt").write_text("tracked")
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout.splitlines() == ["?? kept.txt"]


def test_an_existing_state_dir_of_an_older_version_is_tightened(tmp_path: Path) -> None:
    state = tmp_path / ".reconciler"
    (state / "cache" / "manifests").mkdir(parents=True)
    (state / "emulator.db").write_bytes(b"")
    (state / "emulator.db-wal").write_bytes(b"")
    state.chmod(0o755)
    ensure_state_dir(state)
    assert _mode(state) == 0o700
    assert (state / ".gitignore").read_text() == STATE_GITIGNORE


def test_a_state_dir_holding_the_emulators_objects_is_one(tmp_path: Path) -> None:
    """The embedded emulator keeps uploaded files and bucket stand-ins in objects/ (issue 16)."""
    state = tmp_path / ".reconciler"
    (state / "objects" / "tenant").mkdir(parents=True)
    (state / "emulator.db").write_bytes(b"")
    state.chmod(0o755)
    ensure_state_dir(state)
    assert _mode(state) == 0o700
    assert (state / ".gitignore").read_text() == STATE_GITIGNORE


def test_a_state_dir_holding_other_state_dirs_is_one(tmp_path: Path) -> None:
    state = tmp_path / ".reconciler"
    ensure_state_dir(state / "demo")
    state.chmod(0o755)
    ensure_state_dir(state)
    assert _mode(state) == 0o700
    assert (state / ".gitignore").read_text() == STATE_GITIGNORE


def test_a_directory_of_other_files_is_left_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("mine")
    tmp_path.chmod(0o755)
    ensure_state_dir(tmp_path)
    assert _mode(tmp_path) == 0o755
    assert not (tmp_path / ".gitignore").exists()


def test_a_gitignore_of_ones_own_is_kept(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / ".gitignore").write_text("emulator.db\n")
    ensure_state_dir(state)
    assert (state / ".gitignore").read_text() == "emulator.db\n"
    assert _mode(state) == 0o700


def test_a_file_in_the_way_is_an_os_error(tmp_path: Path) -> None:
    (tmp_path / "state").write_text("not a directory")
    with pytest.raises(FileExistsError):
        ensure_state_dir(tmp_path / "state")


def test_a_state_dir_that_cannot_be_made_is_one_line_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(tmp_path / "file" / "state"))
    monkeypatch.setenv("RECONCILER_CACHE", "false")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    assert cli.main(["plan", str(MANIFEST)]) == 1
    _, err = capsys.readouterr()
    assert err.startswith("error: RECONCILER_STATE_DIR: cannot create the state directory (")
    assert len(err.splitlines()) == 1


def test_the_manifest_cache_makes_the_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: None
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(state))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    cache = load_settings().manifest_cache()
    assert cache is not None
    assert not state.exists()  # nothing is made until an entry is written
    assert cli.main(["validate", str(MANIFEST)]) == 0
    assert _mode(state) == 0o700
    assert (state / ".gitignore").read_text() == STATE_GITIGNORE
    assert list((state / "cache" / "manifests").iterdir())


@pytest.mark.parametrize("existing", [False, True])
def test_emulator_serve_makes_the_databases_directory_like_a_state_dir(
    existing: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: None
) -> None:
    served: list[Any] = []
    monkeypatch.setattr("reconciler.emulator.server.serve", lambda config, **_: served.append(config))
    if existing:  # a directory with files of its own: the database goes there, nothing else changes
        directory = tmp_path / "mine"
        directory.mkdir()
        (directory / "notes.txt").write_text("mine")
        directory.chmod(0o755)
    else:
        directory = tmp_path / "new" / "state"
    result = CliRunner().invoke(
        emulator_command.app, ["serve", "--api-key", "k", "--db", str(directory / "e.db")]
    )
    assert result.exit_code == 0, result.output
    assert len(served) == 1
    assert _mode(directory) == (0o755 if existing else 0o700)
    assert (directory / ".gitignore").exists() is not existing


# -- no secret at rest ---------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One AssetImport whose S3 secret key is ``${env:STATE_DIR_TEST_SECRET}``, the embedded
    emulator as target, and the state directory in tmp_path."""
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    text = MANIFEST.read_text()
    assert "${env:AWS_SECRET_ACCESS_KEY}" in text
    (manifests / "assets.yaml").write_text(
        text.replace("${env:AWS_SECRET_ACCESS_KEY}", "${env:STATE_DIR_TEST_SECRET}")
    )
    (tmp_path / "data").mkdir()  # its data source, so that the uploaded file is in the state too
    shutil.copy(EXAMPLES / "data" / "snowflake-assets.csv", tmp_path / "data")
    monkeypatch.chdir(tmp_path)  # outside git, data sources must be under the current directory
    monkeypatch.setenv("STATE_DIR_TEST_SECRET", SECRET)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASTATEDIR")
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(tmp_path / "state"))
    return manifests


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    return code, out


def _active_digests(database: Path) -> dict[str, str]:
    store = Store(database)
    try:
        return {c["workflow"]: c["fingerprint"] for c in store.credentials() if c["active"]}
    finally:
        store.close()


def test_no_file_in_the_state_dir_holds_the_secret_and_a_rotation_still_shows(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    code, _ = _run(capsys, "apply", "--auto-approve", str(project))
    assert code == 0
    assert _mode(state) == 0o700
    assert (state / ".gitignore").read_text() == STATE_GITIGNORE
    assert (state / "emulator.db").is_file()
    assert list((state / "cache" / "manifests").iterdir())  # the cache was written too
    assert _files_holding(state, SECRET) == []
    before = _active_digests(state / "emulator.db")
    assert len(before) == 1
    (workflow, digest_before), *_ = before.items()
    assert digest_before.startswith("v1:")

    monkeypatch.setenv("STATE_DIR_TEST_SECRET", ROTATED)
    code, out = _run(capsys, "plan", "-o", "json", str(project))
    assert code == 0
    (entry,) = json.loads(out)["workflows"]
    assert entry["actions"] == ["update"]
    assert entry["reason"] == "credentials changed"

    code, _ = _run(capsys, "apply", "--auto-approve", str(project))
    assert code == 0
    after = _active_digests(state / "emulator.db")
    assert set(after) == {workflow}
    assert after[workflow] != digest_before
    assert salt_of(after[workflow]) == salt_of(digest_before)  # the same credential, rotated
    assert _files_holding(state, SECRET) == []
    assert _files_holding(state, ROTATED) == []

    code, out = _run(capsys, "plan", "--detailed-exitcode", str(project))
    assert code == 0, out


def test_the_scan_finds_a_secret_written_in_any_form(tmp_path: Path) -> None:
    for position, form in enumerate(_forms(SECRET)):
        (tmp_path / f"{position}.bin").write_bytes(b"\x00prefix" + form + b"suffix")
    assert _files_holding(tmp_path, SECRET) == ["0.bin", "1.bin", "2.bin"]
