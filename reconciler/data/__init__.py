"""Import data as code: source CSVs and Collibra-style templates -> the packages' input files.

Pure: the standard library and ``reconciler.errors`` only; no network, nothing written but the
sink a caller hands in (and temporary files for very large outputs). Every user mistake is a
``DataError`` listing every problem of the file at once, at file:line and template key::

    template = load_template(Path("templates/terms.json"), "glossaries")
    options = CsvOptions(header_row=True)  # Collibra's defaults otherwise: ';', '"', '\\'
    with open(out, "wb") as sink:
        rendered = render_source(Path("data/terms.csv"), template, options, sink=sink)
    rendered.sha256, rendered.rows, rendered.header

    checked = passthrough(Path("data/assets.csv"), "assets")  # already in the package's format

- ``CsvOptions``: the source's CSV parameters (Collibra's names and defaults; ``ValueError``).
- ``load_template(path | data, section, file=, locate=)``: a checked ``Template``; inline (YAML)
  templates come as data with ``locate(path) -> (line, column)`` for messages.
- ``render_source(source, template, options, field_separator=",", sink=, display=)``: the
  rendered file, streamed to ``sink``; ``RenderedFile(section, header, rows, size, sha256, data)``.
- ``passthrough(source, section, field_separator=",", sink=, display=)``: a file in the package's
  format, checked and passed on byte for byte, as a ``RenderedFile``.
- ``SECTIONS``: ``assets``, ``glossaries``, ``data_products``, ``tags``, ``lineage``.
- ``read_records``, ``split_multivalue``: the opencsv-compatible tokenizer and multivalue split.
"""

from typing import TYPE_CHECKING

from reconciler._lazy import attribute_loader

if TYPE_CHECKING:
    from reconciler.data.options import SECTIONS, CsvOptions, Section
    from reconciler.data.passthrough import passthrough
    from reconciler.data.render import RenderedFile, render_source
    from reconciler.data.template import Template, load_template
    from reconciler.data.tokenizer import CsvSyntaxError, Record, read_records, split_multivalue
    from reconciler.errors import DataError

_HOMES = {
    "CsvOptions": "reconciler.data.options",
    "CsvSyntaxError": "reconciler.data.tokenizer",
    "DataError": "reconciler.errors",
    "Record": "reconciler.data.tokenizer",
    "RenderedFile": "reconciler.data.render",
    "SECTIONS": "reconciler.data.options",
    "Section": "reconciler.data.options",
    "Template": "reconciler.data.template",
    "load_template": "reconciler.data.template",
    "passthrough": "reconciler.data.passthrough",
    "read_records": "reconciler.data.tokenizer",
    "render_source": "reconciler.data.render",
    "split_multivalue": "reconciler.data.tokenizer",
}
__getattr__ = attribute_loader(__name__, _HOMES)

__all__ = [
    "SECTIONS",
    "CsvOptions",
    "CsvSyntaxError",
    "DataError",
    "Record",
    "RenderedFile",
    "Section",
    "Template",
    "load_template",
    "passthrough",
    "read_records",
    "render_source",
    "split_multivalue",
]
