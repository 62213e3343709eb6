"""The unmodified Atlan SDK (pyatlan 10.0.0) end to end against a served emulator: upload the
import files with the tenant file API, create and run an asset import and a lineage builder with
the SDK's builders, then read what the runs imported with FluentSearch and the find helpers.

Run by .venv-sdk/bin/python from tests/sdk/test_sdk_imported.py (EMULATOR_URL, EMULATOR_KEY,
WORK_DIR); prints one JSON object of observations.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

warnings.simplefilter("ignore", DeprecationWarning)  # the legacy workflow client warns; expected

import httpx  # noqa: E402
from pyatlan.client.atlan import AtlanClient  # noqa: E402
from pyatlan.errors import AtlanError  # noqa: E402
from pyatlan.model.assets import AtlasGlossaryTerm, Connection, Process, Table  # noqa: E402
from pyatlan.model.enums import AssetInputHandling, AtlanConnectorType, AtlanWorkflowPhase, SortOrder  # noqa: E402
from pyatlan.model.file import PresignedURLRequest  # noqa: E402
from pyatlan.model.fluent_search import FluentSearch  # noqa: E402
from pyatlan.model.packages import AssetImport, LineageBuilder  # noqa: E402

URL, KEY = os.environ["EMULATOR_URL"], os.environ["EMULATOR_KEY"]
WORK = Path(os.environ["WORK_DIR"])
TERMS = 130  # more than one page of 100
client = AtlanClient(base_url=URL, api_key=KEY)
admin = httpx.Client(base_url=URL, headers={"authorization": f"Bearer {KEY}"}, timeout=30)
out: dict[str, Any] = {}

FILES = {
    "in/glossary.csv": "typeName,name,qualifiedName,anchor,userDescription\n"
    + "AtlasGlossary,Business Terms,,,\n"
    + "".join(f"AtlasGlossaryTerm,Term {n:03d},,Business Terms,Term number {n}\n" for n in range(TERMS)),
    "in/assets.csv": "typeName,qualifiedName,name,connectorType\n"
    "Connection,{{snowflake/production}},production,snowflake\n"
    "Connection,{{dbt/dbt-cloud}},dbt-cloud,dbt\n"
    "Table,{{snowflake/production}}/DB/RAW/ORDERS,ORDERS,snowflake\n"
    "Table,{{snowflake/production}}/DB/RAW/CUSTOMERS,CUSTOMERS,snowflake\n",
    "lineage/lineage.csv": "Source Type,Source Connector,Source Connection,Source Identity,Source Name,"
    "Target Type,Target Connector,Target Connection,Target Identity,Target Name,"
    "Transformation Connector,Transformation Connection,Transformation Identity,Transformation Name\n"
    "Table,snowflake,production,DB/RAW/ORDERS,ORDERS,View,snowflake,production,DB/MART/DAILY,DAILY,"
    "dbt,dbt-cloud,daily,ORDERS > DAILY\n"
    "Table,snowflake,production,DB/RAW/CUSTOMERS,CUSTOMERS,View,snowflake,production,DB/MART/DAILY,DAILY,"
    "dbt,dbt-cloud,daily,CUSTOMERS > DAILY\n",
}
for key, text in FILES.items():
    local = WORK / key.replace("/", "_")
    local.write_text(text)
    request = PresignedURLRequest(key=key, expiry="30s", method=PresignedURLRequest.Method.PUT)
    client.files.upload_file(presigned_url=client.files.generate_presigned_url(request), file_path=str(local))

imports = (
    AssetImport()
    .object_store()
    .assets(prefix="in", object_key="assets.csv", input_handling=AssetInputHandling.UPSERT)
    .glossaries(prefix="in", object_key="glossary.csv", input_handling=AssetInputHandling.UPSERT)
    .to_workflow()
)
imported = client.workflow.run(imports)
lineage = LineageBuilder().object_store(prefix="lineage", object_key="lineage.csv").to_workflow()
built = client.workflow.run(lineage)
admin.post("/_emulator/clock", json={"advance": 3600})  # both runs reach their final phase

for label, response in (("import", imported), ("lineage", built)):
    runs = client.workflow.get_runs(response.metadata.name, AtlanWorkflowPhase.SUCCESS)
    hits = runs.hits.hits if runs and runs.hits and runs.hits.hits else []
    outputs = hits[0].source.status.outputs if hits else None
    parameters = {p.name: p.value for p in (outputs.parameters if outputs and outputs.parameters else [])}
    out[f"{label}_results"] = json.loads(parameters["results"]) if "results" in parameters else None

glossary = client.asset.find_glossary_by_name("Business Terms")
out["glossary"] = glossary.name
term = client.asset.find_term_fast_by_name(
    "Term 042", glossary.qualified_name, attributes=["userDescription"]
)
out["term"] = [term.name, term.user_description]
out["term_by_name"] = client.asset.find_term_by_name("Term 007", "Business Terms").name
in_glossary = (
    FluentSearch()
    .where(FluentSearch.asset_type(AtlasGlossaryTerm))
    .where(FluentSearch.active_assets())
    .where(AtlasGlossaryTerm.ANCHOR.eq(glossary.qualified_name))
)
out["term_count"] = in_glossary.count(client)
out["paged"] = [
    t.name
    for t in in_glossary.page_size(50).sort(AtlasGlossaryTerm.NAME.order(SortOrder.ASCENDING)).execute(client)
]
connection = next(
    iter(
        FluentSearch()
        .where(FluentSearch.asset_type(Connection))
        .where(Connection.NAME.eq("production"))
        .execute(client)
    )
)
out["connection"] = connection.qualified_name
try:  # observed, not raised: the other observations stand on their own
    found = client.asset.find_connections_by_name("production", AtlanConnectorType.SNOWFLAKE)
    out["connections_by_name"] = [c.qualified_name for c in found]
except AtlanError as exc:
    out["connections_by_name"] = {"error": type(exc).__name__}
orders = client.asset.get_by_qualified_name(f"{connection.qualified_name}/DB/RAW/ORDERS", Table)
out["orders"] = orders.name
out["tables"] = FluentSearch().where(FluentSearch.asset_type(Table)).count(client)
processes = list(
    FluentSearch()
    .where(FluentSearch.asset_type(Process))
    .include_on_results("inputs")
    .include_on_results("outputs")
    .execute(client)
)
out["processes"] = [
    [p.name, sorted(i.qualified_name.rpartition("/")[2] for i in p.inputs or []), len(p.outputs or [])]
    for p in processes
]
print(json.dumps(out))
