"""The read side of a store that does not exist yet: it finds nothing and creates nothing."""

from __future__ import annotations

from pathlib import Path

from aims_mlops.store import AbsentStore, EvidenceStore, make_store, store_exists


def test_store_exists_by_uri(tmp_path: Path) -> None:
    db = tmp_path / "mlflow.db"
    assert not store_exists(f"sqlite:///{db}")
    db.write_bytes(b"")
    assert store_exists(f"sqlite:///{db}")
    assert not store_exists(str(tmp_path / "mlruns"))
    assert not store_exists(f"file://{tmp_path / 'mlruns'}")
    (tmp_path / "mlruns").mkdir()
    assert store_exists(f"file://{tmp_path / 'mlruns'}")
    assert store_exists("http://127.0.0.1:5000")  # a server is asked, not probed here
    assert store_exists("databricks") and store_exists("databricks://profile")  # not a folder


def test_reading_an_absent_store_finds_nothing_and_creates_nothing(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    store = make_store(None, tracking_uri=uri, reading=True)
    assert isinstance(store, AbsentStore)
    assert store.note == f"no evidence store yet at {uri}"
    assert store.read().records == () and store.read_for(["s"], current_models={}).records == ()
    assert dict(store.current_models({"s": {}})) == {"s": None}
    assert store.identity() is None and store.client is None
    assert store.verify().checked == 0 and store.verify_ledger().head is None
    assert list(tmp_path.iterdir()) == []
    # for writing (the default), the store is the real one
    assert type(make_store(None, tracking_uri=uri)) is EvidenceStore
