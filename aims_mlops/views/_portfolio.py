"""Every in-scope system in one sortable table; choosing a system opens its dashboard below."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from aims_mlops.judgement import judge
from aims_mlops.presentation import appetite_colour, percent, score_colour
from aims_mlops.views._attest_form import AttestCallback
from aims_mlops.views._dashboard import Dashboard
from aims_mlops.views._model import (
    SORT_KEYS,
    PortfolioModel,
    PortfolioRow,
    portfolio_model,
)
from aims_mlops.views._widgets import (
    FILL_LAYOUT,
    NAME_BUTTON_LAYOUT,
    ROW_LAYOUT,
    Pager,
    WidgetView,
    chip,
    esc,
    status_chips,
)

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.judgement import Judgement


def _score_bar(score: float) -> str:
    colour = score_colour(score)
    return (
        '<span style="display:inline-block;width:90px;height:10px;background:#eee;'
        'vertical-align:middle;margin-right:6px">'
        f'<span style="display:block;height:10px;width:{score * 100:.1f}%;background:{colour}">'
        f"</span></span>{esc(percent(score))}"
    )


class PortfolioRowView:
    """A table row: the system's name as a button (opens its dashboard) and its figures."""

    def __init__(self, *, row: PortfolioRow, portfolio: Portfolio) -> None:
        self.row = row
        self.button = widgets.Button(
            description=row.name,
            tooltip=f"open the dashboard of {row.system}",
            layout=NAME_BUTTON_LAYOUT,
        )
        self.button.on_click(lambda _: portfolio.select(row.system))
        risks = chip(
            f"{row.risks_above_appetite} above appetite",
            appetite_colour(row.risks_above_appetite > 0),
        )
        self.summary = widgets.HTML(
            value=(
                f"{_score_bar(row.score)} · {risks} · <b>{row.gaps}</b> gaps · "
                f'{status_chips(row.counts)} <span style="color:#666">· {esc(row.owner)}</span>'
                + (
                    f'<br><span style="color:#666">{esc(row.eu_ai_act)}</span>'
                    if row.eu_ai_act
                    else ""
                )
            ),
            layout=FILL_LAYOUT,
        )
        self.box = widgets.HBox([self.button, self.summary], layout=ROW_LAYOUT)


class Portfolio(WidgetView):
    """The portfolio table (``.widget``, a ``VBox``); ``select(system)`` opens a dashboard."""

    def __init__(
        self,
        *,
        judgement: Judgement,
        config: str | os.PathLike[str] | AimsConfig | None = None,
        read_only: bool = False,
        on_attest: AttestCallback | None = None,
    ) -> None:
        self.judgement = judgement
        self.read_only = read_only
        self._on_attest = on_attest
        self._config_source = config
        self.model: PortfolioModel = portfolio_model(
            judgement.assessment, catalog=judgement.catalog, config=judgement.config
        )
        self.selected: str | None = None
        self.dashboard: Dashboard | None = None
        self.rows: list[PortfolioRowView] = []
        self._page = 0

        self.header = widgets.HTML()
        self.sort = widgets.Dropdown(
            description="sort by",
            options=[(label, key) for key, label in SORT_KEYS.items()],
            value="score",
        )
        self.reverse = widgets.Checkbox(value=False, description="reverse", indent=False)
        self.sort.observe(lambda _: self._show(0), names="value")
        self.reverse.observe(lambda _: self._show(0), names="value")
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _: self.refresh())
        self.pager = Pager(on_page=self._show)
        self.pager.set_labels("◀ previous", "next ▶")
        self.table = widgets.VBox()
        self.detail = widgets.VBox()
        self.widget = widgets.VBox(
            [
                self.header,
                widgets.HBox([self.sort, self.reverse, self.refresh_button], layout=ROW_LAYOUT),
                self.table,
                self.pager.box,
                self.detail,
            ]
        )
        self._render()

    def __repr__(self) -> str:
        return (
            f"Portfolio(systems={len(self.model.rows)}, overall={percent(self.model.overall)!r}, "
            f"evaluated_at={self.model.evaluated_at!r})"
        )

    def _render(self) -> None:
        self.header.value = (
            f'<span style="font-size:1.3em;font-weight:bold">AI systems in scope: '
            f"{len(self.model.rows)}</span> · overall readiness <b>"
            f"{esc(percent(self.model.overall))}</b> · "
            f'<span style="color:#666">evaluated {esc(self.model.evaluated_at)}</span>'
        )
        self._show(0)

    def _show(self, page: int) -> None:
        shown = self.model.page(page, key=str(self.sort.value), reverse=bool(self.reverse.value))
        self._page = shown.page
        self.rows = [PortfolioRowView(row=row, portfolio=self) for row in shown.rows]
        for view in self.rows:
            view.button.button_style = "info" if view.row.system == self.selected else ""
        self.table.children = [v.box for v in self.rows] or [
            widgets.HTML("<i>no in-scope AI systems</i>")
        ]
        self.pager.show(shown)

    def visible_systems(self) -> list[str]:
        """System ids of the rows on the current page, in table order."""
        return [view.row.system for view in self.rows]

    def select(self, system: str) -> Dashboard:
        """Open ``system``'s dashboard below the table (from the same judgement)."""
        self.selected = system
        self.dashboard = Dashboard(
            judgement=self.judgement,
            system=system,
            config=self._config_source,
            read_only=self.read_only,
            on_attest=self._on_attest,
        )
        self.detail.children = [self.dashboard.widget]
        for view in self.rows:
            view.button.button_style = "info" if view.row.system == system else ""
        return self.dashboard

    def refresh(self) -> None:
        """Judge every in-scope system again and re-render (the open dashboard too)."""
        self.judgement = judge(config=self._judge_config(), store=self.judgement.store)
        self.model = portfolio_model(
            self.judgement.assessment, catalog=self.judgement.catalog, config=self.judgement.config
        )
        self._render()
        if self.selected is not None and self.selected in self.judgement.assessment.systems:
            self.select(self.selected)
        else:
            self.selected, self.dashboard = None, None
            self.detail.children = []

    def _judge_config(self) -> Any:
        from pathlib import Path

        if self._config_source is not None:
            return self._config_source
        path = Path(self.judgement.config_path)
        return path if path.is_file() else self.judgement.config


def portfolio(
    *,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    judgement: Judgement | None = None,
    read_only: bool = False,
    on_attest: AttestCallback | None = None,
) -> Portfolio:
    """The portfolio of every in-scope system, judged now unless ``judgement`` is given.

    Its dashboards have the attestation form only with ``on_attest`` and not ``read_only``.
    """
    if judgement is None:
        judgement = judge(config=config)
    return Portfolio(
        judgement=judgement, config=config, read_only=read_only, on_attest=on_attest
    )
