"""One AI system's dashboard: score, risk map, controls, evidence, gaps, attestation.

A thin widget: the tree renders a :class:`~aims_mlops.views._model.DashboardModel` through the
pure functions of :mod:`aims_mlops.views._dashboard_view` (every HTML fragment, cell style and
filter option) and wires the events; control sections and evidence pages are built only when
shown. ``refresh()`` judges the system again and updates the same widgets in place.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from aims_mlops._errors import AimsError
from aims_mlops.config import AimsConfig, load_config
from aims_mlops.genai._views import genai_section_html
from aims_mlops.judgement import judge
from aims_mlops.reports._lifecycle import lifecycle_for, lifecycle_html
from aims_mlops.views._attest_form import AttestationForm, AttestCallback
from aims_mlops.views._dashboard_view import (
    build_model,
    choose_system,
    configuration_html,
    control_detail_html,
    control_summary_html,
    evidence_summary_html,
    gaps_html,
    header_html,
    heat_cell_view,
    heat_legend_html,
    impact_label_html,
    kept_choice,
    kind_options,
    likelihood_label_html,
    missing_record_html,
    record_html,
    refreshed_html,
    risk_table_html,
    score_label_html,
    score_style,
    status_filter_options,
)
from aims_mlops.views._model import ALL, ControlRow, DashboardModel, EvidenceRow
from aims_mlops.views._widgets import (
    FILL_LAYOUT,
    ID_BUTTON_LAYOUT,
    ROW_LAYOUT,
    TOGGLE_LAYOUT,
    Pager,
    WidgetView,
    status_chips,
)

if TYPE_CHECKING:
    from aims_mlops.config import AimsConfig
    from aims_mlops.judgement import Judgement

ERROR_READ_ONLY = "this dashboard is read-only: record attestations with `aims attest` instead"
TAB_TITLES = ("Risks", "Controls", "Evidence", "Gaps", "Lifecycle", "Attest")
TAB_RISKS, TAB_CONTROLS, TAB_EVIDENCE, TAB_GAPS, TAB_LIFECYCLE, TAB_ATTEST = range(6)
#: Record ids of a control shown as drill-down buttons (the rest are listed as text).
MAX_EVIDENCE_BUTTONS = 10


class RiskMap:
    """The Risks tab: the likelihood × impact heat map with the appetite line, its legend and
    the risk register of the system (values from :mod:`aims_mlops.views._dashboard_view`)."""

    def __init__(self) -> None:
        self.heat_cells: dict[tuple[int, int], widgets.HTML] = {}
        self.likelihood_labels: dict[int, widgets.HTML] = {}
        self.impact_labels: dict[int, widgets.HTML] = {}
        cell_layout_args = {"width": "auto", "height": "auto", "min_height": "44px"}
        grid_children: list[widgets.Widget] = []
        for likelihood in range(5, 0, -1):
            label = widgets.HTML()
            self.likelihood_labels[likelihood] = label
            grid_children.append(label)
            for impact in range(1, 6):
                cell = widgets.HTML(layout=widgets.Layout(**cell_layout_args))
                self.heat_cells[(likelihood, impact)] = cell
                grid_children.append(cell)
        grid_children.append(widgets.HTML('<div style="text-align:right">L \\ I</div>'))
        for impact in range(1, 6):
            label = widgets.HTML()
            self.impact_labels[impact] = label
            grid_children.append(label)
        self.heatmap = widgets.GridBox(
            grid_children,
            layout=widgets.Layout(
                grid_template_columns="130px repeat(5, 1fr)", grid_gap="2px", max_width="720px"
            ),
        )
        self.heat_legend = widgets.HTML()
        self.risk_list = widgets.HTML()
        self.box = widgets.VBox([self.heatmap, self.heat_legend, self.risk_list])

    def render(self, m: DashboardModel) -> None:
        for likelihood, label in self.likelihood_labels.items():
            label.value = likelihood_label_html(likelihood, m.likelihood_labels.get(likelihood, ""))
        for impact, label in self.impact_labels.items():
            label.value = impact_label_html(impact, m.impact_labels.get(impact, ""))
        for row in m.heatmap:
            for cell in row:
                view = heat_cell_view(cell, m.appetite)
                widget = self.heat_cells[(cell.likelihood, cell.impact)]
                widget.value = view.html
                widget.style.background = view.background
                widget.layout.border_top = view.border_top
                widget.layout.border_right = view.border_right
                widget.tooltip = view.tooltip
        self.heat_legend.value = heat_legend_html(m.appetite)
        self.risk_list.value = risk_table_html(m)


class ControlRowView:
    """One control row: a toggle button, its summary, and (expanded) its reasons and evidence."""

    def __init__(self, *, row: ControlRow, dashboard: Dashboard) -> None:
        self.row = row
        self._dashboard = dashboard
        control = row.control
        self.toggle = widgets.Button(
            description="▸", tooltip="show reasons and evidence", layout=TOGGLE_LAYOUT
        )
        self.summary = widgets.HTML(value=control_summary_html(control), layout=FILL_LAYOUT)
        self.details: widgets.VBox | None = None
        self.evidence_buttons: list[widgets.Button] = []
        self.toggle.on_click(lambda _: self.set_expanded(not self.expanded))
        self.box = widgets.VBox([widgets.HBox([self.toggle, self.summary], layout=ROW_LAYOUT)])

    @property
    def expanded(self) -> bool:
        return self.details is not None and len(self.box.children) > 1

    def set_expanded(self, expanded: bool) -> None:
        if expanded == self.expanded:
            return
        if not expanded:
            self.box.children = self.box.children[:1]
            self.toggle.description = "▸"
            return
        if self.details is None:
            self.details = self._build_details()
        self.box.children = (self.box.children[0], self.details)
        self.toggle.description = "▾"

    def _build_details(self) -> widgets.VBox:
        row = self.row.control
        text = widgets.HTML(value=control_detail_html(row))
        known = [e for e in row.evidence if self._dashboard.model.record(e) is not None]
        self.evidence_buttons = []
        for record_id in known[:MAX_EVIDENCE_BUTTONS]:
            button = widgets.Button(
                description=record_id[:12],
                tooltip=f"open record {record_id}",
                layout=ID_BUTTON_LAYOUT,
            )
            button.on_click(lambda _, rid=record_id: self._dashboard.show_record(rid))
            self.evidence_buttons.append(button)
        children: list[widgets.Widget] = [text]
        if self.evidence_buttons:
            children.append(
                widgets.HBox(
                    [
                        widgets.HTML('<span style="margin-left:40px">open record:</span>'),
                        *self.evidence_buttons,
                    ],
                    layout=widgets.Layout(flex_flow="row wrap"),
                )
            )
        return widgets.VBox(children)


class EvidenceRowView:
    """One timeline row: the record id (click to drill down) and what it says."""

    def __init__(self, *, row: EvidenceRow, on_open: Callable[[str], Any]) -> None:
        self.row = row
        self.button = widgets.Button(
            description=row.id[:12], tooltip=f"details of record {row.id}", layout=ID_BUTTON_LAYOUT
        )
        self.button.on_click(lambda _: on_open(row.id))
        self.summary = widgets.HTML(value=evidence_summary_html(row), layout=FILL_LAYOUT)
        self.box = widgets.HBox([self.button, self.summary], layout=ROW_LAYOUT)


class EvidenceBrowser:
    """The Evidence tab: the system's records newest first, filtered by kind, a page at a time,
    and one record's drill-down; ``on_open`` is called with a record id a row opens."""

    def __init__(self, *, on_open: Callable[[str], Any]) -> None:
        self._on_open = on_open
        self._model: DashboardModel | None = None
        self._quiet = False
        self.rows: list[EvidenceRowView] = []
        self.page = 0
        self.kind_filter = widgets.Dropdown(description="kind", options=[("all kinds", ALL)])
        self.kind_filter.observe(lambda _: self._kind_changed(), names="value")
        self.pager = Pager(on_page=self.show_page)
        self.list = widgets.VBox()
        self.record_detail = widgets.HTML()
        self.box = widgets.VBox([self.kind_filter, self.pager.box, self.list, self.record_detail])

    def render(self, model: DashboardModel) -> None:
        """Show ``model``'s kinds and its first page."""
        self._model = model
        options = kind_options(model.evidence_kinds)
        current = self.kind_filter.value
        self._quiet = True
        try:
            self.kind_filter.options = options
            self.kind_filter.value = kept_choice(current, options)
        finally:
            self._quiet = False
        self.show_page(0)

    def _kind_changed(self) -> None:
        if not self._quiet:
            self.show_page(0)

    def show_page(self, page: int) -> None:
        if self._model is None:
            return
        kind = self.kind_filter.value
        shown = self._model.evidence_page(page, kind=None if kind == ALL else str(kind))
        self.page = shown.page
        self.rows = [EvidenceRowView(row=row, on_open=self._on_open) for row in shown.rows]
        self.list.children = [v.box for v in self.rows] or [
            widgets.HTML("<i>no evidence records yet</i>")
        ]
        self.pager.show(shown)

    def show_record(self, record_id: str) -> EvidenceRow | None:
        """One record's drill-down (None: not among the system's records)."""
        row = self._model.record(record_id) if self._model is not None else None
        shown = missing_record_html(record_id) if row is None else record_html(row)
        self.record_detail.value = shown
        return row


class Dashboard(WidgetView):
    """An AI system's dashboard; displays as its widget tree (``.widget``, a ``VBox``)."""

    def __init__(
        self,
        *,
        judgement: Judgement,
        system: str,
        model_version: str | None = None,
        config: str | os.PathLike[str] | AimsConfig | None = None,
        read_only: bool = False,
        on_attest: AttestCallback | None = None,
    ) -> None:
        self.judgement = judgement
        self.system = system
        #: a read-only dashboard (Voila, reviewers) shows everything and has no attestation form;
        #: so has one given no ``on_attest`` (nothing to record with)
        self.read_only = read_only or on_attest is None
        self._on_attest = on_attest
        self.model_version = model_version
        self._config_source = config
        self.model = build_model(judgement, system)
        self._section_pages: dict[str, int] = {}
        self.section_rows: dict[str, list[ControlRowView]] = {}
        self._quiet = False
        self._accordion_ids: list[str] = []
        self._build()
        self._render()

    def __repr__(self) -> str:
        return (
            f"Dashboard(system={self.system!r}, score={self.model.score_text!r}, "
            f"gaps={len(self.model.gaps)}, evaluated_at={self.model.evaluated_at!r})"
        )

    # -- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.header = widgets.HTML()
        self.genai = widgets.HTML()  # the GenAI evaluation, for LLM systems
        #: which configuration the verdict used, and the draft verdict beside the approved one
        self.configuration = widgets.HTML()
        self.refresh_button = widgets.Button(
            description="Refresh", icon="refresh", tooltip="judge the system again"
        )
        self.refresh_button.on_click(lambda _: self.refresh())
        self.score_bar = widgets.FloatProgress(min=0.0, max=1.0, description="conformity")
        self.score_label = widgets.HTML()
        self.chips = widgets.HTML()
        self.message = widgets.HTML()

        # risks
        self.risk_map = RiskMap()
        self.heat_cells, self.risk_list = self.risk_map.heat_cells, self.risk_map.risk_list
        risks_tab = self.risk_map.box

        # controls
        self.status_filter = widgets.ToggleButtons(
            options=[(ALL, ALL)], value=ALL, style={"button_width": "auto"}
        )
        self.text_filter = widgets.Text(
            placeholder="filter by id, title or owner", description="find", continuous_update=False
        )
        self.status_filter.observe(lambda _: self._filters_changed(), names="value")
        self.text_filter.observe(lambda _: self._filters_changed(), names="value")
        self.accordion = widgets.Accordion()
        self.accordion.observe(lambda _: self._render_open_section(), names="selected_index")
        controls_tab = widgets.VBox([self.status_filter, self.text_filter, self.accordion])

        # evidence
        self.evidence = EvidenceBrowser(on_open=self.show_record)
        self.kind_filter, self.evidence_pager = self.evidence.kind_filter, self.evidence.pager
        self.record_detail = self.evidence.record_detail
        evidence_tab = self.evidence.box

        # gaps
        self.gaps = widgets.HTML()

        # attestation: a widget of its own, recording through the caller's callback
        self.attest_form = AttestationForm(
            on_attest=self._on_attest, on_recorded=self.refresh, system=self.system
        )
        form = self.attest_form
        self.attest_control, self.attest_document_hint = form.control, form.document_hint
        self.attest_by, self.attest_document = form.by, form.document
        self.attest_valid_days, self.attest_statement = form.valid_days, form.statement
        self.attest_submit, self.attest_message = form.submit_button, form.message
        attest_tab = form.box

        self.lifecycle = widgets.HTML()  # the AIMS lifecycle: phases, progress, next actions
        tabs = [risks_tab, controls_tab, evidence_tab, self.gaps, self.lifecycle, attest_tab]
        self.tabs = widgets.Tab(
            children=tabs[:-1] if self.read_only else tabs,
            titles=TAB_TITLES[:-1] if self.read_only else TAB_TITLES,
        )
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.header, self.refresh_button], layout=ROW_LAYOUT),
                self.configuration,
                self.genai,
                widgets.HBox([self.score_bar, self.score_label], layout=ROW_LAYOUT),
                self.chips,
                self.tabs,
                self.message,
            ]
        )

    # -- rendering ---------------------------------------------------------------------------
    def _render(self) -> None:
        m = self.model
        self.header.value = header_html(m)
        self.genai.value = genai_section_html(m.genai) if m.genai is not None else ""
        self.configuration.value = configuration_html(
            self.judgement, self.system, self._draft_assessment()
        )
        self.score_bar.value = m.score
        self.score_bar.bar_style = score_style(m.score)
        self.score_label.value = score_label_html(m)
        self.chips.value = status_chips(m.counts)
        self.risk_map.render(m)
        self._render_controls()
        self.evidence.render(m)
        self._render_gaps()
        self.lifecycle.value = lifecycle_html(lifecycle_for(self.judgement))
        self._render_attest()

    @property
    def _filters(self) -> tuple[str, str]:
        return str(self.status_filter.value), str(self.text_filter.value or "")

    def _render_controls(self) -> None:
        m = self.model
        options = status_filter_options(m.counts)
        current = self.status_filter.value
        self._quiet = True
        try:
            self.status_filter.options = options
            self.status_filter.value = kept_choice(current, options)
            ids = [g.id for g in m.groups]
            if self._accordion_ids != ids:
                self.accordion.selected_index = None
                self.accordion.children = [widgets.VBox() for _ in ids]
        finally:
            self._quiet = False
        self.section_rows.clear()
        self._section_pages.clear()
        self._update_titles()
        self._render_open_section()

    def _update_titles(self) -> None:
        status, text = self._filters
        self._accordion_ids = [g.id for g in self.model.groups]
        self.accordion.titles = tuple(g.heading(status, text) for g in self.model.groups)

    def _filters_changed(self) -> None:
        if self._quiet:
            return
        self._section_pages.clear()
        self._update_titles()
        status, text = self._filters
        index = self.accordion.selected_index
        if index is not None and not self.model.groups[index].matching(status, text):
            first = next(
                (i for i, g in enumerate(self.model.groups) if g.matching(status, text)), None
            )
            if first is not None:
                self.accordion.selected_index = first  # renders through the observer
                return
        self._render_open_section()

    def _render_open_section(self, page: int | None = None) -> None:
        index = self.accordion.selected_index
        if self._quiet or index is None or index >= len(self.model.groups):
            return
        group = self.model.groups[index]
        status, text = self._filters
        wanted = self._section_pages.get(group.id, 0) if page is None else page
        shown = self.model.control_page(group.id, status=status, text=text, page=wanted)
        self._section_pages[group.id] = shown.page
        views = [ControlRowView(row=row, dashboard=self) for row in shown.rows]
        self.section_rows = {group.id: views}
        children: list[widgets.Widget] = [v.box for v in views]
        if not views:
            children.append(widgets.HTML("<i>no entries match the filter</i>"))
        if shown.pages > 1:
            pager = Pager(on_page=lambda n: self._render_open_section(n))
            pager.set_labels("◀ previous", "next ▶")
            pager.show(shown)
            children.append(pager.box)
        section = self.accordion.children[index]
        section.children = children

    def visible_controls(self) -> list[ControlRowView]:
        """The control rows shown in the open accordion section."""
        return [view for views in self.section_rows.values() for view in views]

    def open_group(self, group_id: str) -> list[ControlRowView]:
        """Open the section of ``group_id`` (``"A.7"``, ``"9"``) and return its visible rows."""
        index = [g.id for g in self.model.groups].index(group_id)
        self.tabs.selected_index = TAB_CONTROLS
        if self.accordion.selected_index == index:
            self._render_open_section()
        else:
            self.accordion.selected_index = index
        return self.visible_controls()

    # -- evidence ----------------------------------------------------------------------------
    @property
    def evidence_rows(self) -> list[EvidenceRowView]:
        """The record rows of the Evidence tab's current page."""
        return self.evidence.rows

    def show_record(self, record_id: str) -> EvidenceRow | None:
        """Show one record's drill-down in the Evidence tab."""
        self.tabs.selected_index = TAB_EVIDENCE
        return self.evidence.show_record(record_id)

    # -- gaps --------------------------------------------------------------------------------
    def _render_gaps(self) -> None:
        self.gaps.value = gaps_html(self.model)

    # -- attestation -------------------------------------------------------------------------
    def _render_attest(self) -> None:
        config_path = Path(self.judgement.config_path)
        self.attest_form.show(
            self.model.attestable, config_path=config_path if config_path.is_file() else None
        )

    def submit_attestation(self) -> None:
        """Hand the attestation in the form to the ``on_attest`` callback, then refresh."""
        if self.read_only:
            raise AimsError(ERROR_READ_ONLY)
        self.attest_form.submit()

    def _draft_assessment(self) -> Any:
        """The system judged with the working copy, when it differs from the approved one."""
        state = getattr(self.judgement, "configuration", None)
        if state is None or state.draft or not state.unapproved_changes:
            return None
        try:
            draft = judge(
                config=self._judge_config(),
                systems=[self.system],
                store=self.judgement.store,
                draft=True,
            )
        except AimsError:
            return None  # the working copy names the system no more: the changes list says so
        return draft.assessment.systems.get(self.system)

    # -- refreshing --------------------------------------------------------------------------
    def _judge_config(self) -> str | os.PathLike[str] | AimsConfig:
        if self._config_source is not None:
            return self._config_source
        path = Path(self.judgement.config_path)
        return path if path.is_file() else self.judgement.config

    def refresh(self) -> None:
        """Judge the system again (re-reading ``aims.yaml`` and the evidence) and re-render."""
        self.judgement = judge(
            config=self._judge_config(),
            systems=[self.system],
            model_versions={self.system: self.model_version} if self.model_version else None,
            store=self.judgement.store,
        )
        self.model = build_model(self.judgement, self.system)
        self.record_detail.value = ""
        self._render()
        self.message.value = refreshed_html(self.model)


def dashboard(
    system: str | None = None,
    *,
    config: str | os.PathLike[str] | AimsConfig | None = None,
    model_version: str | None = None,
    judgement: Judgement | None = None,
    read_only: bool = False,
    on_attest: AttestCallback | None = None,
) -> Dashboard:
    """The dashboard of ``system`` (default: the only in-scope one).

    The attestation form shows only with an ``on_attest`` callback and not ``read_only``
    (``aims_mlops.dashboard`` wires it to capture and resolves the session's system and config).

    ``judgement`` reuses an existing judgement (nothing is judged); otherwise the system is
    judged now from ``config`` (default: ``$AIMS_CONFIG`` / ``./aims.yaml``), pinned to
    ``model_version`` when given.
    """
    if judgement is not None:
        chosen = choose_system(system, config=None, assessed=judgement.assessment.systems)
        return Dashboard(
            judgement=judgement,
            system=chosen,
            model_version=model_version,
            config=config,
            read_only=read_only,
            on_attest=on_attest,
        )
    source = config
    loaded = source if isinstance(source, AimsConfig) else load_config(source)
    chosen = choose_system(system, config=loaded)
    result = judge(
        config=source,
        systems=[chosen],
        model_versions={chosen: model_version} if model_version else None,
    )
    return Dashboard(
        judgement=result,
        system=chosen,
        model_version=model_version,
        config=source,
        read_only=read_only,
        on_attest=on_attest,
    )
