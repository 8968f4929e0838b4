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
        import json, resource, time
        from aims_mlops.reports import verify_pack
        start = time.perf_counter()
        problems = verify_pack({str(bomb_512)!r})
        seconds = time.perf_counter() - start
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"problems": problems, "seconds": seconds, "peak_kib": peak_kib}}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    out = json.loads(result.stdout)
    member = PROBLEM_MEMBER_TOO_LARGE.format(member="reports/bomb.html", limit=MAX_MEMBER_BYTES)
    assert member in out["problems"]
    assert out["seconds"] < 5
    assert out["peak_kib"] < 200 * 1024  # the interpreter plus a few chunks, not 512 MiB


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
    assert time.perf_counter() - start < 5


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
