"""Every hook in hooks/ is documented, and the hooks run for real (git repo, CI shell, IPython)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HOOKS = REPO / "hooks"
BIN = Path(sys.executable).parent

VALID = """\
version: 1
organization: {name: Hook Test Ltd, aims_scope: One model, policy_owner: Dana Smith}
systems:
  - id: s1
    name: S
    owner: Dana Smith
    intended_use: Rank support tickets.
    lifecycle_stage: development
"""
INVALID = VALID.replace("    owner: Dana Smith\n", "    ownr: Dana Smith\n")
INVALID_LINE = "6: systems[0].ownr: unknown key 'ownr'"  # the 6th line holds the misspelt key


def hook_files() -> list[str]:
    return sorted(
        p.relative_to(HOOKS).as_posix()
        for p in HOOKS.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def env_with(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        MLFLOW_DISABLE_TELEMETRY="true",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.test",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.test",
    )
    env.pop("AIMS_CONFIG", None)
    env.pop("AIMS_SYSTEM", None)
    env.update(extra)
    return env


# -- documentation ---------------------------------------------------------------------------
def test_every_hook_file_is_named_in_the_readme() -> None:
    readme = (HOOKS / "README.md").read_text()
    files = [f for f in hook_files() if f != "README.md"]
    assert {"git/pre-commit", "ci-gate.sh", "jupyter/00-aims-mlops.py"} <= set(files)
    undocumented = [f for f in files if f"`{f}`" not in readme]
    assert undocumented == [], f"hooks/README.md does not name: {undocumented}"
    for module in ("aims_mlops.integrations.webhook",):
        assert module in readme


def test_pre_commit_definition_is_at_the_root_too() -> None:
    original = HOOKS / "pre-commit-hooks.yaml"
    root = REPO / ".pre-commit-hooks.yaml"
    assert root.read_text() == original.read_text()
    [hook] = yaml.safe_load(original.read_text())
    assert hook["id"] == "aims-validate"
    assert hook["entry"] == "aims validate"
    assert hook["language"] == "python"
    pattern = re.compile(hook["files"])
    assert pattern.search("aims.yaml") and pattern.search("deploy/aims.yaml")
    assert not pattern.search("aims.yaml.bak") and not pattern.search("other.yaml")
    assert not pattern.search("notaims.yaml")


def test_scripts_are_executable_shell() -> None:
    for name in ("git/pre-commit", "ci-gate.sh"):
        path = HOOKS / name
        assert os.access(path, os.X_OK), f"{name} is not executable"
        assert path.read_text().startswith("#!/bin/sh\n")
        check = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr


# -- git pre-commit hook in a real repository ------------------------------------------------
def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=repo, env=env_with(), capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    if shutil.which("git") is None:
        pytest.fail("git is needed to test the git hook")
    root = tmp_path / "repo"
    root.mkdir()
    assert git(root, "init", "-q").returncode == 0
    hook = root / ".git" / "hooks" / "pre-commit"
    shutil.copy(HOOKS / "git" / "pre-commit", hook)
    hook.chmod(0o755)
    return root


def test_git_hook_passes_a_valid_aims_yaml(repo: Path) -> None:
    (repo / "aims.yaml").write_text(VALID)
    git(repo, "add", "aims.yaml")
    commit = git(repo, "commit", "-q", "-m", "valid")
    assert commit.returncode == 0, commit.stderr
    assert "aims.yaml: valid" in commit.stdout + commit.stderr  # git shows hook output on stderr
    assert git(repo, "rev-parse", "HEAD").returncode == 0


def test_git_hook_refuses_an_invalid_staged_aims_yaml(repo: Path) -> None:
    nested = repo / "deploy"
    nested.mkdir()
    (nested / "aims.yaml").write_text(INVALID)
    git(repo, "add", "deploy/aims.yaml")
    commit = git(repo, "commit", "-q", "-m", "invalid")
    assert commit.returncode != 0
    assert f"deploy/aims.yaml:{INVALID_LINE}" in commit.stderr
    assert git(repo, "rev-parse", "HEAD").returncode != 0  # nothing was committed

    # the staged content is what counts: fixing only the working tree does not let it through
    (nested / "aims.yaml").write_text(VALID)
    commit = git(repo, "commit", "-q", "-m", "still invalid")
    assert commit.returncode != 0
    assert f"deploy/aims.yaml:{INVALID_LINE}" in commit.stderr
    git(repo, "add", "deploy/aims.yaml")
    assert git(repo, "commit", "-q", "-m", "fixed").returncode == 0


def test_git_hook_ignores_commits_without_aims_yaml(repo: Path) -> None:
    (repo / "aims.yaml").write_text(INVALID)  # broken but not staged
    (repo / "train.py").write_text("print('hi')\n")
    git(repo, "add", "train.py")
    commit = git(repo, "commit", "-q", "-m", "code only")
    assert commit.returncode == 0, commit.stderr
    assert commit.stderr == ""


# -- the CI gate script (runs `aims gate` against a real local MLflow store) --------------------
def test_gate_is_wired_into_the_aims_command() -> None:
    from aims_mlops.cli import cli

    assert "gate" in cli.commands, (
        "aims gate is not registered: cli/_main.py must call aims_mlops.cli._gate.register(cli)"
    )


@pytest.mark.slow
def test_ci_gate_script_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.ledger_fixtures import approved_workspace

    monkeypatch.chdir(tmp_path)  # the store's artifacts and spool stay out of the checkout
    script = HOOKS / "ci-gate.sh"
    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    from aims_mlops.store import EvidenceStore

    # no risks, no evidence: nothing is failing; the configuration approved, evidence signed
    approved_workspace(tmp_path, VALID, store=EvidenceStore(tracking_uri=store))
    (tmp_path / "bad.yaml").write_text(INVALID)

    def run(**extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(script)],
            cwd=tmp_path,
            env=env_with(MLFLOW_TRACKING_URI=store, **extra),
            capture_output=True,
            text=True,
            timeout=180,
        )

    passed = run(AIMS_SYSTEM="s1", AIMS_MIN_SCORE="0")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.startswith("PASS s1")

    failed = run(AIMS_SYSTEM="s1")  # default minimum score 0.8, far above an empty store's
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert failed.stdout.startswith("FAIL s1")
    assert any(
        line.startswith("score ") and "below the minimum 0.8" in line
        for line in failed.stdout.splitlines()
    )

    broken = run(AIMS_SYSTEM="s1", AIMS_CONFIG="bad.yaml")
    assert broken.returncode == 2
    assert f"bad.yaml:{INVALID_LINE}" in broken.stderr
    assert "Traceback" not in broken.stderr

    unset = run()
    assert unset.returncode == 2 and "AIMS_SYSTEM" in unset.stderr


# -- the Jupyter startup file ----------------------------------------------------------------
STARTUP = HOOKS / "jupyter" / "00-aims-mlops.py"


def ipython_with_startup(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    ipython_dir = tmp_path / "ipython"
    startup = ipython_dir / "profile_default" / "startup"
    startup.mkdir(parents=True)
    shutil.copy(STARTUP, startup / STARTUP.name)
    return subprocess.run(
        [sys.executable, "-m", "IPython", "--no-banner", "-c", "print('kernel alive')"],
        cwd=tmp_path,
        env=env_with(IPYTHONDIR=str(ipython_dir), **extra),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_startup_file_is_silent_outside_ipython(tmp_path: Path) -> None:
    (tmp_path / "aims.yaml").write_text(INVALID)
    done = subprocess.run(
        [sys.executable, str(STARTUP)],
        cwd=tmp_path,
        env=env_with(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""


def test_startup_file_survives_a_package_that_fails_to_import(tmp_path: Path) -> None:
    fake = tmp_path / "shadow" / "aims_mlops"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise RuntimeError('broken install')\n")
    done = ipython_with_startup(tmp_path, PYTHONPATH=str(tmp_path / "shadow"))
    assert done.returncode == 0, done.stderr
    assert "kernel alive" in done.stdout
    assert "aims_mlops startup: extension not loaded (RuntimeError: broken install)" in (
        done.stderr
    )


@pytest.mark.slow
def test_startup_file_never_raises_with_a_broken_config(tmp_path: Path) -> None:
    (tmp_path / "aims.yaml").write_text(INVALID)
    done = ipython_with_startup(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "kernel alive" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert "aims_mlops" in done.stderr  # one warning, from the extension or the startup file
