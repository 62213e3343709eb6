"""Issue 16: the rows of an input file that change, by identity (reconciler/plan/content.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.plan.content import CellChange, RowChange, diff_rows

GLOSSARY = (
    b"typeName,name,anchor,userDescription,ownerUsers\n"
    b"AtlasGlossary,Finance,,Money matters,\n"
    b'AtlasGlossaryTerm,Revenue,Finance,Income,"alice\nbob"\n'
    b"AtlasGlossaryTerm,Cost,Finance,Outgoings,\n"
)


def test_the_same_rows_in_another_order_are_no_change() -> None:
    assert diff_rows("glossaries", GLOSSARY, GLOSSARY).rows == ()
    moved = (  # whole rows reversed (a quoted cell spans two lines)
        b"typeName,name,anchor,userDescription,ownerUsers\n"
        b"AtlasGlossaryTerm,Cost,Finance,Outgoings,\n"
        b'AtlasGlossaryTerm,Revenue,Finance,Income,"alice\nbob"\n'
        b"AtlasGlossary,Finance,,Money matters,\n"
    )
    diff = diff_rows("glossaries", GLOSSARY, moved)
    assert (diff.added, diff.changed, diff.removed, diff.rows) == (0, 0, 0, ())


def test_added_changed_and_removed_rows_with_their_cells() -> None:
    after = (
        b"typeName,name,anchor,userDescription,ownerUsers\n"
        b"AtlasGlossary,Finance,,Money matters,\n"
        b'AtlasGlossaryTerm,Revenue,Finance,Income from sales,"alice\nbob"\n'
        b"AtlasGlossaryTerm,Margin,Finance,Revenue less cost,carol\n"
    )
    diff = diff_rows("glossaries", GLOSSARY, after)
    assert diff.counts == "+1 ~1 -1 rows"
    changed, added, removed = diff.rows[0], diff.rows[1], diff.rows[2]
    assert changed == RowChange(
        "change",
        (
            ("typeName", "AtlasGlossaryTerm"),
            ("name", "Revenue"),
            ("anchor", "Finance"),
            ("parentCategory", ""),
        ),
        (CellChange("userDescription", "Income", "Income from sales"),),
    )
    assert changed.key == "typeName=AtlasGlossaryTerm, name=Revenue, anchor=Finance"
    assert added.op == "add"
    assert added.cells == (
        CellChange("typeName", "", "AtlasGlossaryTerm"),
        CellChange("name", "", "Margin"),
        CellChange("anchor", "", "Finance"),
        CellChange("userDescription", "", "Revenue less cost"),
        CellChange("ownerUsers", "", "carol"),
    )
    assert (removed.op, removed.key) == ("remove", "typeName=AtlasGlossaryTerm, name=Cost, anchor=Finance")


def test_no_object_yet_is_every_row_added() -> None:
    diff = diff_rows("glossaries", None, GLOSSARY)
    assert diff.counts == "+3 ~0 -0 rows"


def test_an_empty_cell_is_the_same_as_a_missing_column() -> None:
    narrower = b"typeName,qualifiedName,name\nTable,default/x/t,t\n"
    wider = b"typeName,qualifiedName,name,userDescription\nTable,default/x/t,t,\n"
    assert diff_rows("assets", narrower, wider).rows == ()


def test_a_masked_column_shows_a_digest_never_the_value() -> None:
    before = b"typeName,qualifiedName,name,userDescription\nTable,default/x/t,t,salary 100k\n"
    after = b"typeName,qualifiedName,name,userDescription\nTable,default/x/t,t,salary 120k\n"
    diff = diff_rows("assets", before, after, mask=["userDescription"])
    [cell] = diff.rows[0].cells
    assert cell.column == "userDescription"
    assert cell.old.startswith("sha256:")
    assert cell.new.startswith("sha256:")
    assert cell.old != cell.new
    assert "salary" not in repr(diff)


def test_another_field_separator() -> None:
    before = b"typeName;qualifiedName;name\nTable;default/x/t;t\n"
    after = b"typeName;qualifiedName;name\nTable;default/x/t;T\n"
    diff = diff_rows("assets", before, after, field_separator=";")
    assert diff.rows[0].cells == (CellChange("name", "t", "T"),)


_NAMES = st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=4), unique=True, max_size=8)


@given(old=_NAMES, new=_NAMES)
@settings(max_examples=100, deadline=None)
def test_counts_follow_the_identities(old: list[str], new: list[str]) -> None:
    def file(names: list[str], description: str) -> bytes:
        rows = "".join(f"Table,default/x/{n},{n},{description}\n" for n in names)
        return ("typeName,qualifiedName,name,userDescription\n" + rows).encode()

    diff = diff_rows("assets", file(old, "d1"), file(new, "d2"))
    assert diff.added == len(set(new) - set(old))
    assert diff.removed == len(set(old) - set(new))
    assert diff.changed == len(set(old) & set(new))
    assert len(diff.rows) == diff.added + diff.changed + diff.removed
