"""Malformed CLI input, fed through the real ``aims`` CLI over a real (empty) MLflow store: never a
traceback, always exit 2 (a usage or user error) or 1 (a failed check) with the error on stderr.

The records' own fuzz test is elsewhere; this one is about what a person types (issue 12)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from aims_mlops.cli import cli
from aims_mlops.config import example_config_text

pytestmark = pytest.mark.slow

SYSTEM = "income-classifier"


def _files(folder: Path) -> dict[str, Path]:
    """Hostile files, each a path in ``folder``."""
    made: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        made[name] = folder / name
        made[name].write_bytes(data)

    put("garbage.yaml", os.urandom(4096))
    put("nul.yaml", b"version: 1\x00\x00\x00\norganization: {}\n")
    put("latin1.yaml", "organization: {name: Soci\xe9t\xe9}\n".encode("latin-1"))
    put("broken.yaml", b"version: 1\norganization: {name: [unclosed\n")
    put("tabs.yaml", b"version: 1\n\torganization: x\n")
    put("list.yaml", b"- just\n- a list\n")
    put("empty.yaml", b"")
    put("two-docs.yaml", b"version: 1\n---\nversion: 2\n")
    put("bomb.yaml", _alias_bomb().encode())
    put("deep.yaml", b"version: " + b"[" * 3000 + b"]" * 3000 + b"\n")
    put("huge.yaml", b"# " + b"x" * (2**20 + 10) + b"\n")
    put(
        "bad-expectation.yaml",
        example_config_text().replace("min_value: 17", "min_value: zzz").encode(),
    )
    put("not-a-zip.zip", b"PK\x03\x04 not really a zip")
    put("random.zip", os.urandom(2048))
    evil = folder / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("manifest.json", "{}")
        archive.writestr("../../etc/cron.d/x", "* * * * * root true")
    made["evil.zip"] = evil
    for name, manifest in (  # issue 21: deep and oversized JSON inside a pack
        ("deep-manifest.zip", b"[" * 200_000 + b"]" * 200_000),
        ("deep-member.zip", None),
    ):
        pack = folder / name
        with zipfile.ZipFile(pack, "w", zipfile.ZIP_DEFLATED) as archive:
            member = b'{"id": "r1", "details": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
            body = {"format": "aims-audit-pack/1", "members": {
                "records/r1.json": {"sha256": hashlib.sha256(member).hexdigest(),
                                    "size": len(member)}}}  # fmt: skip
            archive.writestr("manifest.json", manifest or json.dumps(body).encode())
            archive.writestr("records/r1.json", member)
        made[name] = pack
    folder_as_file = folder / "a-folder.yaml"
    folder_as_file.mkdir()
    made["a-folder.yaml"] = folder_as_file
    return made


def _alias_bomb() -> str:
    lines = ['  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 8) + "]" for i in range(1, 9)]
    return "version: 1\nsystems:\n" + "\n".join(lines) + "\n"


def _cases(f: dict[str, Path], tmp: Path) -> list[list[str]]:
    missing = str(tmp / "does-not-exist.yaml")
    cfg = ["--config", str(tmp / "aims.yaml")]
    return [
        # bad options and arguments
        ["--bogus"],
        ["no-such-command"],
        ["summary"],
        ["soa", "--format", "pdf"],
        ["risks", "--format"],
        ["readiness", "--expiring-days", "-5"],
        ["readiness", "--expiring-days", "many"],
        ["audit-plan", "--sample-size", "-1"],
        ["audit-plan", "--seed", "1e999"],
        ["attest", "X", "--by", "Dana"],
        ["attest", "Z.99", "--org", "--by", "Dana", "--document", "x"],
        ["attest", SYSTEM, "--org", "--by", "", "--document", "x", *cfg],
        ["attest", "--valid-days", "0", "X", "--org", "--by", "D", "--document", "x"],
        ["webhook", "--port", "70000"],
        ["webhook", "--port", "http"],
        ["review-pack", "--since", "last tuesday", *cfg],
        ["audit-pack", *cfg, "-o", str(tmp / "p.zip")],  # neither SYSTEM nor --all
        # missing, unreadable, folder and hostile configuration files
        ["validate", "--config", missing],
        ["status", "--config", missing],
        ["validate", "--config", str(f["a-folder.yaml"])],
        *(
            ["validate", "--config", str(f[name])]
            for name in (
                "garbage.yaml",
                "nul.yaml",
                "latin1.yaml",
                "broken.yaml",
                "tabs.yaml",
                "list.yaml",
                "empty.yaml",
                "two-docs.yaml",
                "bomb.yaml",
                "deep.yaml",
                "huge.yaml",
            )
        ),
        ["summary", SYSTEM, "--config", str(f["garbage.yaml"])],
        ["soa", "--config", str(f["bomb.yaml"])],
        # unknown ids and versions (judged against the empty store)
        ["summary", "no-such-system", *cfg],
        ["report", "no-such-system", *cfg, "-o", str(tmp / "r.html")],
        ["summary", SYSTEM, "--model-version", "999", *cfg],
        ["annex-iv", SYSTEM, "--model-version", "../../etc", *cfg],
        ["catalog", "--framework", "no-such-framework"],
        # hostile output paths and packs
        ["soa", *cfg, "-o", str(tmp / "missing" / "soa.csv")],
        ["soa", *cfg, "--format", "xlsx"],
        ["export", *cfg, "-o", str(f["garbage.yaml"] / "x.json")],
        ["report", SYSTEM, *cfg, "-o", str(tmp)],
        ["verify", str(tmp / "no-pack.zip")],
        ["verify", str(f["not-a-zip.zip"])],
        ["verify", str(f["random.zip"])],
        ["verify", str(f["evil.zip"])],
        ["verify", str(f["deep-manifest.zip"])],
        ["verify", str(f["deep-member.zip"])],
        ["verify", str(f["garbage.yaml"])],
    ]


@pytest.fixture
def workspace(isolated_mlflow: str, tmp_path: Path) -> Path:
    (tmp_path / "aims.yaml").write_text(example_config_text(), encoding="utf-8")
    return tmp_path


def _is_clean(code: int, err: str) -> bool:
    """Exit 2 with an ``error:`` line (click's usage errors add their usage hint), or exit 1
    (a check that failed: ``verify``) naming what failed; never a traceback."""
    if "Traceback" in err:
        return False
    lines = [line for line in err.splitlines() if line.strip()]
    if code == 2:
        return len([line for line in lines if line.lower().startswith("error")]) == 1
    return code == 1 and len(lines) >= 1


def test_forty_malformed_inputs_give_no_traceback(workspace: Path) -> None:
    hostile = workspace / "hostile"
    hostile.mkdir()
    cases = _cases(_files(hostile), workspace)
    assert len(cases) >= 40
    bad = []
    for args in cases:
        result = CliRunner().invoke(cli, args)
        uncaught = result.exception is not None and not isinstance(result.exception, SystemExit)
        if uncaught or not _is_clean(result.exit_code, result.stderr):
            bad.append((args, result.exit_code, result.stderr[-400:], repr(result.exception)))
    assert bad == [], "\n".join(map(repr, bad))


def test_through_a_real_process(workspace: Path) -> None:
    hostile = workspace / "hostile"
    hostile.mkdir()
    files = _files(hostile)
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    runs = [
        (["validate", "--config", str(files["bad-expectation.yaml"])], 2),
        (["verify", str(files["evil.zip"])], 1),
        (["validate", "--config", str(files["garbage.yaml"])], 2),
    ]
    stderr: dict[str, str] = {}
    for args, expected in runs:
        done = subprocess.run(
            [sys.executable, "-m", "aims_mlops.cli", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=workspace,
        )
        assert done.returncode == expected, (args, done.stderr)
        assert "Traceback" not in done.stderr
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, lines
        stderr[args[-1]] = done.stderr
    # the one line names the file, the line and the field (the first run's, not a second run)
    bad = files["bad-expectation.yaml"]
    line = next(
        n for n, text in enumerate(bad.read_text().splitlines(), 1) if "min_value: zzz" in text
    )
    assert stderr[str(bad)].startswith(
        f"error: {bad}:{line}: systems[0].data_quality.expectations[5].kwargs.min_value: "
    )


def test_expectation_kwargs_are_checked_field_by_field() -> None:
    from aims_mlops.collectors._data_quality import MSG_BAD_REGEX, expectation_problems
    from aims_mlops.config import parse_config

    config = parse_config(example_config_text())
    declared = config.system(SYSTEM).data_quality
    assert declared is not None and expectation_problems(declared.expectations) == []

    class Spec:
        def __init__(self, type: str, **kwargs: object) -> None:
            self.type, self.kwargs = type, kwargs

    found = expectation_problems(
        [
            Spec("expect_column_values_to_be_between", column="age", min_value="zzz"),
            Spec("expect_column_values_to_match_regex", column="name", regex="[unclosed"),
            Spec("expect_column_values_to_match_regex_list", column="name", regex_list=["a", "("]),
            Spec("expect_column_values_to_be_between", column="age", min_value=1, bogus=2),
            Spec("expect_column_values_to_be_bteween", column="age"),
        ]
    )
    places = [loc for loc, _ in found]
    assert places == [
        (0, "kwargs", "min_value"),
        (1, "kwargs", "regex"),
        (2, "kwargs", "regex_list", "1"),
        (3, "kwargs", "bogus"),
        (4, "type"),
    ]
    assert found[1][1].startswith(MSG_BAD_REGEX.split("{")[0])
