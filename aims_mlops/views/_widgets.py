"""Small shared widget pieces: a pager, shared layouts (and the HTML pieces of
:mod:`aims_mlops.views._html`, re-exported).

Standard ipywidgets 8 widgets only (no custom front end), so the views work in JupyterLab,
Notebook 7, VS Code and Voilà. Everything here renders; nothing decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from aims_mlops.views._html import (
    bullet_list,
    chip,
    code,
    esc,
    html_table,
    outcome_chip,
    status_chip,
    status_chips,
)
from aims_mlops.views._model import Page

#: Layouts shared by many widgets (a layout is itself a widget: sharing keeps builds fast).
ROW_LAYOUT = widgets.Layout(align_items="center", width="100%")
TOGGLE_LAYOUT = widgets.Layout(width="34px", min_width="34px")
ID_BUTTON_LAYOUT = widgets.Layout(width="120px", min_width="120px")
NAME_BUTTON_LAYOUT = widgets.Layout(width="260px", min_width="260px")
FILL_LAYOUT = widgets.Layout(flex="1 1 auto")


class WidgetView:
    """A view object that displays as its widget tree (``.widget``), with its ``repr`` as the
    bundle's ``text/plain``."""

    widget: widgets.Widget

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        """The widget's bundle, with this object's short text form as ``text/plain``."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):
            bundle["text/plain"] = repr(self)
        return bundle


class Pager:
    """Previous / next buttons and a ``page 1 of 3 (60 rows)`` label; calls ``on_page(n)``."""

    def __init__(self, *, on_page: Callable[[int], None]) -> None:
        self.page = 0
        self.pages = 1
        self._on_page = on_page
        self.previous = widgets.Button(description="◀ newer", layout=widgets.Layout(width="90px"))
        self.next = widgets.Button(description="older ▶", layout=widgets.Layout(width="90px"))
        self.label = widgets.HTML()
        self.previous.on_click(lambda _: self.go(self.page - 1))
        self.next.on_click(lambda _: self.go(self.page + 1))
        self.box = widgets.HBox(
            [self.previous, self.label, self.next], layout=widgets.Layout(align_items="center")
        )

    def set_labels(self, previous: str, next_: str) -> None:
        self.previous.description = previous
        self.next.description = next_

    def go(self, page: int) -> None:
        if 0 <= page < self.pages and page != self.page:
            self._on_page(page)

    def show(self, page: Page[object]) -> None:
        """Reflect a rendered page: the label, and which buttons can be used."""
        self.page = page.page
        self.pages = page.pages
        self.label.value = f'<span style="padding:0 8px">{esc(page.label)}</span>'
        self.previous.disabled = page.page <= 0
        self.next.disabled = page.page >= page.pages - 1
        self.box.layout.display = "none" if page.pages <= 1 else None


__all__ = [
    "FILL_LAYOUT",
    "ID_BUTTON_LAYOUT",
    "NAME_BUTTON_LAYOUT",
    "ROW_LAYOUT",
    "TOGGLE_LAYOUT",
    "Pager",
    "WidgetView",
    "bullet_list",
    "chip",
    "code",
    "esc",
    "html_table",
    "outcome_chip",
    "status_chip",
    "status_chips",
]
