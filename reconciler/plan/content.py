"""Which rows of an input file change, and what a plan does about it. Pure.

Two files in the package's CSV format are compared by identity: a row is the asset (or glossary
entry, domain, tag, lineage edge) its identity columns name (reconciler/data/vocabulary.py
``SECTION_SPECS``), so a reordered file is no change and a changed description is one changed
row with one changed cell, not a removed and an added line. Columns a manifest marks sensitive
(``source.mask``) are shown as a short digest of their value, never the value.

The digest of each file a workflow's sources generate is recorded on the workflow
(``CONTENT_ANNOTATION``, section -> sha256), and the version token of the object each upload
wrote (``CONTENT_VERSION_ANNOTATION``, section -> ETag or generation) for drift to compare with
one HEAD. ``plan_content`` decides, from the local files, those records and what the engine read
for the files whose digest differs (``ObjectRead``), which files to upload and what changes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal, cast

from reconciler.packages.compiler import CompiledFile
from reconciler.plan.model import Upload
from reconciler.plan.normalise import CONTENT_ANNOTATION, CONTENT_VERSION_ANNOTATION

if TYPE_CHECKING:
    from reconciler.data.options import Section

RowOp = Literal["add", "change", "remove"]


@dataclass(frozen=True, slots=True)
class CellChange:
    column: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class RowChange:
    """One row added, changed or removed; ``identity`` is its identity columns' values, in order."""

    op: RowOp
    identity: tuple[tuple[str, str], ...]
    cells: tuple[CellChange, ...] = ()

    @property
    def key(self) -> str:
        """The identity as one line, e.g. ``typeName=Table, qualifiedName=default/x``."""
        return ", ".join(f"{column}={value}" for column, value in self.identity if value)


@dataclass(frozen=True, slots=True)
class RowDiff:
    added: int
    changed: int
    removed: int
    rows: tuple[RowChange, ...]
    before_rows: int = 0  # rows of the file replaced (by identity): what a share of removals is of

    @property
    def counts(self) -> str:
        """``+2 ~1 -0 rows``."""
        return f"+{self.added} ~{self.changed} -{self.removed} rows"


def diff_rows(
    section: Section,
    before: bytes | None,
    after: bytes,
    *,
    field_separator: str = ",",
    mask: Sequence[str] = (),
) -> RowDiff:
    """The rows of ``after`` that ``before`` lacks, has otherwise, or has and ``after`` lacks.

    ``before`` None (no object yet) makes every row an addition. Rows come in ``after``'s order,
    then the removed ones in ``before``'s order.
    """
    # Imported here: a plan whose files are unchanged (most) never loads the packages' vocabulary.
    from reconciler.data.vocabulary import SECTION_SPECS

    identity = SECTION_SPECS[section].identity
    old = _Rows.read(before or b"", identity, field_separator)
    new = _Rows.read(after, identity, field_separator)
    same_header = old.header == new.header
    masked = frozenset(mask)
    changes: list[RowChange] = []
    added = changed = 0
    for values, record in new.records.items():
        previous = old.records.get(values)
        if previous is not None and same_header and previous == record:
            continue  # most rows of a large file: compared as parsed, no dict built
        key = tuple(zip(identity, values, strict=True))
        row = new.row(record)
        if previous is None:
            added += 1
            cells = tuple(CellChange(c, "", _shown(c, v, masked)) for c, v in row.items() if v)
            changes.append(RowChange("add", key, cells))
            continue
        before_row = old.row(previous)
        if before_row != row:
            changed += 1
            cells = tuple(
                CellChange(c, _shown(c, before_row.get(c, ""), masked), _shown(c, row.get(c, ""), masked))
                for c in _columns(before_row, row)
                if before_row.get(c, "") != row.get(c, "")
            )
            changes.append(RowChange("change", key, cells))
    removed = [
        RowChange("remove", tuple(zip(identity, values, strict=True)))
        for values in old.records
        if values not in new.records
    ]
    rows = (*changes, *removed)
    if masked & set(identity):  # a masked identity column is shown as a digest in the row's name too
        rows = tuple(
            RowChange(r.op, tuple((c, _shown(c, v, masked)) for c, v in r.identity), r.cells) for r in rows
        )
    return RowDiff(added, changed, len(removed), rows, before_rows=len(old.records))


def _columns(first: Mapping[str, str], second: Mapping[str, str]) -> Iterator[str]:
    yield from first
    yield from (column for column in second if column not in first)


def _shown(column: str, value: str, masked: frozenset[str]) -> str:
    if column not in masked or not value:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class _Rows:
    """The rows of a file in the package's format, as parsed, by the values of their identity
    columns; a later row of the same identity wins (the package would apply both, in order)."""

    header: list[str]
    records: dict[tuple[str, ...], list[str]]

    @classmethod
    def read(cls, data: bytes, identity: Sequence[str], separator: str) -> _Rows:
        text = data.decode("utf-8-sig", errors="replace")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
        header = next(reader, None)
        if header is None:
            return cls([], {})
        where = {column: index for index, column in enumerate(header)}
        at = [where.get(column) for column in identity]
        unique = len(where) == len(header)
        rows = cls(header, {})
        # Most rows have every identity column in place: their values are taken in one C call.
        take = itemgetter(*at) if unique and None not in at and len(at) > 1 else None
        width = 1 + max((i for i in at if i is not None), default=-1)
        for record in reader:
            if not (record and record[0].strip()) and not "".join(record).strip():
                continue  # a blank line, or separators only
            if take is not None and len(record) >= width:
                values = take(record)
            elif unique:
                values = tuple(record[i] if i is not None and i < len(record) else "" for i in at)
            else:  # a repeated column: its last filled cell counts, as in ``row``
                found = rows.row(record)
                values = tuple(found.get(column, "") for column in identity)
            rows.records[values] = record
        return rows

    def row(self, record: Sequence[str]) -> dict[str, str]:
        """A record by column. An empty cell is "leave as is" to the package: the same as a
        column the file lacks, so it is left out."""
        return {column: value for column, value in zip(self.header, record, strict=False) if value}


# -- the records on the workflow, and the plan's decision ------------------------------------------

_RECORD = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def parse_record(text: str | None) -> dict[str, str]:
    """A content record (section -> digest, or section -> version token); {} when absent or
    unreadable (then every file counts as changed: read, and uploaded when it differs)."""
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def encode_record(values: Mapping[str, str]) -> str:
    return _RECORD.encode(dict(values))


def with_uploaded(annotations: Mapping[str, str], versions: Mapping[str, str]) -> dict[str, str]:
    """``annotations`` with the version tokens of the objects an apply just wrote added to the
    version record (the applier observes them; the planner cannot know them)."""
    if not versions:
        return dict(annotations)
    recorded = parse_record(annotations.get(CONTENT_VERSION_ANNOTATION))
    return {**annotations, CONTENT_VERSION_ANNOTATION: encode_record({**recorded, **versions})}


def content_changed(files: Sequence[CompiledFile], annotations: Mapping[str, str]) -> list[CompiledFile]:
    """The files whose digest is not the one recorded on the workflow: the only ones a plan reads
    the object of. Equal digests cost no request at all."""
    if not files:
        return []
    recorded = parse_record(annotations.get(CONTENT_ANNOTATION))
    return [f for f in files if recorded.get(f.section) != f.sha256]


def content_in_place(files: Sequence[CompiledFile], annotations: Mapping[str, str]) -> list[CompiledFile]:
    """The files whose digest is the one recorded: what drift checks the objects of."""
    if not files:
        return []
    recorded = parse_record(annotations.get(CONTENT_ANNOTATION))
    return [f for f in files if recorded.get(f.section) == f.sha256]


@dataclass(frozen=True, slots=True)
class ObjectRead:
    """What the engine found for a file whose digest changed: the object at its key (version
    token and bytes; both None when there is none) and the local file, rendered again."""

    etag: str | None
    before: bytes | None
    after: bytes


@dataclass(frozen=True, slots=True)
class ContentChange:
    """One file of a workflow whose content changes: the rows, and the digests on both sides
    (``before_digest`` None: no object yet)."""

    section: str
    object: str  # where it goes, e.g. s3://bucket/prefix/key or tenant:prefix/key
    before_digest: str | None
    after_digest: str
    diff: RowDiff

    @property
    def uploaded(self) -> bool:
        """The object holds the new bytes already (an earlier apply uploaded them, then stopped)."""
        return self.before_digest == self.after_digest


@dataclass(frozen=True, slots=True)
class ContentPlan:
    """The content part of one item: the uploads (in section order, before any write of the
    workflow), what changes, and the records to write once the new content is in place."""

    uploads: tuple[Upload, ...]
    changes: tuple[ContentChange, ...]
    record: dict[str, str]  # CONTENT_ANNOTATION and CONTENT_VERSION_ANNOTATION, as written

    @property
    def all_in_place(self) -> bool:
        return not self.uploads


Reads = Mapping[tuple[str, str], ObjectRead]  # (manifest, section) -> what the engine read


def plan_content(
    manifest: str, files: Sequence[CompiledFile], annotations: Mapping[str, str], reads: Reads
) -> ContentPlan | None:
    """What to do about ``files`` given the records in ``annotations`` (a live workflow's; {} for
    one to create); None when every digest is the one recorded."""
    changed = content_changed(files, annotations)
    if not changed:
        return None
    versions = parse_record(annotations.get(CONTENT_VERSION_ANNOTATION))
    uploads: list[Upload] = []
    changes: list[ContentChange] = []
    for file in changed:
        read = reads.get((manifest, file.section))
        if read is None:
            raise ValueError(f"{manifest}: {file.section} changed but its object was not read")
        before = None if read.before is None else hashlib.sha256(read.before).hexdigest()
        diff = diff_rows(
            cast("Section", file.section),
            read.before,
            read.after,
            field_separator=file.field_separator,
            mask=file.mask,
        )
        changes.append(ContentChange(file.section, file.url, before, file.sha256, diff))
        if before == file.sha256 and read.etag is not None:
            versions[file.section] = read.etag  # already there: nothing to upload
        else:
            versions.pop(file.section, None)  # the upload's own token is added by the applier
            uploads.append(Upload(file.section, file.key, read.etag, file.sha256))
    wanted = {f.section for f in files}
    record = {
        CONTENT_ANNOTATION: encode_record({f.section: f.sha256 for f in files}),
        CONTENT_VERSION_ANNOTATION: encode_record({s: v for s, v in versions.items() if s in wanted}),
    }
    return ContentPlan(tuple(uploads), tuple(changes), record)


# -- as JSON: the plan's output and saved plans ------------------------------------------------------


def content_as_dict(change: ContentChange) -> dict[str, Any]:
    """One file's change as the JSON plan shows it (``"content"`` of an item), every row."""
    diff = change.diff
    return {
        "section": change.section,
        "object": change.object,
        "before_digest": change.before_digest,
        "after_digest": change.after_digest,
        "added": diff.added,
        "changed": diff.changed,
        "removed": diff.removed,
        "before_rows": diff.before_rows,
        "rows": [
            {
                "op": row.op,
                "identity": dict(row.identity),
                "cells": [{"column": c.column, "old": c.old, "new": c.new} for c in row.cells],
            }
            for row in diff.rows
        ],
    }


def content_from_dict(data: Mapping[str, Any]) -> ContentChange:
    """The inverse of ``content_as_dict`` (a saved plan's); KeyError or TypeError when malformed."""
    rows = tuple(
        RowChange(
            row["op"],
            tuple((str(k), str(v)) for k, v in row["identity"].items()),
            tuple(CellChange(c["column"], c["old"], c["new"]) for c in row["cells"]),
        )
        for row in data["rows"]
    )
    diff = RowDiff(
        int(data["added"]),
        int(data["changed"]),
        int(data["removed"]),
        rows,
        before_rows=int(data.get("before_rows", 0)),
    )
    return ContentChange(data["section"], data["object"], data["before_digest"], data["after_digest"], diff)
