"""The Atlan vocabulary the checks use is the SDK's: the committed file is what
tests/data/sdk_vocabulary.py reads from the unmodified pyatlan."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from reconciler.data.vocabulary import cell_check, multi_valued, vocabulary
from tests.helpers import REPO

SDK_PYTHON = REPO / ".venv-sdk" / "bin" / "python"
SCRIPT = Path(__file__).resolve().parent / "sdk_vocabulary.py"
COMMITTED = REPO / "reconciler" / "data" / "atlan_vocabulary.json"


@pytest.mark.sdk
def test_the_committed_vocabulary_is_the_sdks() -> None:
    if not SDK_PYTHON.exists():
        pytest.fail(f"{SDK_PYTHON} is missing: run `make setup-sdk` to install pyatlan 10.0.0 in .venv-sdk")
    printed = subprocess.run(
        [str(SDK_PYTHON), str(SCRIPT)], capture_output=True, text=True, check=True, timeout=300
    )
    assert printed.stdout == COMMITTED.read_text("utf-8"), (
        "regenerate: .venv-sdk/bin/python tests/data/sdk_vocabulary.py > reconciler/data/atlan_vocabulary.json"
    )


def test_the_vocabulary_knows_the_headers_the_packages_use() -> None:
    known = vocabulary()
    assert {
        "Table",
        "View",
        "MaterialisedView",
        "Column",
        "Process",
        "AtlasGlossaryTerm",
        "DataProduct",
    } <= known.types
    # the CSV headers are the Java SDK's names, which pyatlan spells differently for these four
    assert {"schema", "assignedTerms", "starredDetails", "atlanTags"} <= known.columns
    assert not {"atlanSchema", "meanings", "starredDetailsList"} & known.columns
    assert known.enums["certificateStatus"] == ("DEPRECATED", "DRAFT", "VERIFIED")


@pytest.mark.parametrize(
    ("column", "many"),
    [("ownerUsers", True), ("inputs", True), ("name", False), ("Source Type", False), ("Set::Attr", None)],
)
def test_which_columns_are_lists(column: str, many: bool | None) -> None:
    assert multi_valued(column) is many


def test_plain_text_columns_take_anything() -> None:
    assert cell_check("userDescription") is None
    assert cell_check("anchor") is None
