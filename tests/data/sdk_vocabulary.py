"""Print the Atlan vocabulary that reconciler/data/atlan_vocabulary.json holds, read from the
unmodified SDK: every asset type name, every attribute with the kind of value its CSV cell
carries, and the values of every enum-typed attribute.

Runs under .venv-sdk's interpreter (pyatlan 10.0.0, `make setup-sdk`):
    .venv-sdk/bin/python tests/data/sdk_vocabulary.py > reconciler/data/atlan_vocabulary.json
tests/data/test_vocabulary.py checks that the committed file is what this prints.
"""

from __future__ import annotations

import datetime
import enum
import inspect
import json
import sys

import pyatlan
import pyatlan.model.assets as assets
from pyatlan.model.assets import Asset, Referenceable
from pyatlan.model.fields.atlan_fields import AtlanField

# pyatlan names four attributes differently from the CSV headers of the asset-import package,
# which are the Java SDK's deserialised names (../shared/atlan-csv-formats.md §1).
RENAMED = {
    "atlanSchema": "schema",
    "meanings": "assignedTerms",
    "starredDetailsList": "starredDetails",
    "classificationNames": "atlanTags",
}


# The kind of cell an annotation's values take, in the order to test them (bool is an int).
KINDS = (
    (enum.Enum, "enum"),
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (datetime.datetime, "date"),
    (str, "text"),
    (Referenceable, "reference"),
    (dict, "json-object"),
)


def kind_of(annotation: object) -> str:
    if not inspect.isclass(annotation):
        return "text"
    if annotation.__name__ == "Dict":
        return "json-object"
    return next((kind for base, kind in KINDS if issubclass(annotation, base)), "json")  # json: a struct


def main() -> None:
    types: set[str] = set()
    kinds: dict[str, set[str]] = {}
    enums: dict[str, set[str]] = {}
    for name in dir(assets):
        cls = getattr(assets, name)
        if not (inspect.isclass(cls) and issubclass(cls, Referenceable)):
            continue
        if issubclass(cls, Asset):
            types.add(cls.__fields__["type_name"].default)
        fields = cls.Attributes.__fields__
        for constant, value in vars(cls).items():
            if not isinstance(value, AtlanField):
                continue
            header = RENAMED.get(value.atlan_field_name, value.atlan_field_name)
            field = fields.get(constant.lower())
            if field is None:  # named unlike its constant: the kind is unknown, so allow a list
                kinds.setdefault(header, set()).add("text*")
                continue
            kind = kind_of(field.type_)
            many = field.shape != 1  # a list or a set
            kinds.setdefault(header, set()).add(kind + ("*" if many else ""))
            if kind == "enum":
                enums.setdefault(header, set()).update(member.value for member in field.type_)
    attributes = {
        header: sorted(found)[0] if len(found) == 1 else "text*" for header, found in sorted(kinds.items())
    }
    json.dump(
        {
            "source": f"pyatlan {pyatlan.__version__} (tests/data/sdk_vocabulary.py)",
            "types": sorted(types),
            "attributes": attributes,
            "enums": {header: sorted(values) for header, values in sorted(enums.items())},
        },
        sys.stdout,
        indent=0,
        sort_keys=False,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
