"""Every HTML output read in a real browser, at 1280 px and at A4 print width.

A training run on the bundled Adult data fills a store; the system's report and its Annex IV
dossier are written from it, and Voilà serves the compliance review over it. Headless Chromium
(Debian's, driven by Playwright) lays each out at 1280 px on screen and at A4 print width, and
:func:`tests.integration.html_review.review` names what a reader would trip over: content wider
than its box, words broken inside a too narrow column, Python's spellings of values (``True``,
``False``, ``None``, ``dtype``, literal backticks) and percentages not written ``25.0 %``.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TrainedStore
from tests.integration.html_review import review_at_widths
from tests.integration.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    VoilaServer,
    _need_browser,
    _render,
    _wait_for,
)

pytestmark = pytest.mark.slow

SYSTEM = "income-classifier"
#: Texts the report quotes from records and the engine (reasons): their wording is made where
#: the record is; the percentage check leaves them out (every other check reads them).
REPORT_RECORD_TEXTS = "ul.reasons, table.dq td:last-child"


@pytest.fixture(scope="module")
def store(request: pytest.FixtureRequest) -> Path:
    """A folder with aims.yaml and a store holding one real training run of the system (the
    session's shared run: documents are written beside it, the store is only read)."""
    _need_browser()  # before the training run: a local run without a browser skips at once
    trained: TrainedStore = request.getfixturevalue("trained_store")
    return trained.folder


@pytest.fixture(scope="module")
def documents(store: Path) -> dict[str, Path]:
    """The report and the Annex IV dossier of the system, written beside the store."""
    from aims_mlops.judgement import judge
    from aims_mlops.reports import annex_iv, render_annex_iv, render_html

    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(store)
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store / 'mlflow.db'}")
        judgement = judge(config=store / "aims.yaml", systems=[SYSTEM])
    report = store.parent / "report.html"
    report.write_text(render_html(judgement, SYSTEM), encoding="utf-8")
    dossier = store.parent / "annex-iv.html"
    dossier.write_text(render_annex_iv(annex_iv(judgement, SYSTEM), "html"), encoding="utf-8")
    return {"report": report, "annex-iv": dossier}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    sync_api = _need_browser()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _until_every_cell_ran(page: Any, *, quiet_seconds: int = 4, timeout: int = 240) -> None:
    """Wait until Voilà has streamed every output: their number unchanged for a few seconds."""
    seen, quiet = -1, 0
    for _ in range(timeout):
        count = page.locator(".jp-OutputArea-output").count()
        quiet = quiet + 1 if count == seen else 0
        if quiet >= quiet_seconds:
            return
        seen = count
        page.wait_for_timeout(1_000)
    raise AssertionError(f"Voilà was still adding outputs after {timeout} s")


def _shots(name: str) -> dict[str, Path]:
    ARTIFACTS.mkdir(exist_ok=True)
    return {where: ARTIFACTS / f"{name}-{where}.png" for where in ("screen", "print")}


@pytest.mark.parametrize("name", ["report", "annex-iv"])
def test_report_and_annex_iv_read_well_on_screen_and_on_paper(
    chromium: Any, documents: dict[str, Path], name: str
) -> None:
    page = chromium.new_page()
    try:
        page.goto(documents[name].as_uri())
        shots = _shots(name)
        problems = review_at_widths(page, shots=shots, record_texts=REPORT_RECORD_TEXTS)
        assert problems == [], "\n".join(problems)
        assert shots["screen"].stat().st_size > 50_000  # a page, not a blank
    finally:
        page.close()


def test_voila_compliance_review_reads_well_on_screen_and_on_paper(
    chromium: Any, store: Path, documents: dict[str, Path], tmp_path: Path
) -> None:
    """The read-only dashboard of ``scripts/voila.sh`` over the same store (the documents are
    written first: the review's own cells record an audit and a review in the store)."""
    server = VoilaServer(workdir=store, log=tmp_path / "voila.log")
    try:
        server.wait_ready()
        offline = _render(chromium, server, "03_compliance_review.ipynb")
        try:
            page = offline.page
            _wait_for(page, ".jp-OutputArea-output:has(.widget-box)", server)
            _wait_for(page, ".jp-OutputArea-output table:has-text('how to close')", server)
            _until_every_cell_ran(page)
            problems = review_at_widths(page, shots=_shots("compliance-review"))
            assert problems == [], "\n".join(problems)
        finally:
            offline.close()
    finally:
        server.stop()
    log = (tmp_path / "voila.log").read_text()
    assert "websocket_ping_timeout" not in log, log
    assert os.path.getsize(ARTIFACTS / "compliance-review-screen.png") > 50_000
