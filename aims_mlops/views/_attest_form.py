"""The attestation form: a widget that asks who attests to which control with which document,
and hands the answer to the caller's ``on_attest`` callback (views never record: the caller wires
it to :func:`aims_mlops.capture.attest`, as ``aims_mlops.dashboard`` does)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from aims_mlops._errors import AimsError
from aims_mlops.presentation import BAD, GOOD
from aims_mlops.views._widgets import esc

if TYPE_CHECKING:
    from aims_mlops.evidence import EvidenceRecord

ERROR_ATTEST_INCOMPLETE = "fill in who attests (by) and the document before submitting"
MESSAGE_ATTESTED = "recorded attestation {record_id} for {control} by {by}; dashboard refreshed"


@dataclass(frozen=True, kw_only=True)
class AttestationRequest:
    """What the attestation form asks to record; the form's caller records it."""

    control: str
    by: str
    document: str
    valid_days: int | None
    statement: str | None
    #: the system attested for; None: the organization
    system: str | None
    #: the ``aims.yaml`` the dashboard judged (None when it was not read from a file)
    config_path: Path | None


#: Records an :class:`AttestationRequest` and returns the record (raises ``AimsError`` when
#: refused). The views never write: whoever builds a dashboard wires this to capture
#: (``aims_mlops.dashboard`` wires :func:`aims_mlops.capture.attest`).
AttestCallback = Callable[[AttestationRequest], "EvidenceRecord"]


class AttestationForm:
    """The form (``.box``, a ``VBox``): pick a control, name who attests and the document;
    :meth:`submit` hands it to ``on_attest``, then calls ``on_recorded`` (the dashboard
    refreshes)."""

    def __init__(
        self,
        *,
        on_attest: AttestCallback | None,
        on_recorded: Callable[[], None],
        system: str,
    ) -> None:
        self._on_attest = on_attest
        self._on_recorded = on_recorded
        self._system = system
        self._attestable: Sequence[Any] = ()
        self._config_path: Path | None = None
        self.control = widgets.Dropdown(description="control", layout={"width": "95%"})
        self.document_hint = widgets.HTML()
        self.by = widgets.Text(description="by", placeholder="name or role of who attests")
        self.document = widgets.Text(
            description="document",
            placeholder="URL or path of the document",
            layout={"width": "95%"},
        )
        self.valid_days = widgets.BoundedIntText(
            value=365, min=0, max=3650, description="valid days", tooltip="0: no expiry"
        )
        self.statement = widgets.Textarea(
            description="statement", placeholder="optional", layout={"width": "95%"}
        )
        self.submit_button = widgets.Button(description="Attest", button_style="primary")
        self.message = widgets.HTML()
        self.control.observe(lambda _: self._show_document_hint(), names="value")
        self.submit_button.on_click(lambda _: self.submit())
        self.box = widgets.VBox(
            [
                self.control,
                self.document_hint,
                self.by,
                self.document,
                self.valid_days,
                self.statement,
                self.submit_button,
                self.message,
            ]
        )

    def show(self, attestable: Sequence[Any], *, config_path: Path | None) -> None:
        """Offer ``attestable`` (the view model's entries an attestation serves)."""
        self._attestable, self._config_path = attestable, config_path
        options = [(a.label, a.id) for a in attestable]
        current = self.control.value
        self.control.options = options
        if current in dict(options).values():
            self.control.value = current
        self._show_document_hint()

    def _show_document_hint(self) -> None:
        chosen = next((a for a in self._attestable if a.id == self.control.value), None)
        self.document_hint.value = (
            f"<small>document expected: <i>{esc(chosen.document)}</i></small>" if chosen else ""
        )

    def submit(self) -> EvidenceRecord | None:
        """Hand the filled-in form to ``on_attest``; the record, or None (the message says
        what is missing or why it was refused)."""
        control = self.control.value
        by = self.by.value.strip()
        document = self.document.value.strip()
        if self._on_attest is None or not control or not by or not document:
            self.message.value = f'<span style="color:{BAD}">{ERROR_ATTEST_INCOMPLETE}</span>'
            return None
        chosen = next(a for a in self._attestable if a.id == control)
        request = AttestationRequest(
            control=str(control),
            by=by,
            document=document,
            valid_days=int(self.valid_days.value) or None,
            statement=self.statement.value.strip() or None,
            system=None if chosen.scope == "organization" else self._system,
            config_path=self._config_path,
        )
        try:
            record = self._on_attest(request)
        except AimsError as exc:
            self.message.value = f'<span style="color:{BAD}">{esc(exc)}</span>'
            return None
        self._on_recorded()
        self.message.value = (
            f'<span style="color:{GOOD}">'
            + esc(MESSAGE_ATTESTED.format(record_id=record.id, control=control, by=by))
            + "</span>"
        )
        return record
