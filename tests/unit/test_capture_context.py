"""The explicit capture path: a frozen context in, records out; the catalog names the controls."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from aims_mlops import AimsWarning, CaptureError
from aims_mlops.capture import (
    WARNING_CAPTURE_FAILED,
    WARNING_SIGNING_KEY_UNUSABLE,
    CaptureContext,
    CaptureTask,
    Session,
    capture,
    capture_many,
    emit,
    emit_many,
    error_record,
    get_session,
    reset_session,
)
from aims_mlops.catalog import load_catalog
from aims_mlops.config import example_config_text, parse_config
from aims_mlops.evidence import (
    EvidenceRecord,
    SigningKeyError,
    Subject,
    generate_keys,
    new_record,
    new_signing_key,
)

KEY = new_signing_key()


@dataclasses.dataclass
class Written:
    spooled: bool = False
    reason: str | None = None


class FakeStore:
    """Just enough of an EvidenceStore: remembers what was written, or refuses."""

    def __init__(self, *, refuse: Exception | None = None) -> None:
        self.refuse = refuse
        self.written: list[tuple[EvidenceRecord, str | None, Mapping[str, bytes] | None]] = []
        self.spooled: list[EvidenceRecord] = []
        self.spool_dir = Path("/nonexistent/spool")

    def write(
        self,
        record: EvidenceRecord,
        *,
        run_id: str | None = None,
        artifacts: Mapping[str, bytes] | None = None,
    ) -> Written:
        if self.refuse is not None:
            raise self.refuse
        self.written.append((record, run_id, artifacts))
        return Written()

    def stamp(self, record: EvidenceRecord) -> EvidenceRecord:
        return record  # a store without an id: records name none

    def write_many(self, records: list[EvidenceRecord], *, run_id: str) -> list[Written]:
        return [self.write(record, run_id=run_id) for record in records]

    def spool(self, record: EvidenceRecord, **kwargs: Any) -> str:
        self.spooled.append(record)
        return "the spool"


def context(store: FakeStore, **kwargs: Any) -> CaptureContext:
    return CaptureContext(store=store, system="credit", **kwargs)  # type: ignore[arg-type]


def fairness_record(**kwargs: Any) -> EvidenceRecord:
    return new_record(
        kind="fairness",
        system="credit",
        outcome="pass",
        collector="test",
        subject=Subject(run_id="run-1"),
        metrics={"demographic_parity_difference": 0.01},
        controls=load_catalog().controls_for_kind("fairness"),
        **kwargs,
    )


def failing() -> EvidenceRecord:
    raise ValueError("boom")


def test_context_and_session_are_frozen() -> None:
    ctx = context(FakeStore())
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.strict = True  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Session(system="a").system = "b"  # type: ignore[misc]
    assert ctx.with_strict(True).strict and not ctx.strict
    assert ctx.with_system("other").system == "other" and ctx.system == "credit"


def test_from_config_takes_the_configs_capture_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AIMS_STRICT", raising=False)
    key = generate_keys(tmp_path)
    monkeypatch.setenv("AIMS_SIGNING_KEY", str(tmp_path / "aims-signing.key"))
    config = parse_config(example_config_text())
    store = FakeStore()
    ctx = CaptureContext.from_config(config, store=store, system="x")  # type: ignore[arg-type]
    assert ctx.store is store and ctx.system == "x" and ctx.config is config
    assert ctx.strict is config.capture.strict
    assert ctx.include_values is config.capture.include_values
    assert ctx.signing_key is not None and ctx.signing_key.key_id == key.key_id
    assert ctx.config_digest is not None
    monkeypatch.setenv("AIMS_STRICT", "1")
    assert CaptureContext.from_config(config, store=store).strict  # type: ignore[arg-type]
    override = CaptureContext.from_config(config, store=store, strict=False, include_values=True)  # type: ignore[arg-type]
    assert not override.strict and override.include_values


def test_session_context_carries_the_binding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIMS_SIGNING_KEY", raising=False)
    session = Session(system="credit", strict=True, include_values=True, tracking_uri="x://y")
    ctx = session.context()
    assert (ctx.system, ctx.strict, ctx.include_values, ctx.signing_key) == (
        "credit",
        True,
        True,
        None,
    )
    assert ctx.store is session.store  # built once, shared
    assert session.context(system="other", strict=False).system == "other"


def test_a_bad_signing_key_file_never_breaks_a_run_unless_strict(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.key"
    monkeypatch.setenv("AIMS_SIGNING_KEY", str(missing))
    session = Session(system="credit", tracking_uri="x://y")
    with pytest.warns(AimsWarning) as caught:
        ctx = session.context()
    assert ctx.signing_key is None
    with pytest.raises(SigningKeyError):  # a person's act (attest, an incident) says so at once
        session.context(key_required=True)
    with pytest.raises(SigningKeyError) as info:
        session.context(strict=True)
    assert str(caught[0].message) == WARNING_SIGNING_KEY_UNUSABLE.format(error=info.value)
    with pytest.raises(SigningKeyError):  # an explicit context (CLI, gate) says so at once
        CaptureContext.from_config(parse_config(example_config_text()), store=FakeStore())  # type: ignore[arg-type]


def test_emit_writes_to_the_contexts_store_and_signs_with_its_key() -> None:
    store = FakeStore()
    stored = emit(context(store, signing_key=KEY), fairness_record(), run_id="run-1")
    assert stored.signature is not None and stored.key_id == KEY.key_id
    stored.verify(key=KEY.public_key)
    [(record, run_id, _)] = store.written
    assert record == stored and run_id == "run-1"
    unsigned = emit(context(store), fairness_record())
    assert unsigned.signature is None


def test_emit_keeps_a_refused_record_in_the_spool_unless_strict() -> None:
    store = FakeStore(refuse=RuntimeError("disk full"))
    with pytest.warns(AimsWarning, match="disk full"):
        record = emit(context(store), fairness_record())
    assert store.spooled == [record]
    with pytest.raises(CaptureError, match="disk full"):
        emit(context(store, strict=True), fairness_record())
    with pytest.raises(CaptureError, match="disk full"):
        emit_many(context(store, strict=True), [fairness_record()], run_id="run-1")


def test_a_failed_collector_becomes_an_error_record_with_the_catalogs_controls() -> None:
    store = FakeStore()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record = capture(context(store), "monitoring", produce=failing, run_id="run-1")
    assert record.kind == "error" and record.outcome == "error"
    assert record.system == "credit"
    assert record.details["collector_kind"] == "monitoring"
    assert record.controls == tuple(sorted(load_catalog().controls_for_kind("monitoring")))
    assert record.controls  # the catalog names some
    [warning] = [w for w in caught if issubclass(w.category, AimsWarning)]
    assert str(warning.message) == WARNING_CAPTURE_FAILED.format(
        kind="monitoring", error="ValueError: boom", record_id=record.id
    )
    assert [r for r, _, _ in store.written] == [record]
    with pytest.raises(CaptureError, match="boom"):
        capture(context(store, strict=True), "monitoring", produce=failing)


def test_error_record_controls_follow_the_catalog_for_every_kind() -> None:
    catalog = load_catalog()
    for kind in catalog.rule_kinds:
        record = error_record(kind, ValueError("x"), system="credit")
        assert set(record.controls) == set(catalog.controls_for_kind(kind)), kind


def test_capture_adds_artifacts_only_to_a_record_of_its_kind() -> None:
    store = FakeStore()
    files = {"table.csv": b"a\n"}
    capture(context(store), "fairness", produce=fairness_record, artifacts=lambda r: files)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AimsWarning)
        capture(context(store), "fairness", produce=failing, artifacts=lambda r: files)
    assert [artifacts for _, _, artifacts in store.written] == [files, None]


def test_capture_many_fails_each_collector_on_its_own() -> None:
    store = FakeStore()
    tasks = [
        CaptureTask(kind="fairness", produce=fairness_record),
        CaptureTask(kind="lineage.code", produce=failing),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AimsWarning)
        records = capture_many(context(store), tasks, run_id="run-1")
    assert [r.kind for r in records] == ["fairness", "error"]
    assert records[1].controls == tuple(sorted(load_catalog().controls_for_kind("lineage.code")))
    assert [run_id for _, run_id, _ in store.written] == ["run-1", "run-1"]
    assert capture_many(context(store), [], run_id="run-1") == []


def test_an_explicit_context_leaves_the_session_alone() -> None:
    reset_session()
    session = get_session()
    capture(context(FakeStore(), strict=False), "fairness", produce=fairness_record)
    assert get_session() is session

