"""Facts about where a run happened: software environment, compute resources, code version.

Environment and compute facts do not change within a process, so they are computed once and
cached. Git facts are read per call (a commit can happen between two runs) with short timeouts:
a slow or missing ``git`` yields ``None``, never an exception or a hang.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: Seconds any one ``git`` command may take before it is abandoned.
GIT_TIMEOUT_S = 3.0
#: Seconds ``nvidia-smi`` may take before GPUs are reported as unknown.
GPU_TIMEOUT_S = 2.0

#: Distributions whose versions are always reported (``None`` when not installed).
CORE_PACKAGES: tuple[str, ...] = (
    "mlflow",
    "scikit-learn",
    "pandas",
    "numpy",
    "great-expectations",
    "fairlearn",
)
#: Distributions reported only when installed.
OPTIONAL_PACKAGES: tuple[str, ...] = ("xgboost", "lightgbm", "torch", "tensorflow")

_NORMALIZE = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    """PEP 503 normalized distribution name (``Great_Expectations`` -> ``great-expectations``)."""
    return _NORMALIZE.sub("-", name).lower()


def distribution_versions() -> dict[str, str]:
    """Every installed distribution as ``{normalized name: version}`` (first on the path wins).

    A ``name-version.dist-info`` folder says both in its name (what installers write), which
    saves opening its metadata: ten times faster than ``importlib.metadata.distributions()``,
    with the same result (``tests/unit/test_environment.py``). Other forms (``.egg-info``, zip
    archives) are read through ``importlib.metadata``."""
    found: dict[str, str] = {}
    for entry in sys.path:
        folder = Path(entry or ".")
        try:
            names = os.listdir(folder)
        except OSError:  # a zip archive or a path hook: importlib.metadata reads those
            for dist in importlib.metadata.distributions(path=[entry]):
                _add_distribution(found, dist)
            continue
        for name in names:
            stem, dot, suffix = name.rpartition(".")
            if suffix == "dist-info" and dot:
                project, dash, version = stem.rpartition("-")
                if dash and project and version:
                    found.setdefault(normalize_name(project), version)
                    continue
            if suffix in ("dist-info", "egg-info") and dot:
                _add_distribution(found, importlib.metadata.PathDistribution(folder / name))
    return found


def _add_distribution(found: dict[str, str], dist: importlib.metadata.Distribution) -> None:
    name = dist.metadata["Name"] if dist.metadata is not None else None
    if name and dist.version:
        found.setdefault(normalize_name(name), dist.version)


def distributions_sha256(versions: Mapping[str, str]) -> str:
    """SHA-256 of the sorted ``name==version`` lines (one per line, ``\\n``-terminated)."""
    lines = "".join(f"{name}=={version}\n" for name, version in sorted(versions.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


@functools.cache
def environment_facts() -> dict[str, Any]:
    """Python, platform and ML library versions of this process (no library is imported)."""
    versions = distribution_versions()
    packages: dict[str, str | None] = {name: versions.get(name) for name in CORE_PACKAGES}
    packages.update({name: versions[name] for name in OPTIONAL_PACKAGES if name in versions})
    return {
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "packages": packages,
        "distributions_count": len(versions),
        "distributions_sha256": distributions_sha256(versions),
    }


def _cpu_model() -> str | None:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in {"model name", "Model", "Hardware"} and value.strip():
                return value.strip()
    return platform.processor() or None


def _memory_total_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):
        return None


def gpu_facts(*, timeout: float = GPU_TIMEOUT_S) -> list[dict[str, Any]] | None:
    """GPUs reported by ``nvidia-smi``: ``[]`` when it is not on PATH, ``None`` when it failed."""
    executable = shutil.which("nvidia-smi")
    if executable is None:
        return []
    try:
        completed = subprocess.run(
            [
                executable,
                "--query-gpu=name,memory.total,driver_version",
                "--format=csv,noheader,nounits",
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if completed.returncode != 0:
        return None
    gpus: list[dict[str, Any]] = []
    for line in completed.stdout.splitlines():
        parts = [part.strip() for part in line.split(",")]
        if len(parts) != 3 or not parts[0]:
            continue
        name, memory, driver = parts
        gpus.append(
            {
                "name": name,
                "memory_total_mib": int(memory) if memory.isdigit() else None,
                "driver_version": driver,
            }
        )
    return gpus


@functools.cache
def compute_facts() -> dict[str, Any]:
    """Host, OS, CPU, memory and GPUs of this machine."""
    return {
        "hostname": socket.gethostname(),
        "os": platform.system(),
        "os_release": platform.release(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_total_bytes": _memory_total_bytes(),
        "gpus": gpu_facts(),
    }


def strip_credentials(url: str) -> str:
    """A remote URL without user name or password (``https://tok@host/x`` -> ``https://host/x``).

    scp-like remotes (``git@host:org/repo.git``) carry no secret and are returned unchanged.
    """
    if "://" not in url:
        return url
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _git(args: list[str], cwd: Path, timeout: float) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout if completed.returncode == 0 else None


def git_facts(
    path: str | os.PathLike[str] | None = None, *, timeout: float = GIT_TIMEOUT_S
) -> dict[str, Any] | None:
    """Commit, branch, remote URL (credentials stripped) and dirty state of the repository
    containing ``path`` (default: the working directory); ``None`` outside a repository.

    ``dirty`` counts modified tracked files (``changed_files``); untracked files are counted
    separately. Both are ``None`` when ``git status`` timed out.
    """
    start = Path(path) if path is not None else Path.cwd()
    if start.is_file():
        start = start.parent
    if not start.is_dir() or shutil.which("git") is None:
        return None
    top = _git(["rev-parse", "--show-toplevel"], start, timeout)
    if top is None:
        return None
    remote = _git(["config", "--get", "remote.origin.url"], start, timeout)
    status = _git(["status", "--porcelain=v2", "--branch", "--no-renames"], start, timeout)
    commit: str | None = None
    branch: str | None = None
    changed: int | None = None
    untracked: int | None = None
    if status is not None:
        changed = untracked = 0
        for line in status.splitlines():
            if line.startswith("# branch.oid "):
                value = line.removeprefix("# branch.oid ").strip()
                commit = None if value == "(initial)" else value
            elif line.startswith("# branch.head "):
                value = line.removeprefix("# branch.head ").strip()
                branch = None if value == "(detached)" else value
            elif line.startswith("? "):
                untracked += 1
            elif line[:2] in {"1 ", "2 ", "u "}:
                changed += 1
    else:
        head = _git(["rev-parse", "--verify", "--quiet", "HEAD"], start, timeout)
        commit = head.strip() if head else None
    return {
        "repository_root": top.strip(),
        "commit": commit,
        "branch": branch,
        "remote_url": strip_credentials(remote.strip()) if remote and remote.strip() else None,
        "dirty": None if changed is None else changed > 0,
        "changed_files": changed,
        "untracked_files": untracked,
    }
