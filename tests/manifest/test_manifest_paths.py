"""Paths as users give them: directories followed through symbolic links (a loop read once), and
a file reached twice loaded once, under the name it was first reached by."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler import cli
from reconciler.errors import ManifestError
from reconciler.manifest.loader import load_manifests, manifest_files

VALID = """\
apiVersion: reconciler/v1
kind: AssetImport
metadata:
  name: {name}
spec:
  assets:
    prefix: /p
    object_key: a.csv
"""


def _manifest(path: Path, name: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(VALID.format(name=name))
    return path


def test_a_linked_directory_is_read_under_the_name_given(tmp_path: Path) -> None:
    # A team keeps its manifests elsewhere and links them in: skipping them silently made their
    # workflows candidates for --prune.
    _manifest(tmp_path / "elsewhere" / "team" / "b.yaml", "b")
    root = tmp_path / "manifests"
    _manifest(root / "a.yaml", "a")
    (root / "team").symlink_to(tmp_path / "elsewhere" / "team")
    files, problems = manifest_files([root])
    assert (files, problems) == ([root / "a.yaml", root / "team" / "b.yaml"], [])
    assert [m.name for m in load_manifests([root])] == ["a", "b"]


def test_a_link_loop_is_followed_once(tmp_path: Path) -> None:
    root = tmp_path / "manifests"
    _manifest(root / "a.yaml", "a")
    _manifest(root / "sub" / "b.yaml", "b")
    (root / "sub" / "up").symlink_to(root)  # a loop: sub/up/sub/up/...
    (root / "again").symlink_to(root / "sub")  # a second name for a directory
    files, problems = manifest_files([root])
    assert (files, problems) == ([root / "a.yaml", root / "sub" / "b.yaml"], [])


def test_a_directory_is_read_under_its_own_name_before_a_link_to_it(tmp_path: Path) -> None:
    root = tmp_path / "manifests"
    _manifest(root / "z-team" / "deep" / "b.yaml", "b")
    (root / "a-link").symlink_to(root / "z-team" / "deep")
    files, _ = manifest_files([root])
    assert files == [root / "z-team" / "deep" / "b.yaml"]


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(["a.yaml", "./a.yaml"], id="a.yaml and ./a.yaml"),
        pytest.param(["team", "team/a.yaml"], id="a directory and a file in it"),
        pytest.param(["team/a.yaml", "team"], id="a file and its directory"),
        pytest.param(["a.yaml", "link.yaml"], id="a file and a link to it"),
        pytest.param(["team", "a.yaml"], id="a directory with a link, and the file"),
    ],
)
def test_a_file_reached_twice_is_loaded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    _manifest(tmp_path / "team" / "a.yaml", "a")
    (tmp_path / "a.yaml").symlink_to(tmp_path / "team" / "a.yaml")
    (tmp_path / "link.yaml").symlink_to("a.yaml")
    files, problems = manifest_files([Path(p) for p in given])
    assert problems == []
    assert files == [Path(given[0]) / "a.yaml" if given[0] == "team" else Path(given[0])]
    # Before, the one manifest clashed with itself: "name 'a' is also used at team/a.yaml:4".
    (loaded,) = load_manifests([Path(p) for p in given])
    assert loaded.source.file == str(files[0])


def test_a_broken_link_is_a_problem_not_a_skipped_file(tmp_path: Path) -> None:
    root = tmp_path / "manifests"
    _manifest(root / "a.yaml", "a")
    (root / "gone.yaml").symlink_to(tmp_path / "moved.yaml")
    (root / "gone-team").symlink_to(tmp_path / "moved-team")
    (root / ".hidden").symlink_to(tmp_path / "nowhere")  # hidden entries stay skipped
    with pytest.raises(ManifestError) as caught:
        load_manifests([root])
    assert [str(p) for p in caught.value.problems] == [
        f"{root / 'gone-team'}: broken symbolic link (No such file or directory)",
        f"{root / 'gone.yaml'}: broken symbolic link (No such file or directory)",
    ]


def test_a_link_to_itself_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "self.yaml").symlink_to(tmp_path / "self.yaml")
    files, problems = manifest_files([tmp_path, tmp_path / "self.yaml"])
    assert files == []
    messages = [p.message for p in problems]
    assert messages[0].startswith("broken symbolic link (Too many levels of symbolic links")
    assert messages[1:] == ["no manifest files (*.yaml, *.yml)", messages[0]]


def test_prune_leaves_the_workflows_of_a_linked_directory_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECONCILER_TARGET", "embedded")
    root = tmp_path / "manifests"
    _manifest(root / "a.yaml", "a")
    team = _manifest(tmp_path / "elsewhere" / "team" / "b.yaml", "b").parent
    assert cli.main(["apply", "--auto-approve", str(root), str(team)]) == 0
    (root / "team").symlink_to(team)
    capsys.readouterr()
    # Before, b's workflow was an archive candidate here (and 1 of 2 is beyond --max-prune's 20%).
    assert cli.main(["plan", "--prune", "--detailed-exitcode", str(root)]) == 0
    assert "No changes." in capsys.readouterr().out
