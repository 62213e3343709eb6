"""The glossaries and data products files: identities by name and path, loading order, references
that must exist (../shared/atlan-csv-formats.md §3, §4)."""

from __future__ import annotations

import re

import pytest

from tests.emulator.imports.conftest import CONN, Sandbox, counts

ID = r"[0-9A-Za-z]{21}"
GLOSSARY = "\n".join(
    [
        "qualifiedName,typeName,name,anchor,parentCategory,categories,userDescription,seeAlso",
        ",AtlasGlossaryCategory,Cat1.a,Finance,Cat1@@@Finance,,,",
        ',AtlasGlossaryTerm,Term1,Finance,,"Cat1@Cat1.a@@@Finance\nCat2@@@Finance",first,TermA@@@Finance',
        ",AtlasGlossary,Finance,,,,The money,",
        ",AtlasGlossaryCategory,Cat1,Finance,,,,",
        ",AtlasGlossaryCategory,Cat2,Finance,,,,",
        ",AtlasGlossaryTerm,TermA,Finance,,,,Term1@@@Finance",
    ]
)


def test_glossaries_categories_by_depth_and_terms_are_created_with_their_identities(sandbox: Sandbox) -> None:
    run = sandbox.run({"glossaries": GLOSSARY})
    assert (run.phase, run.counts("glossaries")) == ("Succeeded", counts(created=6))
    (glossary,) = sandbox.assets("AtlasGlossary")
    glossary_qn = glossary["attributes"]["qualifiedName"]
    assert re.fullmatch(ID, glossary_qn)
    assert glossary["attributes"]["userDescription"] == "The money"
    categories = {c["attributes"]["name"]: c for c in sandbox.assets("AtlasGlossaryCategory")}
    assert sorted(categories) == ["Cat1", "Cat1.a", "Cat2"]
    for category in categories.values():
        assert re.fullmatch(f"{ID}@{glossary_qn}", category["attributes"]["qualifiedName"])
        assert category["attributes"]["anchor"]["guid"] == glossary["guid"]
    assert categories["Cat1.a"]["attributes"]["parentCategory"]["guid"] == categories["Cat1"]["guid"]
    assert "parentCategory" not in categories["Cat1"]["attributes"]
    terms = {t["attributes"]["name"]: t for t in sandbox.assets("AtlasGlossaryTerm")}
    term1, term_a = terms["Term1"]["attributes"], terms["TermA"]["attributes"]
    assert re.fullmatch(f"{ID}@{glossary_qn}", term1["qualifiedName"])
    assert [c["guid"] for c in term1["categories"]] == [
        categories["Cat1.a"]["guid"],
        categories["Cat2"]["guid"],
    ]
    # Terms of one file refer to each other: a second pass sets the term-to-term columns.
    assert [t["guid"] for t in term1["seeAlso"]] == [terms["TermA"]["guid"]]
    assert [t["guid"] for t in term_a["seeAlso"]] == [terms["Term1"]["guid"]]


def test_a_second_run_finds_everything_by_name_and_path(sandbox: Sandbox) -> None:
    sandbox.run({"glossaries": GLOSSARY})
    guids = sorted(a["guid"] for a in sandbox.assets())
    assert sandbox.run({"glossaries": GLOSSARY}).counts("glossaries") == counts(restored=6)
    edited = sandbox.run({"glossaries": GLOSSARY.replace(",first,", ",edited,")})
    assert edited.counts("glossaries") == counts(updated=1, restored=5)
    assert sorted(a["guid"] for a in sandbox.assets()) == guids


def test_update_only_skips_glossary_objects_that_do_not_exist(sandbox: Sandbox) -> None:
    sandbox.run({"glossaries": GLOSSARY})
    more = GLOSSARY + "\n,AtlasGlossaryTerm,TermB,Finance,,,,"
    run = sandbox.run({"glossaries": more}, glossaries_upsert_semantic="update")
    assert run.counts("glossaries") == counts(restored=6, skipped=1)
    assert len(sandbox.assets("AtlasGlossaryTerm")) == 2


def test_a_term_reference_must_name_a_term_that_exists_and_a_failure_stops_the_run(sandbox: Sandbox) -> None:
    bad = GLOSSARY.replace("TermA,Finance,,,,Term1@@@Finance", "TermA,Finance,,,,Term9@@@Finance")
    assets = f"typeName,qualifiedName,name\nTable,{CONN}/T,T\n"
    run = sandbox.run({"glossaries": bad, "assets": assets}, assets_upsert_semantic="upsert")
    assert run.phase == "Failed"
    # Term1's quoted cell spans lines 3 and 4: TermA's row starts on line 8.
    assert run.errors == [(8, "seeAlso", "Term not found (in seeAlso): Term9@@@Finance")]
    assert run.counts("glossaries") == counts(created=4, failed=2)  # the terms' one batch
    assert run.counts("assets") == counts()  # the package exits after the glossaries
    assert sandbox.assets("AtlasGlossaryTerm") == []
    assert sandbox.assets("Table") == []


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (",AtlasGlossaryTerm,T,Nowhere,,,,", "anchor", "Parent glossary not found: 'Nowhere'"),
        (
            ",AtlasGlossaryCategory,C,Finance,Cat9@@@Finance,,,",
            "parentCategory",
            "Parent category not found: 'Cat9@@@Finance'",
        ),
        (
            ",AtlasGlossaryTerm,T,Finance,,Cat9@@@Finance,,",
            "categories",
            "no category 'Cat9@@@Finance' exists",
        ),
    ],
)
def test_a_glossary_object_whose_parent_does_not_exist_fails(
    sandbox: Sandbox, row: str, field: str, message: str
) -> None:
    run = sandbox.run({"glossaries": GLOSSARY + "\n" + row})
    assert run.phase == "Failed"
    assert run.errors[0] == (9, field, message)


@pytest.mark.parametrize(
    ("file", "line", "field", "message"),
    [
        (
            "typeName,name\nAtlasGlossary,G\nAtlasGlossaryTerm,T\n",
            1,
            None,
            "Invalid input file received. Input CSV is missing required columns: [anchor]",
        ),
        (
            "typeName,name,anchor\nTable,T,\n",
            2,
            "typeName",
            "Found non-glossary assets that should be loaded via another file, of types: [Table]",
        ),
    ],
)
def test_a_glossaries_file_the_package_refuses_loads_nothing(
    sandbox: Sandbox, file: str, line: int, field: str | None, message: str
) -> None:
    run = sandbox.run({"glossaries": file})
    assert (run.phase, run.errors) == ("Failed", [(line, field, message)])
    assert sandbox.assets() == []


PRODUCTS = "\n".join(
    [
        "qualifiedName,typeName,name,parentDomain,dataDomain,dataProductAssetsDSL,assetIcon,userDescription",
        ",DataDomain,Orders,Sales,,,PhFileCloud,sub",
        ',DataProduct,Order 360,,Sales@Orders,"{""query"": {}}",PhX,product',
        ",DataDomain,Sales,,,,PhFileCloud,root",
        ",,,,,,,",
    ]
)


def test_domains_by_depth_then_products_in_their_domain(sandbox: Sandbox) -> None:
    run = sandbox.run({"data_products": PRODUCTS})
    assert (run.phase, run.counts("data_products")) == ("Succeeded", counts(created=3))
    domains = {d["attributes"]["name"]: d for d in sandbox.assets("DataDomain")}
    root, sub = domains["Sales"]["attributes"], domains["Orders"]["attributes"]
    assert re.fullmatch(f"default/domain/{ID}/super", root["qualifiedName"])
    assert re.fullmatch(f"{re.escape(root['qualifiedName'])}/domain/{ID}", sub["qualifiedName"])
    assert sub["parentDomain"]["guid"] == domains["Sales"]["guid"]
    assert root["assetIcon"] == "PhFileCloud"
    (product,) = sandbox.assets("DataProduct")
    attributes = product["attributes"]
    assert re.fullmatch(f"{re.escape(sub['qualifiedName'])}/product/{ID}", attributes["qualifiedName"])
    assert attributes["dataDomain"]["guid"] == domains["Orders"]["guid"]
    assert attributes["dataProductAssetsDSL"] == '{"query": {}}'
    assert "assetIcon" not in attributes  # products ignore it
    assert sandbox.run({"data_products": PRODUCTS}).counts("data_products") == counts(restored=3)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (",DataProduct,Loose,,,,,", "No dataDomain provided for the data product, cannot be processed."),
        (",DataProduct,Lost,,Sales@Nowhere,,,", "dataDomain not found for the data product: 'Sales@Nowhere'"),
    ],
)
def test_a_product_needs_a_domain_that_exists(sandbox: Sandbox, row: str, message: str) -> None:
    run = sandbox.run({"data_products": PRODUCTS + "\n" + row})
    assert (run.phase, run.errors) == ("Failed", [(6, "dataDomain", message)])
    assert run.counts("data_products") == counts(created=2, failed=2)
    assert sandbox.assets("DataProduct") == []


def test_a_data_products_file_with_another_type_loads_nothing(sandbox: Sandbox) -> None:
    run = sandbox.run({"data_products": "typeName,name,qualifiedName\nTable,T,x\n"})
    assert run.errors == [
        (2, "typeName", "Found a non-product asset that should be loaded via another file (of type Table): x")
    ]
    assert sandbox.assets() == []


def test_a_tags_file_keeps_tag_definitions_by_name(sandbox: Sandbox) -> None:
    tags = "\n".join(
        [
            "Atlan tag name,Color,Icon,Allowed values for tag,Description",
            'PII,Red,PhLock,"X\nY",Personal data',
            "Gold,,,,",
        ]
    )
    run = sandbox.run({"tags": tags})
    assert (run.phase, run.counts("tags")) == ("Succeeded", counts(created=2))
    assert sandbox.catalog.tag_definition("PII") == {
        "name": "PII",
        "color": "Red",
        "icon": "PhLock",
        "allowedValues": ["X", "Y"],
        "description": "Personal data",
    }
    again = sandbox.run({"tags": tags.replace("Personal data", "People")})
    assert again.counts("tags") == counts(updated=2)
    assert sandbox.catalog.tag_definition("PII")["description"] == "People"  # type: ignore[index]
    missing = sandbox.run({"tags": "Tag,Color\nPII,Red\n"})
    assert missing.errors == [
        (1, None, "Invalid input file received. Input CSV is missing required columns: [Atlan tag name]")
    ]
