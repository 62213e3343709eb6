"""The unmodified Atlan SDK's file client (pyatlan 10.0.0) against a served emulator; run by
.venv-sdk/bin/python from tests/emulator/test_files_sdk.py.

Reads EMULATOR_URL, EMULATOR_KEY and WORK_DIR from the environment, uploads a file to the tenant
store and downloads it again through presigned URLs, and prints one JSON object of observations.
The URLs themselves are credentials: never printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pyatlan.client.atlan import AtlanClient
from pyatlan.model.file import PresignedURLRequest

client = AtlanClient(base_url=os.environ["EMULATOR_URL"], api_key=os.environ["EMULATOR_KEY"])
work = Path(os.environ["WORK_DIR"])
source = work / "assets.csv"
source.write_bytes(b"typeName,qualifiedName,name\nTable,default/snowflake/1700000000/DB/SCH/T,T\n")


def presigned(method: PresignedURLRequest.Method) -> str:
    request = PresignedURLRequest(key="sdk/prefix/assets.csv", expiry="30s", method=method)
    url: str = client.files.generate_presigned_url(request)
    return url


client.files.upload_file(presigned_url=presigned(PresignedURLRequest.Method.PUT), file_path=str(source))
target = work / "downloaded.csv"
client.files.download_file(presigned_url=presigned(PresignedURLRequest.Method.GET), file_path=str(target))
print(json.dumps({"round_trip": target.read_bytes() == source.read_bytes()}))
