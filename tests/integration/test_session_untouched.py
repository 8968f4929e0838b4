"""Code holding its own config writes through its own capture context: the session stays as bound.

The process is bound with ``aims_mlops.init`` to one system, tracking URI and row-value rule (store
A); ``attest(config=...)``, ``aims gate --promote`` and ``aims report`` are pointed at another
``aims.yaml`` whose store is B. Their records land in B, and the session is the same object with
the same binding afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

import aims_mlops
from aims_mlops.capture import Session, get_session
from aims_mlops.cli import cli
from aims_mlops.store import EvidenceStore
from tests.unit.test_gate import CONFIG

pytestmark = pytest.mark.slow

MODEL = "credit-model"


@dataclass(frozen=True)
class Bound:
    session: Session
    session_uri: str
    other_uri: str
    other_config: Path
    version: str


@pytest.fixture
def bound(isolated_mlflow: str, tmp_path: Path) -> Iterator[Bound]:
    from mlflow import MlflowClient

    other_uri = f"sqlite:///{tmp_path / 'other.db'}"
    other_config = tmp_path / "other" / "aims.yaml"
    other_config.parent.mkdir()
    other_config.write_text(
        CONFIG + f"store: {{tracking_uri: '{other_uri}', spool_dir: '{tmp_path / 'spool-b'}'}}\n"
    )
    client = MlflowClient(tracking_uri=other_uri)
    run_id = client.create_run(client.create_experiment("credit")).info.run_id
    client.set_terminated(run_id)
    client.create_registered_model(MODEL)
    version = client.create_model_version(MODEL, source=f"runs:/{run_id}/model", run_id=run_id)
    with pytest.warns(aims_mlops.AimsWarning, match="no aims.yaml"):
        session = aims_mlops.init(
            system="bound-system", tracking_uri=isolated_mlflow, include_values=True, autolog=False
        )
    yield Bound(
        session=session,
        session_uri=isolated_mlflow,
        other_uri=other_uri,
        other_config=other_config,
        version=str(version.version),
    )


def assert_untouched(bound: Bound) -> None:
    session = get_session()
    assert session is bound.session
    assert session.system == "bound-system"
    assert session.tracking_uri == bound.session_uri
    assert session.include_values is True
    assert session.config is None


def ids(uri: str) -> set[str]:
    return {record.id for record in EvidenceStore(tracking_uri=uri).records()}


def test_attest_with_a_config_leaves_the_bound_session_alone(bound: Bound) -> None:
    record = aims_mlops.attest(
        "4.1", by="Chief Executive", document="https://intranet.acme-lending.com/policy", org=True,
        config=bound.other_config,
    )  # fmt: skip
    assert_untouched(bound)
    assert record.id in ids(bound.other_uri)
    assert record.id not in ids(bound.session_uri)
    # the session's own capture still goes where it was bound
    own = aims_mlops.attest(
        "4.1", by="Chief Executive", document="https://intranet.acme-lending.com/p2", org=True
    )
    assert own.id in ids(bound.session_uri)


def test_the_gate_and_the_report_command_leave_the_bound_session_alone(
    bound: Bound, tmp_path: Path
) -> None:
    runner = CliRunner()
    config = str(bound.other_config)
    gate = runner.invoke(
        cli, ["gate", "credit", "--config", config, "--model-version", bound.version, "--promote"]
    )
    assert gate.exit_code == 1, gate.output  # no fairness evidence: blocked, and recorded
    assert_untouched(bound)
    deployments = EvidenceStore(tracking_uri=bound.other_uri).records(kinds=["deployment"])
    assert [r.details["action"] for r in deployments] == ["blocked"]

    output = tmp_path / "report.md"
    report = runner.invoke(
        cli, ["report", "credit", "--config", config, "--format", "md", "-o", str(output)]
    )
    assert report.exit_code == 0, report.output
    assert_untouched(bound)
    cards = EvidenceStore(tracking_uri=bound.other_uri).records(kinds=["system_card"])
    assert len(cards) == 1 and cards[0].system == "credit"
    assert ids(bound.session_uri) == set()
