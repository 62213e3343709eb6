"""The data products file (../shared/atlan-csv-formats.md §4): domains level by level from the
top, then products, each known by name and path, never by the qualifiedName column.

- a domain is known by its path ``Root@Sub@Name`` (``parentDomain`` and ``name``); created as
  ``default/domain/<id>/super`` at the top and ``<parent QN>/domain/<id>`` below;
- a product by ``name`` within its domain (``dataDomain``, a domain path, required); created as
  ``<domain QN>/product/<id>``. Products ignore ``parentDomain``, ``assetIcon`` and
  ``assetThemeHex``; domains ignore ``dataDomain``.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.emulator.imports.assets import AssetBuilder, typed_rows
from reconciler.emulator.imports.cells import Columns
from reconciler.emulator.imports.csvfile import Table
from reconciler.emulator.imports.load import Loader, Row, RowError, Written
from reconciler.emulator.imports.resolve import DOMAIN, PRODUCT, CellError, new_id, related, split_domain_path


@dataclass
class ProductsFile:
    header: tuple[str, ...]
    domains: list[list[Row]]  # by depth: top-level domains first
    products: list[Row]
    skipped: list[int]


def read_products(table: Table) -> ProductsFile:
    rows, skipped = typed_rows(
        table,
        (DOMAIN, PRODUCT),
        lambda type_name, qualified_name: (
            f"Found a non-product asset that should be loaded via another file (of type {type_name}): "
            f"{qualified_name}"
        ),
    )
    levels: dict[int, list[Row]] = {}
    for row in rows:
        if row.type_name == DOMAIN:
            parent = table.cell(row.cells, "parentDomain")
            levels.setdefault(parent.count("@") + 1 if parent else 0, []).append(row)
    products = [row for row in rows if row.type_name == PRODUCT]
    return ProductsFile(table.header, [levels[depth] for depth in sorted(levels)], products, skipped)


class ProductLoader:
    def __init__(self, loader: Loader, source: ProductsFile) -> None:
        self.loader = loader
        self.source = source
        self.resolver = loader.resolver
        self.domains = AssetBuilder(loader, Columns(source.header, "data_products"))
        ignored = ("assetIcon", "assetThemeHex")
        self.products = AssetBuilder(loader, Columns(source.header, "data_products", exclude=ignored))

    def _cell(self, row: Row, column: str) -> str:
        header = self.source.header
        return row.cells[header.index(column)] if column in header else ""

    def load(self) -> None:
        for level in self.source.domains:
            self.loader.load(level, self.build_domain)
        self.loader.load(self.source.products, self.build_product)

    def _path(self, row: Row, column: str) -> list[str]:
        try:
            return split_domain_path(self._cell(row, column))
        except CellError as exc:
            raise RowError(str(exc), column) from exc

    def build_domain(self, row: Row) -> Written:
        parent = None
        path: list[str] = []
        if self._cell(row, "parentDomain"):
            path = self._path(row, "parentDomain")
            parent = self.resolver.domain(path)
            if parent is None:
                raise RowError(
                    f"Parent domain not found: {self._cell(row, 'parentDomain')!r}", "parentDomain"
                )
            row.preset["parentDomain"] = related(parent)
        before = self.resolver.domain([*path, row.name])
        parent_qn = parent["attributes"]["qualifiedName"] if parent is not None else None
        return self.domains.upsert(
            row,
            before,
            DOMAIN,
            lambda: f"{parent_qn}/domain/{new_id()}" if parent_qn else f"default/domain/{new_id()}/super",
        )

    def build_product(self, row: Row) -> Written:
        if not self._cell(row, "dataDomain"):
            raise RowError("No dataDomain provided for the data product, cannot be processed.", "dataDomain")
        domain = self.resolver.domain(self._path(row, "dataDomain"))
        if domain is None:
            raise RowError(
                f"dataDomain not found for the data product: {self._cell(row, 'dataDomain')!r}", "dataDomain"
            )
        row.preset["dataDomain"] = related(domain)
        domain_qn = domain["attributes"]["qualifiedName"]
        before = self.resolver.product(row.name, domain)
        return self.products.upsert(row, before, PRODUCT, lambda: f"{domain_qn}/product/{new_id()}")
