"""Files the CLI writes: ``export -o DIR``, ``plan --out FILE`` and ``emulator serve --db``.

Something in the way (a file where a directory should be, a missing directory, no permission, a
full disk) is one ``error:`` line naming the path, exit 1, and leaves every target as it was:
no half-written file, no temporary file, no directory made for nothing.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

from reconciler import cli
from tests.helpers import EXAMPLES, REPO


@pytest.fixture
def manifests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The examples, planned against the embedded emulator (state in this test's state dir)."""
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAOUTPUTFILES")
    copy = tmp_path / "manifests"
    shutil.copytree(EXAMPLES, copy)
    monkeypatch.chdir(tmp_path)  # outside git, data sources must be under the current directory
    return copy


@pytest.fixture
def applied(manifests: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """As ``manifests``, applied, so that ``export --all`` has workflows to write."""
    assert cli.main(["apply", "--auto-approve", str(manifests)]) == 0
    capsys.readouterr()
    return manifests


@pytest.fixture
def locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory nobody may write into. Root may write anyway (as in CI containers), so the
    kernel's refusal is also given by os.open and os.mkdir for anything inside it."""
    directory = tmp_path / "locked"
    directory.mkdir(mode=0o500)

    def refuse(original: Any) -> Any:
        def call(path: Any, *args: Any, **kwargs: Any) -> Any:
            if Path(os.fsdecode(path)).parent == directory:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
            return original(path, *args, **kwargs)

        return call

    monkeypatch.setattr(os, "open", refuse(os.open))
    monkeypatch.setattr(os, "mkdir", refuse(os.mkdir))
    try:
        yield directory
    finally:
        directory.chmod(0o700)


def _error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run the CLI, expect exit 1, and return its last stderr line (the error)."""
    capsys.readouterr()
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "internal error" not in err
    return err.splitlines()[-1]


def _disk_full(_: int) -> NoReturn:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


# -- export -o DIR ------------------------------------------------------------------------------------


def test_export_onto_an_existing_file_is_an_error_and_leaves_the_file(
    applied: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine\n")
    line = _error(capsys, ["export", "--all", "-o", str(target)])
    assert line == f"error: cannot write {target}: it is not a directory"
    assert target.read_text() == "mine\n"


def test_export_below_a_file_names_the_file_in_the_way(
    applied: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocking = tmp_path / "notes.txt"
    blocking.write_text("mine\n")
    line = _error(capsys, ["export", "--all", "-o", str(blocking / "imported")])
    assert line == f"error: cannot write {blocking / 'imported'}: {blocking} is not a directory"
    assert blocking.read_text() == "mine\n"


def test_export_force_writes_every_manifest_or_none(
    applied: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One target is a directory: the manifests before it in the list are not replaced either."""
    out = tmp_path / "imported"
    out.mkdir()
    (out / "business-glossary.yaml").write_text("old\n")
    (out / "tenant-store-assets.yaml").mkdir()
    line = _error(capsys, ["export", "--all", "--force", "-o", str(out)])
    assert line == f"error: cannot write {out / 'tenant-store-assets.yaml'}: it is a directory"
    assert (out / "business-glossary.yaml").read_text() == "old\n"
    assert sorted(p.name for p in out.iterdir()) == ["business-glossary.yaml", "tenant-store-assets.yaml"]


def test_export_on_a_full_disk_leaves_no_file_and_no_directory(
    applied: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fsync", _disk_full)
    out = tmp_path / "new" / "imported"
    line = _error(capsys, ["export", "--all", "-o", str(out)])
    assert line.startswith(f"error: cannot write {out}/")
    assert line.endswith(": no space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifests"]  # "new" was removed again


def test_export_into_a_read_only_directory(
    applied: Path, locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _error(capsys, ["export", "--all", "-o", str(locked / "imported")])
    assert line == f"error: cannot write {locked / 'imported'}: permission denied"


def test_export_writes_whole_files_and_no_temporary_ones(
    applied: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "a" / "b"
    assert cli.main(["export", "--all", "-o", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 7
    assert all(name.endswith(".yaml") and not name.startswith(".") for name in names)
    assert (out / "snowflake-assets.yaml").read_text().startswith("# Exported by reconciler")


# -- plan --out FILE -----------------------------------------------------------------------------------


def test_plan_out_into_a_missing_directory(
    manifests: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "plans" / "plan.json"
    line = _error(capsys, ["plan", str(manifests), "--out", str(target)])
    assert (
        line
        == f"error: cannot write {target}: the directory {target.parent} does not exist (create it first)"
    )
    assert not target.parent.exists()


def test_plan_out_below_a_file(manifests: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocking = tmp_path / "plans"
    blocking.write_text("mine\n")
    line = _error(capsys, ["plan", str(manifests), "--out", str(blocking / "plan.json")])
    assert line == f"error: cannot write {blocking / 'plan.json'}: {blocking} is not a directory"
    assert blocking.read_text() == "mine\n"


def test_plan_out_onto_a_directory(
    manifests: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _error(capsys, ["plan", str(manifests), "--out", str(tmp_path)])
    assert line == f"error: cannot write {tmp_path}: it is a directory"


def test_plan_out_into_a_read_only_directory(
    manifests: Path, locked: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _error(capsys, ["plan", str(manifests), "--out", str(locked / "plan.json")])
    assert line == f"error: cannot write {locked / 'plan.json'}: permission denied"


def test_plan_out_that_fails_keeps_the_previous_plan_whole(
    manifests: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    saved = plans / "plan.json"
    assert cli.main(["plan", str(manifests), "--out", str(saved)]) == 0
    before = saved.read_bytes()
    monkeypatch.setattr(os, "fsync", _disk_full)
    line = _error(capsys, ["plan", str(manifests), "--out", str(saved)])
    assert line == f"error: cannot write {saved}: no space left on device"
    assert saved.read_bytes() == before
    assert [p.name for p in plans.iterdir()] == ["plan.json"]


def test_plan_out_writes_a_file_as_the_umask_says(
    manifests: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    umask = os.umask(0o022)
    os.umask(umask)
    saved = tmp_path / "plan.json"
    assert cli.main(["plan", str(manifests), "--out", str(saved)]) == 0
    assert saved.stat().st_mode & 0o777 == 0o666 & ~umask
    assert cli.main(["apply", "--auto-approve", str(saved)]) == 0  # a whole, usable plan


# -- emulator serve --db ---------------------------------------------------------------------------------


def _serve(db: Path) -> subprocess.CompletedProcess[str]:
    # A bad --db must stop the command at start; the timeout only ends the old behaviour (serving).
    code = "import sys; from reconciler.cli import main; sys.exit(main(sys.argv[1:]))"
    argv = ["emulator", "serve", "--port", "0", "--db", str(db)]
    return subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "ATLAN_API_KEY": "output-files-key"},
        cwd=REPO,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda p: p.mkdir(), "unable to open database file", id="a directory"),
        pytest.param(lambda p: p.write_text("notes\n"), "file is not a database", id="not SQLite"),
    ],
)
def test_emulator_serve_refuses_a_db_it_cannot_open(
    tmp_path: Path, make: Callable[[Path], object], message: str
) -> None:
    db = tmp_path / "state"
    make(db)
    result = _serve(db)
    assert result.returncode == 1
    assert result.stderr == f"error: cannot open the state database {db}: {message}\n"
    assert result.stdout == ""


def test_emulator_serve_db_below_a_file(tmp_path: Path) -> None:
    blocking = tmp_path / "notes.txt"
    blocking.write_text("mine\n")
    result = _serve(blocking / "emulator.db")
    assert result.returncode == 1
    assert (
        result.stderr == f"error: cannot use --db {blocking / 'emulator.db'}: {blocking} is not a directory\n"
    )
    assert blocking.read_text() == "mine\n"
