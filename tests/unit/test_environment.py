"""Environment, compute and git facts (fast: plain subprocesses and the standard library)."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aims_mlops.collectors import _environment as env


def _git(cwd: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=30
    )
    return completed.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "feature/x")
    _git(root, "config", "user.email", "dev@example.test")
    _git(root, "config", "user.name", "Dev")
    (root / "train.py").write_text("print('train')\n")
    (root / "prep.py").write_text("print('prep')\n")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "first")
    return root


# -- credentials -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:s3cret@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("https://ghp_token@github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("ssh://git:pw@host.example:2222/repo.git", "ssh://host.example:2222/repo.git"),
        ("https://github.com/org/repo.git", "https://github.com/org/repo.git"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("/srv/git/repo.git", "/srv/git/repo.git"),
    ],
)
def test_strip_credentials(url: str, expected: str) -> None:
    assert env.strip_credentials(url) == expected


# -- git ---------------------------------------------------------------------------------------
def test_git_facts_clean_repository(repo: Path) -> None:
    _git(repo, "remote", "add", "origin", "https://alice:hunter2@git.example.test/ml/credit.git")
    facts = env.git_facts(repo / "train.py")
    assert facts is not None
    assert facts["commit"] == _git(repo, "rev-parse", "HEAD")
    assert facts["branch"] == "feature/x"
    assert facts["remote_url"] == "https://git.example.test/ml/credit.git"
    assert "hunter2" not in json.dumps(facts)
    assert facts["dirty"] is False
    assert facts["changed_files"] == 0
    assert facts["untracked_files"] == 0
    assert Path(facts["repository_root"]).resolve() == repo.resolve()


def test_git_facts_dirty_repository_counts_changes(repo: Path) -> None:
    (repo / "train.py").write_text("print('changed')\n")
    (repo / "prep.py").unlink()
    (repo / "notes.txt").write_text("new\n")
    facts = env.git_facts(repo)
    assert facts is not None
    assert facts["dirty"] is True
    assert facts["changed_files"] == 2
    assert facts["untracked_files"] == 1
    assert facts["remote_url"] is None


def test_git_facts_detached_head_and_subdirectory(repo: Path) -> None:
    commit = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-q", "--detach")
    sub = repo / "pkg"
    sub.mkdir()
    facts = env.git_facts(sub)
    assert facts is not None
    assert facts["commit"] == commit
    assert facts["branch"] is None


def test_git_facts_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    plain = tmp_path / "plain"
    plain.mkdir()
    assert env.git_facts(plain) is None
    assert env.git_facts(tmp_path / "does-not-exist") is None


def test_git_facts_without_git_on_path(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo))  # no git there
    assert env.git_facts(repo) is None


def test_git_facts_timeout_yields_none_quickly(repo: Path) -> None:
    started = time.monotonic()
    assert env.git_facts(repo, timeout=1e-6) is None
    assert time.monotonic() - started < 5


# -- environment -------------------------------------------------------------------------------
def test_distribution_list_hash_matches_pip_list() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    pip_versions = {
        re.sub(r"[-_.]+", "-", item["name"]).lower(): item["version"]
        for item in json.loads(listed.stdout)
    }
    import hashlib

    text = "".join(f"{name}=={pip_versions[name]}\n" for name in sorted(pip_versions))
    expected = hashlib.sha256(text.encode("utf-8")).hexdigest()
    facts = env.environment_facts()
    assert facts["distributions_count"] == len(pip_versions)
    assert facts["distributions_sha256"] == expected
    for name in ("mlflow", "scikit-learn", "pandas", "numpy", "great-expectations", "fairlearn"):
        assert facts["packages"][name] == pip_versions[name]
    for name in ("xgboost", "lightgbm", "torch", "tensorflow"):
        assert (name in facts["packages"]) == (name in pip_versions)


def test_environment_facts_python_and_cache() -> None:
    facts = env.environment_facts()
    assert facts["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert env.environment_facts() is facts  # computed once per process


def test_distributions_sha256_is_order_independent() -> None:
    forward = env.distributions_sha256({"a": "1", "b": "2"})
    assert forward == env.distributions_sha256({"b": "2", "a": "1"})
    assert forward != env.distributions_sha256({"a": "1", "b": "3"})


def test_normalize_name() -> None:
    assert env.normalize_name("Great_Expectations") == "great-expectations"
    assert env.normalize_name("scikit.learn") == "scikit-learn"


# -- compute -----------------------------------------------------------------------------------
def test_compute_facts_match_the_machine() -> None:
    facts = env.compute_facts()
    assert facts["cpu_count"] == os.cpu_count()
    assert facts["hostname"] == os.uname().nodename
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        kib = int(re.search(r"MemTotal:\s+(\d+) kB", meminfo.read_text()).group(1))
        assert facts["memory_total_bytes"] == pytest.approx(kib * 1024, rel=0.01)
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    if match:
        assert facts["cpu_model"] == match.group(1).strip()
    assert env.compute_facts() is facts


def _fake_nvidia_smi(directory: Path, body: str) -> None:
    script = directory / "nvidia-smi"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_gpu_facts_without_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert env.gpu_facts() == []


def test_gpu_facts_parses_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_nvidia_smi(
        tmp_path,
        "echo 'NVIDIA A100-SXM4-40GB, 40960, 550.54.15'\necho 'Tesla T4, 15360, 550.54.15'",
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert env.gpu_facts() == [
        {"name": "NVIDIA A100-SXM4-40GB", "memory_total_mib": 40960, "driver_version": "550.54.15"},
        {"name": "Tesla T4", "memory_total_mib": 15360, "driver_version": "550.54.15"},
    ]


def test_gpu_facts_hanging_nvidia_smi_times_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_nvidia_smi(tmp_path, "exec sleep 30")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    started = time.monotonic()
    assert env.gpu_facts(timeout=0.5) is None
    assert time.monotonic() - started < 5


def test_gpu_facts_failing_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_nvidia_smi(tmp_path, "echo 'NVIDIA-SMI has failed' >&2; exit 9")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert env.gpu_facts() is None


def test_distribution_versions_read_from_folder_names_equal_importlib_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.metadata

    # an .egg-info folder (as `pip install -e` leaves in a source tree) in the working directory
    egg = tmp_path / "Some_Project.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: Some_Project\nVersion: 1.2.3\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", ["", *sys.path])
    expected: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata is not None else None
        if name:
            expected.setdefault(env.normalize_name(name), dist.version)
    found = env.distribution_versions()
    assert found == expected
    assert found["some-project"] == "1.2.3"
    assert found["pyyaml"] == importlib.metadata.version("PyYAML")
