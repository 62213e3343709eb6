"""Every action used by the composite action and by the workflows is pinned by full commit SHA.

A tag (`@v5`) can be moved to other code by whoever controls the action's repository; a commit
cannot. Each pin carries the release it stands for in a comment (`# v5.1.0`), which is what a
reader and an update tool go by. Local actions (`./`) are the checked-out commit itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.helpers import REPO

FILES = [REPO / "action.yml", *sorted((REPO / ".github" / "workflows").glob("*.yml"))]

USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)(?P<rest>.*)$")
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(?:/[^@\s]+)?@[0-9a-f]{40}$")
RELEASE_COMMENT = re.compile(r"^\s+# v\d+(?:\.\d+)*(?:\s|$)")


def problem(ref: str, rest: str) -> str | None:
    """Why one `uses:` line is not an acceptable pin, or None when it is."""
    if ref.startswith("./"):
        return None
    if not PINNED.match(ref):
        return f"{ref} is not pinned by a full 40-hex commit SHA"
    if not RELEASE_COMMENT.match(rest):
        return f"{ref} has no `# vX.Y.Z` comment naming the release it is"
    return None


def uses_lines(path: Path) -> Iterator[tuple[int, str, str]]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = USES_LINE.match(line)
        if match:
            yield number, match["ref"], match["rest"]


def uses_values(node: Any) -> Iterator[str]:
    """Every `uses:` value in a parsed YAML document, wherever it stands."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uses" and isinstance(value, str):
                yield value
            else:
                yield from uses_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from uses_values(item)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0", None),
        ("      uses: actions/cache/restore@0057852bfaa89a56745cba8c7296529d2fc39830 # v4.3.0", None),
        ("      - uses: ./ # zizmor: ignore[self-repository]", None),
        ("      - uses: actions/checkout@v5", "not pinned"),
        ("      - uses: actions/checkout@08c6903 # v5.0.0", "not pinned"),
        ("      - uses: actions/checkout@main # v5.0.0", "not pinned"),
        ("      - uses: actions/checkout@08C6903CD8C0FDE910A37F88322EDCFB5DD907A8 # v5.0.0", "not pinned"),
        ("      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8", "no `# vX.Y.Z`"),
        ("      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # main", "no `# vX.Y.Z`"),
        ("      - uses: docker://alpine:3", "not pinned"),
    ],
)
def test_the_pin_check_tells_a_pin_from_a_tag(line: str, expected: str | None) -> None:
    match = USES_LINE.match(line)
    assert match is not None
    found = problem(match["ref"], match["rest"])
    if expected is None:
        assert found is None
    else:
        assert found is not None
        assert expected in found


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_every_remote_action_is_pinned_by_commit_with_its_release(path: Path) -> None:
    lines = list(uses_lines(path))
    # The line scan sees every `uses:` the YAML holds (none is written in a form it would miss).
    document = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    assert sorted(ref for _, ref, _ in lines) == sorted(uses_values(document))
    problems = [
        f"{path.relative_to(REPO)}:{number}: {found}"
        for number, ref, rest in lines
        if (found := problem(ref, rest)) is not None
    ]
    assert not problems, "\n".join(problems)


def test_the_files_use_remote_actions_at_all() -> None:
    remote = [ref for path in FILES for _, ref, _ in uses_lines(path) if not ref.startswith("./")]
    assert {ref.split("@")[0] for ref in remote} >= {
        "actions/checkout",
        "actions/setup-python",
        "actions/cache",
    }


def test_each_action_has_one_pin_everywhere() -> None:
    """One commit (and one release comment) per action across all files, so an update is whole."""
    pins: dict[str, set[str]] = {}
    for path in FILES:
        for _, ref, rest in uses_lines(path):
            if ref.startswith("./"):
                continue
            pins.setdefault(ref.partition("@")[0], set()).add(f"{ref}{rest.rstrip()}")
    mixed = {name: sorted(found) for name, found in pins.items() if len(found) > 1}
    assert not mixed, mixed
