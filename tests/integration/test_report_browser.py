"""Reports end to end: a real headless Chromium renders the HTML report (screenshots are kept in
``test-artifacts/``), and ``aims report`` / ``aims readiness`` run over a real MLflow store."""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from aims_mlops.config import example_config_text
from tests.unit.test_reports import SYSTEM, build_judgement, build_records

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SKIP_NO_BROWSER = (
    "no chromium found (run scripts/install-browser.sh); the browser test runs whenever CI is set"
)
BROWSER_TIMEOUT_S = 90


def find_browser() -> str | None:
    # the binary Debian's wrapper (/usr/bin/chromium) starts: the wrapper's /dev/shm check prints
    # shell errors on some machines
    for path in ("/usr/lib/chromium/chromium", "/usr/bin/chromium"):
        if Path(path).is_file():
            return path
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> str:
    found = find_browser()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but no chromium was found: run scripts/install-browser.sh")
        pytest.skip(SKIP_NO_BROWSER)
    return found


def screenshot(browser: str, page: Path, png: Path, profile: Path, *, height: int) -> None:
    png.unlink(missing_ok=True)
    command = [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--hide-scrollbars", f"--user-data-dir={profile}",
        f"--screenshot={png}", f"--window-size=1280,{height}", page.resolve().as_uri(),
    ]  # fmt: skip
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S, check=False
    )
    assert png.is_file(), (
        f"chromium wrote no screenshot (exit {result.returncode}):\n{result.stderr}"
    )


def png_pixels(path: Path, *, max_rows: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first ``max_rows`` unfiltered RGB(A) rows of an 8-bit PNG."""
    import numpy as np

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), (depth, color)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    stride = width * channels
    raw = zlib.decompressobj().decompress(idat, (stride + 1) * max_rows)
    rows: list[bytes] = []
    previous = np.zeros(stride, dtype=np.int64)
    for r in range(min(max_rows, len(raw) // (stride + 1))):
        start = r * (stride + 1)
        kind = raw[start]
        line = np.frombuffer(raw, dtype=np.uint8, count=stride, offset=start + 1).astype(np.int64)
        if kind == 1:  # Sub: running sum per channel
            line = np.cumsum(line.reshape(-1, channels), axis=0).reshape(-1) % 256
        elif kind == 2:  # Up
            line = (line + previous) % 256
        elif kind in (3, 4):  # Average, Paeth: sequential
            out, up = line.tolist(), previous.tolist()
            for i in range(stride):
                left = out[i - channels] if i >= channels else 0
                if kind == 3:
                    out[i] = (out[i] + (left + up[i]) // 2) & 0xFF
                    continue
                corner = up[i - channels] if i >= channels else 0
                p = left + up[i] - corner
                pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up[i] if pb <= pc else corner)
                out[i] = (out[i] + pred) & 0xFF
            line = np.array(out, dtype=np.int64)
        rows.append(line.astype(np.uint8).tobytes())
        previous = line
    return width, height, rows


def colours(rows: list[bytes], channels: int) -> set[tuple[int, ...]]:
    return {tuple(row[i : i + 3]) for row in rows for i in range(0, len(row), channels)}


def hex_rgb(value: str) -> tuple[int, int, int]:
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def test_report_renders_in_a_real_browser(browser: str, tmp_path: Path) -> None:
    from aims_mlops.presentation import BAND_COLOURS
    from aims_mlops.reports import render_html
    from aims_mlops.reports._charts import BAR_BELOW_FILL, BAR_FILL

    ARTIFACTS.mkdir(exist_ok=True)
    html = render_html(build_judgement(), SYSTEM)
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    (ARTIFACTS / "report.html").write_text(html, encoding="utf-8")

    full = ARTIFACTS / "report.png"
    screenshot(browser, page, full, tmp_path / "profile", height=2400)
    width, height, rows = png_pixels(full, max_rows=400)
    assert (width, height) == (1280, 2400)
    channels = len(rows[0]) // width
    assert len(colours(rows, channels)) > 50  # text, chips, header: not a blank page
    assert tuple(rows[10][:3]) == hex_rgb("#1f4e79")  # the header's inline CSS applied

    # the charts alone (one page, risk table left out): the SVG heatmap and bars are drawn
    charts = re.sub(
        r'<section id="(system-card|conformity|controls|data-quality|gaps|evidence)">.*?</section>',
        "",
        html,
        flags=re.S,
    )
    charts = re.sub(r'<table class="risks">.*?</table>', "", charts, flags=re.S)
    chart_page = tmp_path / "charts.html"
    chart_page.write_text(charts, encoding="utf-8")
    chart_png = ARTIFACTS / "report-charts.png"
    screenshot(browser, chart_page, chart_png, tmp_path / "profile", height=1400)
    width, _, rows = png_pixels(chart_png, max_rows=1400)
    seen = colours(rows, len(rows[0]) // width)
    for fill in (*BAND_COLOURS.values(), BAR_FILL, BAR_BELOW_FILL):  # every heat band drawn
        assert hex_rgb(fill) in seen, f"chart fill {fill} not rendered"


# ------------------------------------------------------------------------------------------- CLI
@pytest.fixture
def cli_group() -> click.Group:
    from aims_mlops.cli._main import AimsGroup
    from aims_mlops.cli._reports import register

    group = AimsGroup(name="aims")
    register(group)
    return group


@pytest.fixture
def workspace(isolated_mlflow: str, tmp_path: Path) -> tuple[Path, str]:
    """aims.yaml over a real sqlite MLflow store, one training run and its evidence."""
    import mlflow

    from aims_mlops.store import EvidenceStore

    config = tmp_path / "aims.yaml"
    config.write_text(
        example_config_text().replace(
            "registered_model: income-classifier", "registered_model: null"
        )
    )
    mlflow.set_experiment("income-classifier")
    with mlflow.start_run() as run:
        mlflow.log_param("max_depth", 6)
    store = EvidenceStore(tracking_uri=isolated_mlflow)
    for record in build_records(run_id=run.info.run_id, now=datetime.now(UTC)):
        on_run = run.info.run_id if record.subject.run_id else None
        assert not store.write(record, run_id=on_run).spooled
    return config, run.info.run_id


def test_report_command_writes_the_report_and_records_a_system_card(
    workspace: tuple[Path, str], cli_group: click.Group, tmp_path: Path
) -> None:
    from aims_mlops.judgement import judge

    config, run_id = workspace
    before = judge(config=config).assessment.systems[SYSTEM]
    assert before.control("A.6.2.7").status == "missing"
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()  # an output folder must exist: the CLI never creates one silently
    result = CliRunner().invoke(
        cli_group, ["report", SYSTEM, "--config", str(config), "--format", "html", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and 'class="chart heatmap"' in html
    assert f"run</span> <code>{run_id}</code>" in html
    card_id = re.search(r"recorded system_card ([0-9a-f]{32})", result.stdout)
    assert card_id, result.output
    after = judge(config=config).assessment.systems[SYSTEM]
    assert after.control("A.6.2.7").status == "satisfied"
    assert after.control("A.6.2.7").evidence == (card_id.group(1),)

    md = tmp_path / "report.md"
    result = CliRunner().invoke(
        cli_group,
        ["report", SYSTEM, "--config", str(config), "--format", "md", "-o", str(md), "--no-record"],
    )
    assert result.exit_code == 0, result.output
    assert "recorded" not in result.stdout
    assert md.read_text(encoding="utf-8").startswith("# Applicant income classifier")
    assert card_id.group(1) in md.read_text(encoding="utf-8")  # the first card, in the appendix


def test_report_command_errors_are_one_line(
    workspace: tuple[Path, str], cli_group: click.Group, tmp_path: Path
) -> None:
    config, _ = workspace
    result = CliRunner().invoke(
        cli_group,
        ["report", "marketing-propensity", "--config", str(config), "-o", str(tmp_path / "x")],
    )
    assert result.exit_code == 2
    assert "outside the AIMS scope" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "x").exists()


def test_readiness_command(workspace: tuple[Path, str], cli_group: click.Group) -> None:
    config, _ = workspace
    result = CliRunner().invoke(
        cli_group, ["readiness", "--config", str(config), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [g["group"] for g in report["clauses"]] == ["4", "5", "6", "7", "8", "9", "10"]
    assert report["freshness"]["counts"]["stale"] == 1  # monitoring, 40 days old
    assert report["remediation"][0]["priority"] == "failing"
    text = CliRunner().invoke(cli_group, ["readiness", "--config", str(config)])
    assert text.exit_code == 0 and "Remediation (" in text.stdout
