"""The conversation table as widgets: the model's totals and most recent rows, in HTML.

A view only reads its model (smskit.conversations) and writes widget values; it holds no
state of its own, so the model stays testable without widgets and the view without events.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from .conversations import Column, Conversations, Row

ROWS = 20  # conversations shown; the rest are counted in the totals


def table_html(rows: list[Row], columns: tuple[Column, ...]) -> str:
    """The table's columns as HTML, one <tr data-from data-to> per row, newest first."""
    columns = tuple(c for c in columns if c.table)
    head = "".join(f"<th class='smskit-{c.key}'>{html.escape(c.title)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = "".join(
            f"<td class='smskit-{c.key}'>{html.escape(c.text(row))}</td>" for c in columns
        )
        pair = f"data-from='{html.escape(row.sender)}' data-to='{html.escape(row.to)}'"
        body.append(f"<tr {pair}>{cells}</tr>")
    return (
        f"<table class='smskit-conversations'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


class ConversationView:
    """Two HTML widgets, totals_label and table, showing a Conversations model."""

    def __init__(self, model: Conversations, rows: int = ROWS):
        self.model, self.max_rows = model, rows
        self.totals_label = widgets.HTML()
        self.table = widgets.HTML()
        self.widget = widgets.VBox([self.totals_label, self.table])

    def render(self) -> None:
        """Put the model's current state into the widgets (unchanged values send nothing)."""
        rows, totals = self.model.rows(self.max_rows), self.model.totals()
        shown = f" (the {len(rows)} most recent shown)" if totals.conversations > len(rows) else ""
        self.totals_label.value = f"<b class='smskit-totals'>{totals.text()}</b>{shown}"
        self.table.value = table_html(rows, self.model.columns)
