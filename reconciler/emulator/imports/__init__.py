"""The emulated packages: an asset-import or lineage-builder run carried out against the catalog.

When such a run is submitted, the emulator reads the files its workflow names (the objects
``status.inputs`` noted, ../inputs.py), parses them as the packages do, applies them to the
catalog (../catalog.py) and reports, as ../shared/atlan-csv-formats.md describes the packages:

- ``csvfile``: FastCSV's rules, trimming, multi-valued cells, decoding;
- ``options``: the workflow's parameters, with the packages' defaults and advanced gating;
- ``cells``: cell values -> attributes, references -> related objects (``resolve``: lookups);
- ``load``: batches, one catalog transaction each, and what each row did;
- ``assets``, ``gtc``, ``mesh``, ``tags``, ``lineage``: each file's checks, identities and order;
- ``delta``: full replacement against the connection's previous file;
- ``report``: counts per file, the first errors, results.csv;
- ``run``: one run from its files to its outcome (``execute``).
"""
