"""Collibra's published examples (collibra/import-api-examples, ../shared/template-facts.md §1.7,
the CSVs verbatim, byte-order marks included), each with its template translated to the columns of
an Atlan file: a Community becomes a Database, a Domain a Schema, an asset keeps its type, an
attribute becomes a custom metadata or Atlan column, a relation a reference. What each example
shows about the Import API's rules (header row skipped, blank placeholders left out, multivalue
cells split and trimmed, several values paired by position, consecutive repeats merged, rows with
trailing fields accepted, fixed values kept) must hold of the rendered file.

All nine examples whose files agree with each other are here; change-assets is not (its CSV names
other assets than its JSON, §1.6).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.data import CsvOptions, load_template, render_source

QN = "default/collibra/1700000000"
COMMUNITY = {"typeName": "Database", "qualifiedName": f"{QN}/${{2}}", "name": "${2}"}
DOMAIN = {
    "typeName": "Schema",
    "qualifiedName": f"{QN}/${{2}}/${{4}}",
    "name": "${4}",
    "Collibra::Domain type": "${3}",
    "database": f"Database@{QN}/${{2}}",
}
ASSET = {
    "typeName": "${1}",
    "qualifiedName": f"{QN}/${{2}}/${{4}}/${{5}}",
    "name": "${5}",
    "schema": f"Schema@{QN}/${{2}}/${{4}}",
}
HEADER = "typeName,qualifiedName,name,Collibra::Domain type,database,schema"
COMMUNITY_ROW = f"Database,{QN}/DBs Community,DBs Community,,,"
DOMAIN_ROW = (
    f"Schema,{QN}/DBs Community/Physical Domain,Physical Domain,Physical Data Dictionary,"
    f"Database@{QN}/DBs Community,"
)
IN_DOMAIN = f"{QN}/DBs Community/Physical Domain"
GROUP = "00000000-0000-0000-0000-000001000003"
USER = "00000000-0000-0000-0000-000000900003"


def asset_row(type_name: str, name: str) -> str:
    return f"{type_name},{IN_DOMAIN}/{name},{name},,,Schema@{IN_DOMAIN}"


EXAMPLES = [
    pytest.param(
        "\ufeffType;Community;Domain Type;Domain;Name;Profiling Information;Description\n"
        "Table;DBs Community;Physical Data Dictionary;Physical Domain;DB_TABLE;Please do;The Users table\n",
        [COMMUNITY, DOMAIN, {**ASSET, "userDescription": "${7}", "Collibra::Profiling Information": "${6}"}],
        "assets",
        [
            f"{HEADER},userDescription,Collibra::Profiling Information",
            COMMUNITY_ROW + ",,",
            DOMAIN_ROW + ",,",
            asset_row("Table", "DB_TABLE") + ",The Users table,Please do",
        ],
        id="add-community-domain-asset-with-attributes",
    ),
    pytest.param(
        "\ufeffType;Community;Domain Type;Domain;Name;indexes\n"
        "Table;DBs Community;Physical Data Dictionary;Physical Domain;DB_TABLE;surname,name\n",
        [COMMUNITY, DOMAIN, {**ASSET, "Collibra::indexes": ["${6}"]}],
        "assets",
        [
            f"{HEADER},Collibra::indexes",
            COMMUNITY_ROW + ",",
            DOMAIN_ROW + ",",
            asset_row("Table", "DB_TABLE") + ',"surname\nname"',
        ],
        id="add-community-domain-asset-with-multivalue-attributes",
    ),
    pytest.param(
        "Type;Community;Domain Type;Domain;Name;Tag\n"
        "Schema;DBs Community;Physical Data Dictionary;Physical Domain;DB_SCHEMA;\n"
        "Table;DBs Community;Physical Data Dictionary;Physical Domain;DB_TABLE;TAG_1,TAG_2\n",
        [COMMUNITY, DOMAIN, {**ASSET, "atlanTags": ["${6}"]}],
        "assets",
        # four commands after merging: the repeated community and domain collapse
        [
            f"{HEADER},atlanTags",
            COMMUNITY_ROW + ",",
            DOMAIN_ROW + ",",
            asset_row("Schema", "DB_SCHEMA") + ",",
            asset_row("Table", "DB_TABLE") + ',"TAG_1\nTAG_2"',
        ],
        id="add-community-domain-assets-with-tags",
    ),
    pytest.param(
        "\ufeffType;Community;Domain Type;Domain;Name;Contains Table [Schema] > Community;Contains Table [Schema] > Domain;"
        "Contains Table [Schema] > Name;Is part of [Table] > Community;Is part of [Table] > Domain;Is part of [Table] > Name\n"
        "Schema;DBs Community;Physical Data Dictionary;Physical Domain;DB_SCHEMA;;;;;;\n"
        "Table;DBs Community;Physical Data Dictionary;Physical Domain;DB_TABLE;DBs Community;Physical Domain;DB_SCHEMA;;;\n"
        "Column;DBs Community;Physical Data Dictionary;Physical Domain;DB_COLUMN;;;;DBs Community;Physical Domain;DB_TABLE\n",
        [
            COMMUNITY,
            DOMAIN,
            {
                **ASSET,
                "Collibra::Contained in": f"Schema@{QN}/${{6}}/${{7}}/${{8}}",
                "table": f"Table@{QN}/${{9}}/${{10}}/${{11}}",
            },
        ],
        "assets",
        # a relation whose cells are blank is left out
        [
            f"{HEADER},Collibra::Contained in,table",
            COMMUNITY_ROW + ",,",
            DOMAIN_ROW + ",,",
            asset_row("Schema", "DB_SCHEMA") + ",,",
            asset_row("Table", "DB_TABLE") + f",Schema@{IN_DOMAIN}/DB_SCHEMA,",
            asset_row("Column", "DB_COLUMN") + f",,Table@{IN_DOMAIN}/DB_TABLE",
        ],
        id="add-community-domain-assets-relations",
    ),
    pytest.param(
        "Type;Community;Domain Type;Domain;Name;Roles > Group Id;Roles > User Id\n"
        "Schema;DBs Community;Physical Data Dictionary;Physical Domain;DB_SCHEMA;;00000000-0000-0000-0000-000000900003;\n"
        "Schema;DBs Community;Physical Data Dictionary;Physical Domain;DB_SCHEMA;00000000-0000-0000-0000-000001000003;;\n"
        "Schema;DBs Community;Physical Data Dictionary;Physical Domain;DB_SCHEMA;;;\n",
        [
            {**COMMUNITY, "ownerGroups": ["${6}"], "ownerUsers": ["${7}"], "adminGroups": ["${6}"]},
            {**DOMAIN, "viewerUsers": ["${7}"]},
            ASSET,
        ],
        "assets",
        # three rows of one community, domain and asset merge into one each, their people united;
        # the header holds the keys in the order they first appear
        [
            "typeName,qualifiedName,name,ownerGroups,ownerUsers,adminGroups,Collibra::Domain type,database,"
            "viewerUsers,schema",
            f"Database,{QN}/DBs Community,DBs Community,{GROUP},{USER},{GROUP},,,,",
            f"Schema,{IN_DOMAIN},Physical Domain,,,,Physical Data Dictionary,Database@{QN}/DBs Community,{USER},",
            f"Schema,{IN_DOMAIN}/DB_SCHEMA,DB_SCHEMA,,,,,,,Schema@{IN_DOMAIN}",
        ],
        id="add-community-domain-assets-with-responsibilities",
    ),
    pytest.param(
        "\ufeffExternal System ID;External Entity ID;source [Data Element] > Name;source [Data Element] > Domain;"
        "source [Data Element] > Community;target [Data Element] > Name;target [Data Element] > Domain;"
        "target [Data Element] > Community;mapping specification [Mapping Specification] > Name;"
        "mapping specification [Mapping Specification] > Domain;mapping specification [Mapping Specification] > Community;"
        "Description\n"
        "DB-Metadata-System;FieldMapping12345678;DB_COL_SOURCE_1, DB_COL_SOURCE_2;Physical Domain, Physical Domain;"
        "DBs Community, DBs Community;DB_COL_TARGET_1, DB_COL_TARGET_2;Physical Domain, Physical Domain;"
        "DBs Community, DBs Community;MapSpec;My Mapping Domain;DBs Community;XXX_COLUMN_1\n",
        [
            [
                {
                    "Source Type": "Column",
                    "Source Connector": "collibra",
                    "Source Connection": "${5}",
                    "Source Identity": "${4}/${3}",
                    "Source Name": "${3}",
                    "Target Type": "Column",
                    "Target Connector": "collibra",
                    "Target Connection": "${8}",
                    "Target Identity": "${7}/${6}",
                    "Target Name": "${6}",
                    "Transformation Connector": "collibra",
                    "Transformation Connection": "${11}",
                    "Transformation Identity": "{1}/{2}",
                    "Transformation Name": "${10}/${9}",
                    "description": "${12}",
                }
            ]
        ],
        "lineage",
        # the relation cells split without [ ] (inside [[ ]]), trimmed, paired by position; the
        # mapping's single values on both rows; "{1}" (no $) stays text
        [
            "Source Type,Source Connector,Source Connection,Source Identity,Source Name,Target Type,Target Connector,"
            "Target Connection,Target Identity,Target Name,Transformation Connector,Transformation Connection,"
            "Transformation Identity,Transformation Name,description",
            "Column,collibra,DBs Community,Physical Domain/DB_COL_SOURCE_1,DB_COL_SOURCE_1,Column,collibra,DBs Community,"
            "Physical Domain/DB_COL_TARGET_1,DB_COL_TARGET_1,collibra,DBs Community,{1}/{2},My Mapping Domain/MapSpec,"
            "XXX_COLUMN_1",
            "Column,collibra,DBs Community,Physical Domain/DB_COL_SOURCE_2,DB_COL_SOURCE_2,Column,collibra,DBs Community,"
            "Physical Domain/DB_COL_TARGET_2,DB_COL_TARGET_2,collibra,DBs Community,{1}/{2},My Mapping Domain/MapSpec,"
            "XXX_COLUMN_1",
        ],
        id="add-complex-relations",
    ),
    pytest.param(
        "External System Id;External Entity Id;Name;Domain Name;Community Name\n"
        "EXT_SYSTEM;EXT_SCHEMA_1_ID;SCHEMA_1;Physical Domain;DBs Community\n"
        "EXT_SYSTEM;EXT_TABLE_1_ID;TABLE_1;Physical Domain;DBs Community\n"
        "EXT_SYSTEM;EXT_TABLE_1_ID;TABLE_1;Physical Domain;DBs Community\n"
        "EXT_SYSTEM;EXT_TABLE_2_ID;TABLE_2;Physical Domain;DBs Community\n"
        "EXT_SYSTEM;EXT_TABLE_1_COLUMN_1_ID;TAB_1_COLUMN_1;Physical Domain;DBs Community\n"
        "EXT_SYSTEM;EXT_TABLE_1_COLUMN_2_ID;TAB_1_COLUMN_2;Physical Domain;DBs Community\n"
        "EXT_SYSTEM;EXT_TABLE_2_COLUMN_1_ID;TAB_2_COLUMN_1;Physical Domain;DBs Community\n",
        [
            {
                "typeName": "Table",
                "qualifiedName": f"{QN}/${{5}}/${{4}}/${{3}}",
                "name": "${3}",
                "Collibra::External system": "${1}",
                "Collibra::External id": "${2}",
            }
        ],
        "assets",
        # seven rows, six assets: the repeated consecutive row collapses
        [
            "typeName,qualifiedName,name,Collibra::External system,Collibra::External id",
            *(
                f"Table,{QN}/DBs Community/Physical Domain/{name},{name},EXT_SYSTEM,{ident}"
                for name, ident in [
                    ("SCHEMA_1", "EXT_SCHEMA_1_ID"),
                    ("TABLE_1", "EXT_TABLE_1_ID"),
                    ("TABLE_2", "EXT_TABLE_2_ID"),
                    ("TAB_1_COLUMN_1", "EXT_TABLE_1_COLUMN_1_ID"),
                    ("TAB_1_COLUMN_2", "EXT_TABLE_1_COLUMN_2_ID"),
                    ("TAB_2_COLUMN_1", "EXT_TABLE_2_COLUMN_1_ID"),
                ]
            ),
        ],
        id="add-mappings-for-assets",
    ),
    pytest.param(
        "External System Id;External Entity Id;Name\nEXT_SYSTEM;EXT_TABLE_1_COLUMN_1_ID;TAB_1_COLUMN_1_NEW\n",
        [{"typeName": "Column", "qualifiedName": f"{QN}/${{1}}/${{2}}", "name": "${3}"}],
        "assets",
        ["typeName,qualifiedName,name", f"Column,{QN}/EXT_SYSTEM/EXT_TABLE_1_COLUMN_1_ID,TAB_1_COLUMN_1_NEW"],
        id="change-assets-identified-by-mappings",
    ),
    pytest.param(
        "Name;Status;Asset Type;Definition;Community;Domain;has acronym [Acronym] > Community;"
        "has acronym [Acronym] > Domain;has acronym [Acronym] > Name;is acronym for [Business Asset] > Community;"
        "is acronym for [Business Asset] > Domain;is acronym for [Business Asset] > Name\n"
        "IDA2;Candidate;Acronym;;Data Governance Council;ImportDemo Domain;;;;Data Governance Council;"
        "ImportDemo Domain;ImportDemoAsset2\n"
        "ImportDemoAsset2;Candidate;Business Term;This is a 'Business Term' asset used for demo of Import API;"
        "Data Governance Council;ImportDemo Domain;Data Governance Council;ImportDemo Domain;IDA2;;;;\n",
        [
            {"typeName": "AtlasGlossary", "name": "${6}", "Collibra::Type": "Glossary"},
            {
                "typeName": "AtlasGlossaryTerm",
                "name": "${1}",
                "anchor": "${6}",
                "userDescription": "${4}",
                "Collibra::Type": "${3}",
                "synonyms": ["${9}@@@${8}"],
                "seeAlso": ["${12}@@@${11}"],
            },
        ],
        "glossaries",
        # the fixed "Glossary" kept; a blank Definition left out; row 2's 13th field (a trailing
        # separator) accepted
        [
            "typeName,name,Collibra::Type,anchor,userDescription,synonyms,seeAlso,qualifiedName",
            "AtlasGlossary,ImportDemo Domain,Glossary,,,,,",
            "AtlasGlossaryTerm,IDA2,Acronym,ImportDemo Domain,,,ImportDemoAsset2@@@ImportDemo Domain,",
            "AtlasGlossaryTerm,ImportDemoAsset2,Business Term,ImportDemo Domain,"
            "This is a 'Business Term' asset used for demo of Import API,IDA2@@@ImportDemo Domain,,",
        ],
        id="import-api-tutorial Demo_Template",
    ),
]


@pytest.mark.parametrize(("text", "template", "section", "rows"), EXAMPLES)
def test_collibra_examples(
    tmp_path: Path, text: str, template: list[Any], section: str, rows: list[str]
) -> None:
    source = tmp_path / "example.csv"
    source.write_text(text, encoding="utf-8")
    rendered = render_source(source, load_template(template, section), CsvOptions(header_row=True))  # type: ignore[arg-type]
    assert rendered.data is not None
    assert rendered.data.decode("utf-8") == "".join(row + "\n" for row in rows)
    assert rendered.rows == len(rows) - 1
