"""The manifest cache: unchanged files are read back, never a secret is written, errors stay exact."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from reconciler import cli
from reconciler.desired import read_desired
from reconciler.errors import ManifestError
from reconciler.manifest.cache import MAX_AGE_SECONDS, ManifestCache
from reconciler.manifest.loader import load_manifests
from tests.helpers import CANARY, EXAMPLES

MANIFEST = """\
apiVersion: reconciler/v1
kind: AssetImport
metadata:
  name: {name}
spec:
  object_store:
    s3: {{access_key: AKIA, secret_key: "${{env:CANARY_SECRET}}", bucket: b, region: r}}
  assets: {{prefix: /p, object_key: a.csv}}
{extra}"""


def write(path: Path, name: str, extra: str = "") -> Path:
    path.write_text(MANIFEST.format(name=name, extra=extra))
    return path


@pytest.fixture
def cache(tmp_path: Path) -> ManifestCache:
    return ManifestCache(tmp_path / "cache")


def entries(cache: ManifestCache) -> list[Path]:
    return sorted(cache.directory.glob("*.json")) if cache.directory.exists() else []


def test_a_second_load_reads_every_file_from_the_cache_and_gets_the_same_manifests(
    tmp_path: Path, cache: ManifestCache
) -> None:
    examples = shutil.copytree(EXAMPLES, tmp_path / "examples")
    fresh = load_manifests([examples])
    first = load_manifests([examples], cache=cache)
    assert (cache.hits, cache.misses) == (0, len(list(examples.rglob("*.yaml"))))

    again = ManifestCache(cache.directory)
    cached = load_manifests([examples], cache=again)
    assert again.hits == cache.misses
    assert again.misses == 0
    assert [m.manifest for m in cached] == [m.manifest for m in fresh] == [m.manifest for m in first]
    # Not only equal: what was set explicitly stays so (it decides e.g. the SDK's "null" quirk).
    assert [m.manifest.model_dump(exclude_unset=True) for m in cached] == [
        m.manifest.model_dump(exclude_unset=True) for m in fresh
    ]
    assert [(m.source.file, m.source.document, m.location) for m in cached] == [
        (m.source.file, m.source.document, m.location) for m in fresh
    ]


def test_compiling_from_the_cache_gives_the_same_requests(tmp_path: Path, cache: ManifestCache) -> None:
    environ = dict.fromkeys(
        ("AWS_SECRET_ACCESS_KEY", "GCS_SERVICE_ACCOUNT_JSON", "AZURE_CLIENT_SECRET"), CANARY
    )
    environ["AWS_ACCESS_KEY_ID"] = "AKIAEXAMPLE"
    fresh = read_desired([EXAMPLES], instance="ci", environ=environ)
    read_desired([EXAMPLES], instance="ci", environ=environ, cache=cache)
    again = ManifestCache(cache.directory)
    cached = read_desired([EXAMPLES], instance="ci", environ=environ, cache=again)
    assert again.hits > 0
    assert [d.compiled for d in cached] == [d.compiled for d in fresh]


def test_no_secret_and_no_environment_value_is_written(tmp_path: Path, cache: ManifestCache) -> None:
    write(tmp_path / "a.yaml", "a")
    read_desired([tmp_path / "a.yaml"], instance="ci", environ=dict(os.environ), cache=cache)
    [entry] = entries(cache)
    text = entry.read_text()
    assert CANARY not in text
    assert "${env:CANARY_SECRET}" in text  # the reference, as written in the manifest


def test_an_edited_file_is_parsed_again(tmp_path: Path, cache: ManifestCache) -> None:
    path = write(tmp_path / "a.yaml", "a")
    load_manifests([path], cache=cache)
    write(path, "renamed")
    again = ManifestCache(cache.directory)
    [loaded] = load_manifests([path], cache=again)
    assert loaded.name == "renamed"
    assert (again.hits, again.misses) == (0, 1)
    assert len(entries(cache)) == 2


def test_a_damaged_entry_is_ignored_and_replaced(tmp_path: Path, cache: ManifestCache) -> None:
    path = write(tmp_path / "a.yaml", "a")
    load_manifests([path], cache=cache)
    [entry] = entries(cache)
    entry.write_text('{"documents": [{"document": 0')
    again = ManifestCache(cache.directory)
    [loaded] = load_manifests([path], cache=again)
    assert loaded.name == "a"
    assert again.misses == 1
    assert json.loads(entry.read_text())["documents"][0]["manifest"]["metadata"]["name"] == "a"


def test_a_file_with_problems_is_not_cached(tmp_path: Path, cache: ManifestCache) -> None:
    write(tmp_path / "a.yaml", "a", extra="  bogus: 1\n")
    with pytest.raises(ManifestError):
        load_manifests([tmp_path], cache=cache)
    assert entries(cache) == []


def test_a_problem_involving_a_cached_file_still_points_at_its_line(
    tmp_path: Path, cache: ManifestCache
) -> None:
    write(tmp_path / "a.yaml", "a", extra="  depends_on: [b]\n")
    write(tmp_path / "b.yaml", "b")
    load_manifests([tmp_path], cache=cache)  # both valid, both cached
    (tmp_path / "b.yaml").unlink()
    with pytest.raises(ManifestError) as caught:
        load_manifests([tmp_path], cache=ManifestCache(cache.directory))
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.path) == (str(tmp_path / "a.yaml"), 9, "spec.depends_on[0]")
    assert "no manifest named 'b'" in problem.message


def test_a_duplicate_name_across_a_cached_and_a_new_file_names_both_lines(
    tmp_path: Path, cache: ManifestCache
) -> None:
    write(tmp_path / "a.yaml", "same")
    load_manifests([tmp_path], cache=cache)
    write(tmp_path / "b.yaml", "same")
    with pytest.raises(ManifestError) as caught:
        load_manifests([tmp_path], cache=ManifestCache(cache.directory))
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(tmp_path / "b.yaml"), 4)
    assert f"also used at {tmp_path / 'a.yaml'}:4" in problem.message


def test_entries_unused_for_a_week_are_removed_when_entries_are_added(
    tmp_path: Path, cache: ManifestCache
) -> None:
    load_manifests([write(tmp_path / "a.yaml", "a")], cache=cache)
    [old] = entries(cache)
    long_ago = time.time() - MAX_AGE_SECONDS - 60
    os.utime(old, (long_ago, long_ago))
    load_manifests([tmp_path / "a.yaml"], cache=ManifestCache(cache.directory))  # a hit: nothing added
    assert old.exists()
    assert old.stat().st_mtime > long_ago
    os.utime(old, (long_ago, long_ago))
    load_manifests([write(tmp_path / "b.yaml", "b")], cache=ManifestCache(cache.directory))
    assert not old.exists()
    assert len(entries(cache)) == 1


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    cache = ManifestCache(blocker / "cache")
    [loaded] = load_manifests([write(tmp_path / "a.yaml", "a")], cache=cache)
    assert loaded.name == "a"
    assert cache.misses == 1
    assert list(tmp_path.glob("**/*.tmp")) == []


def test_the_cli_caches_under_the_state_dir_unless_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(tmp_path / "state"))
    write(tmp_path / "a.yaml", "a")
    monkeypatch.setenv("RECONCILER_CACHE", "false")
    assert cli.main(["validate", str(tmp_path / "a.yaml")]) == 0
    assert not (tmp_path / "state").exists()
    monkeypatch.delenv("RECONCILER_CACHE")
    assert cli.main(["validate", str(tmp_path / "a.yaml")]) == 0
    assert len(list((tmp_path / "state" / "cache" / "manifests").glob("*.json"))) == 1
    assert capsys.readouterr().out.count("Valid: 1 manifest in 1 file") == 2


def test_a_missing_variable_in_a_cached_file_is_reported_at_its_line(
    tmp_path: Path, cache: ManifestCache
) -> None:
    write(tmp_path / "a.yaml", "a")
    read_desired([tmp_path], instance="ci", environ=dict(os.environ), cache=cache)
    again = ManifestCache(cache.directory)
    with pytest.raises(ManifestError) as caught:
        read_desired([tmp_path], instance="ci", environ={}, cache=again)
    assert again.hits == 1
    [problem] = caught.value.problems
    assert (problem.line, problem.path) == (7, "spec.object_store.s3.secret_key")
    assert "CANARY_SECRET is not set" in problem.message


def test_valid_manifests_keep_only_the_position_of_their_name(tmp_path: Path) -> None:
    [loaded] = load_manifests([write(tmp_path / "a.yaml", "a")])
    assert dict(loaded.source.values) == {("metadata", "name"): loaded.source.position(("metadata", "name"))}
    [exact] = load_manifests([tmp_path / "a.yaml"], exact_positions=True)
    assert exact.source.position(("spec", "assets", "object_key")).line == 8


def test_the_quick_path_and_the_exact_path_load_the_same_manifests(tmp_path: Path) -> None:
    merged = tmp_path / "merged.yaml"
    merged.write_text(
        "base: &meta {name: merged}\n"
        "---\n"
        "apiVersion: reconciler/v1\nkind: AssetImport\n"
        "metadata: {<<: {name: from-merge}}\n"
        "spec:\n  object_store: {}\n  assets: {prefix: /p, object_key: a.csv}\n"
    )
    quick = load_manifests([EXAMPLES])
    exact = load_manifests([EXAMPLES], exact_positions=True)
    assert [(m.manifest, m.location) for m in quick] == [(m.manifest, m.location) for m in exact]
    with pytest.raises(ManifestError):  # the first document is not a manifest
        load_manifests([merged])
    merged.write_text(merged.read_text().split("---\n", 1)[1])
    [loaded] = load_manifests([merged])  # the name merged in: found by the exact path
    assert (loaded.name, loaded.location) == ("from-merge", f"{merged}:3")
