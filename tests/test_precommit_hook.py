"""The pre-commit hook of ``.pre-commit-hooks.yaml``, run by the real pre-commit on partial commits.

A temporary git repository holds a copy of the example manifests and a ``.pre-commit-config.yaml``
with a ``repo: local`` hook copied from our hook definition (``language: system``, so pre-commit
installs nothing and needs no network; ``reconciler`` comes from this interpreter's bin directory).
Then one file is staged and ``git commit`` runs the installed hook.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.helpers import EXAMPLES, REPO

BIN = Path(sys.executable).parent
SNOWFLAKE = "manifests/asset-import/snowflake-assets.yaml"
LINEAGE = "manifests/lineage/lineage.yaml"  # snowflake-lineage depends_on snowflake-assets


def _hook() -> dict[str, Any]:
    hooks = YAML(typ="safe").load(REPO / ".pre-commit-hooks.yaml")
    hook: dict[str, Any] = next(h for h in hooks if h["id"] == "reconciler-validate")
    return hook


def _local_config() -> str:
    """Our hook as a ``repo: local`` hook: what users get, minus the install from the network."""
    hook = _hook()
    copied = {
        key: hook[key] for key in ("id", "name", "entry", "args", "files", "pass_filenames") if key in hook
    }
    config: dict[str, Any] = {"repos": [{"repo": "local", "hooks": [{**copied, "language": "system"}]}]}
    return json.dumps(config, indent=2)  # JSON is YAML


class Repository:
    def __init__(self, root: Path, home: Path) -> None:
        self.root = root
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PRE_COMMIT_HOME": str(home),
            "GIT_CONFIG_GLOBAL": os.devnull,  # no user or system git config (hooks path, signing)
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.invalid",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.invalid",
        }

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=120, check=False
        )

    def git(self, *argv: str) -> str:
        result = self.run("git", *argv)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new, 1))


@pytest.fixture
def repository(tmp_path: Path) -> Repository:
    assert (BIN / "reconciler").exists(), "the reconciler console script is not installed beside python"
    repo = Repository(tmp_path / "repo", tmp_path / "pre-commit-home")
    repo.root.mkdir()
    shutil.copytree(EXAMPLES, repo.root / "manifests")
    (repo.root / ".pre-commit-config.yaml").write_text(_local_config())
    repo.git("init", "--quiet", "--initial-branch=main")
    repo.git("add", "--all")
    repo.git("commit", "--quiet", "--no-verify", "-m", "manifests")
    installed = repo.run(sys.executable, "-m", "pre_commit", "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return repo


def test_a_commit_of_one_manifest_is_checked_against_the_whole_tree(repository: Repository) -> None:
    """Only lineage.yaml is staged; its depends_on names a manifest in another file. An unstaged,
    broken edit elsewhere is stashed by pre-commit, so it neither fails the commit nor is lost."""
    repository.edit(LINEAGE, 'cron: "30 3 * * *"', 'cron: "45 3 * * *"')
    repository.git("add", LINEAGE)
    repository.edit(SNOWFLAKE, "batch_size: 20", "batch_size: twenty")

    result = repository.run("git", "commit", "-m", "lineage a quarter later")

    output = result.stdout + result.stderr  # git shows the hook's output on stderr
    assert result.returncode == 0, output
    assert "reconciler validate" in output
    assert "Passed" in output
    assert repository.git("show", "--name-only", "--format=", "HEAD").split() == [LINEAGE]
    assert repository.git("status", "--porcelain").splitlines() == [f" M {SNOWFLAKE}"]
    assert "batch_size: twenty" in (repository.root / SNOWFLAKE).read_text()


def test_a_commit_that_breaks_a_dependency_in_another_file_is_refused(repository: Repository) -> None:
    """Renaming snowflake-assets breaks lineage.yaml, which is not staged: the commit stops."""
    repository.edit(SNOWFLAKE, "name: snowflake-assets", "name: snowflake-assets-v2")
    repository.git("add", SNOWFLAKE)
    head = repository.git("rev-parse", "HEAD")

    result = repository.run("git", "commit", "-m", "rename")

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Failed" in output
    assert f"{LINEAGE}:22:16: spec.depends_on[0]: no manifest named 'snowflake-assets'" in output
    assert repository.git("rev-parse", "HEAD") == head
