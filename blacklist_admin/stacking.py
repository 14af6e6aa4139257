"""Tables that stack on a phone (app.css `.table-stack`): each cell carries its column's header as
`data-label`, which the stacked row shows before the value."""

import django_tables2 as tables


def label_cells(table: tables.Table) -> None:
    """Give every cell of `table` its column's header as data-label (this table's own column copies)."""
    for column in table.columns:
        column.column.attrs.setdefault("td", {})["data-label"] = column.header
