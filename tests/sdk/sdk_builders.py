"""Create workflows with the unmodified Atlan SDK's builders, as a user of pyatlan 10.0.0 would.

Run by .venv-sdk/bin/python against a served emulator (EMULATOR_URL, EMULATOR_KEY). The epoch the
builders name workflows after is patched to distinct values, as pyatlan's own tests do, so that
several workflows built within one second get distinct names. Prints the created names as JSON.
"""

from __future__ import annotations

import itertools
import json
import os
import warnings

warnings.simplefilter("ignore", DeprecationWarning)  # the legacy workflow client warns; expected

import pyatlan.utils  # noqa: E402
from pyatlan.client.atlan import AtlanClient  # noqa: E402
from pyatlan.model.assets import Asset  # noqa: E402
from pyatlan.model.enums import AssetInputHandling  # noqa: E402
from pyatlan.model.packages import AssetImport, LineageBuilder  # noqa: E402
from pyatlan.model.workflow import WorkflowSchedule  # noqa: E402

epochs = itertools.count(1_750_000_000)
pyatlan.utils.get_epoch_timestamp = lambda: float(next(epochs))  # type: ignore[assignment]

client = AtlanClient(base_url=os.environ["EMULATOR_URL"], api_key=os.environ["EMULATOR_KEY"])
secret = os.environ["SDK_SECRET"]

assets = (
    AssetImport()
    .object_store()
    .gcs(project_id="acme-data", service_account_json=secret, bucket="acme-imports")
    .assets(prefix="/in", object_key="assets.csv", input_handling=AssetInputHandling.UPSERT)
    .assets_advanced(
        remove_attributes=[Asset.CERTIFICATE_STATUS, Asset.ANNOUNCEMENT_TYPE],
        fail_on_errors=True,
        case_sensitive_match=False,
        field_separator=";",
        batch_size=50,
    )
    .glossaries(prefix="/in", object_key="glossary.csv")
    .to_workflow()
)
lineage = (
    LineageBuilder()
    .object_store(prefix="/lineage", object_key="lineage.csv")
    .adls(
        client_id="client-id",
        client_secret=secret,
        tenant_id="tenant-id",
        account_name="acmelake",
        container="lineage",
    )
    .options(input_handling=AssetInputHandling.UPSERT, fail_on_errors=False, batch_size=25)
    .to_workflow()
)
backing_store = (
    AssetImport()
    .object_store()
    .data_products(prefix="/products", object_key="products.csv")
    .data_product_advanced(fail_on_errors=True)
    .to_workflow()
)

names = [
    client.workflow.run(assets).metadata.name,
    client.workflow.run(
        lineage, WorkflowSchedule(cron_schedule="0 4 * * *", timezone="Europe/Berlin")
    ).metadata.name,
    client.workflow.run(backing_store).metadata.name,
]
print(json.dumps(names))
