"""The notebooks in a real browser: Voilà runs them, headless Chromium shows the live widgets.

Voilà serves ``notebooks/`` on 127.0.0.1 (a free port); Debian's Chromium (installed by
``scripts/install-browser.sh``), driven by Playwright, opens the quick start (Voilà executes it in a
real kernel) and then the compliance review of the evidence the quick start left. Every request
that leaves 127.0.0.1 is refused, so the pages must render offline; screenshots are saved under
``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
ARTIFACTS = REPO_ROOT / "test-artifacts"
#: scripts/voila.json: the websocket ping timeout no longer than the ping interval (no warning)
VOILA_CONFIG_DIR = REPO_ROOT / "scripts"
#: Debian's wrapper script (/usr/bin/chromium) prints shell errors on some machines (its /dev/shm
#: check); the browser binary it starts is used directly, with the flag that check would add.
CHROMIUM_BINARY = Path("/usr/lib/chromium/chromium")
CHROMIUM = CHROMIUM_BINARY if CHROMIUM_BINARY.exists() else Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Voilà executes the whole notebook before the last widget appears (training included).
RENDER_TIMEOUT_MS = 240_000
LEAKY_ENV = ("AIMS_CONFIG", "AIMS_SYSTEM", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME")
#: Stylesheets Voilà's templates link from a CDN (Font Awesome icons). Refused here like every
#: other outside request; the pages must render without them. No script may come from outside.
KNOWN_CDN_STYLESHEETS = re.compile(
    r"^https://cdn\.jsdelivr\.net/npm/(@fortawesome/fontawesome-free|font-awesome)@"
)


def _need_browser() -> Any:
    """Playwright's sync API, or a skip (local runs without a browser) / failure (in CI)."""
    in_ci = bool(os.environ.get("CI"))
    if not CHROMIUM.exists():
        if in_ci:
            pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/install-browser.sh`")
        pytest.skip(f"{CHROMIUM} is missing (install it with `bash scripts/install-browser.sh`)")
    try:
        from playwright import sync_api
    except ImportError:
        if in_ci:
            raise
        pytest.skip("playwright is not installed (pip install playwright; no `playwright install`)")
    return sync_api


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class VoilaServer:
    """``voila notebooks/`` on 127.0.0.1, in its own process group, stopped by the fixture."""

    def __init__(self, *, workdir: Path, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {k: v for k, v in os.environ.items() if k not in LEAKY_ENV}
        env.update(
            AIMS_NOTEBOOK_WORKDIR=str(workdir),
            MLFLOW_DISABLE_TELEMETRY="true",
            DO_NOT_TRACK="true",
        )
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "voila", str(NOTEBOOK_DIR),
                    "--no-browser", "--Voila.ip=127.0.0.1", f"--port={self.port}",
                    "--Voila.port_retries=0", "--show_tracebacks=True",
                    f"--Voila.config_file_paths={VOILA_CONFIG_DIR}",
                ],
                cwd=workdir.parent, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"voila exited:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/voila/api/shutdown", timeout=2):
                    pass
            except urllib.error.HTTPError:
                return  # the server answers (405 for a GET on the shutdown handler)
            except OSError:
                time.sleep(0.3)
                continue
            return
        raise RuntimeError(f"voila did not start in time:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VoilaServer]:
    _need_browser()
    root = tmp_path_factory.mktemp("voila")
    before = sorted(p.name for p in NOTEBOOK_DIR.iterdir())
    server = VoilaServer(workdir=root / "work", log=root / "voila.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copyfile(server.log, ARTIFACTS / "voila.log")
    assert sorted(p.name for p in NOTEBOOK_DIR.iterdir()) == before, "voila wrote into notebooks/"
    assert "websocket_ping_timeout" not in server.log.read_text(), server.log.read_text()


@pytest.fixture(scope="module")
def browser(voila: VoilaServer) -> Iterator[Any]:
    sync_api = _need_browser()
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class OfflinePage:
    """A page whose requests outside 127.0.0.1 are refused and remembered."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1400, "height": 1800})
        self.refused: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _route(self, route: Any) -> None:
        request = route.request
        if request.url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:")):
            route.continue_()
        else:
            self.refused.append((request.resource_type, request.url))
            route.abort()

    def assert_offline(self) -> None:
        unexpected = [
            (kind, url)
            for kind, url in self.refused
            if not (kind == "stylesheet" and KNOWN_CDN_STYLESHEETS.match(url))
        ]
        assert not unexpected, f"the page needed the internet: {unexpected}"

    def close(self) -> None:
        self.context.close()


def _render(browser: Any, voila: VoilaServer, notebook: str) -> OfflinePage:
    offline = OfflinePage(browser)
    offline.page.goto(
        f"{voila.url}/voila/render/{notebook}", wait_until="commit", timeout=RENDER_TIMEOUT_MS
    )
    return offline


def _screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def _wait_for(page: Any, selector: str, voila: VoilaServer) -> Any:
    """The first element matching ``selector`` once it shows (Voilà streams outputs as it runs)."""
    sync_api = _need_browser()
    found = page.locator(selector).first
    try:
        found.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
    except sync_api.TimeoutError as exc:
        _screenshot(page, "failed-render.png")
        raise AssertionError(
            f"nothing matching {selector!r} appeared: {exc}\n--- voila log ---\n"
            f"{voila.log.read_text()[-4000:]}"
        ) from exc
    return found


def test_quickstart_dashboard_renders_offline(browser: Any, voila: VoilaServer) -> None:
    """Voilà runs the quick start; its dashboard shows the score and, live, the control rows."""
    offline = _render(browser, voila, "01_quickstart.ipynb")
    page = offline.page
    try:
        board = _wait_for(page, ".jp-OutputArea-output:has(.widget-tab)", voila)
        board.scroll_into_view_if_needed()
        assert "Applicant income classifier" in board.inner_text()
        score = board.get_by_text(re.compile(r"^\d{1,3}(\.\d)? % \(\d+ of \d+ applicable"))
        assert score.is_visible(), board.inner_text()[:2000]
        assert board.locator(".widget-hprogress").first.is_visible()

        # the Controls tab, then the A.5 section: rows are built by the kernel on demand, so
        # this round trip proves the widget is live (Python callbacks run behind the page)
        board.get_by_role("tab", name="Controls").click()
        board.get_by_text(re.compile(r"^A\.5 Assessing impacts")).click()
        row = board.get_by_text(re.compile(r"A\.5\.4 Assessing AI system impact"))
        row.first.wait_for(state="visible", timeout=60_000)
        text = board.inner_text()
        assert re.search(r"(satisfied|failing|missing|stale)\s*A\.5\.4\b", text), text[:3000]
        assert "A.5.2" in text and "A.5.3" in text
        shot = ARTIFACTS / "quickstart-dashboard.png"
        ARTIFACTS.mkdir(exist_ok=True)
        board.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        offline.assert_offline()
        assert not offline.errors, offline.errors
    finally:
        offline.close()


def test_compliance_review_renders_offline(browser: Any, voila: VoilaServer) -> None:
    """The read-only dashboard of ``scripts/voila.sh``, over the store the quick start filled."""
    offline = _render(browser, voila, "03_compliance_review.ipynb")
    page = offline.page
    try:
        portfolio = _wait_for(page, ".jp-OutputArea-output:has(.widget-box)", voila)
        assert "AI systems in scope" in portfolio.inner_text()
        _wait_for(page, ".jp-OutputArea-output table:has-text('how to close')", voila)
        body = page.locator("body").inner_text()
        assert "Statement of Applicability" in body
        assert "A.10.4" in body and "income-classifier" in body
        assert "Example Lending Ltd" in body
        assert "import " not in body, "code cells are shown: the dashboard is meant read-only"
        # choosing a system in the portfolio opens its dashboard: a live round trip to the kernel
        portfolio.get_by_role("button", name="Applicant income classifier").click()
        board = portfolio.locator(".widget-tab").first
        board.wait_for(state="visible", timeout=60_000)
        assert "Head of Credit Modelling" in portfolio.inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        portfolio.screenshot(path=str(ARTIFACTS / "compliance-review-portfolio.png"))
        _screenshot(page, "compliance-review.png")
        offline.assert_offline()
        assert not offline.errors, offline.errors
    finally:
        offline.close()
