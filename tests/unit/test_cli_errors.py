"""The smaller hostile inputs of issue 12 (finding 10): each one clear line and exit 2."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from aims_mlops.cli import cli
from aims_mlops.cli._options import (
    ERROR_DOCUMENT_UNREADABLE,
    ERROR_OUTPUT_NO_FOLDER,
    ERROR_OUTPUT_NOT_FOLDER,
)
from aims_mlops.config import example_config_text, parse_config
from aims_mlops.judgement._judge import ERROR_NO_SUCH_VERSION, ERROR_VERSION_UNBOUND

SYSTEM = "income-classifier"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["soa", "--format", "csv"],
        ["report", SYSTEM],
        ["audit-pack", "--all"],
        ["export"],
        ["audit-plan"],
        ["review-pack"],
        ["annex-iv", SYSTEM],
    ],
)
def test_an_output_in_a_missing_folder_is_refused_before_any_work(
    tmp_path: Path, command: list[str]
) -> None:
    target = tmp_path / "missing" / "out.file"
    code, out, err = run(*command, "--config", str(tmp_path / "none.yaml"), "-o", str(target))
    assert code == 2 and out == ""
    message = ERROR_OUTPUT_NO_FOLDER.format(path=target, folder=target.parent)
    assert err == f"error: {message}\n"  # before the (missing) configuration is even read
    assert not target.parent.exists()


def test_an_output_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    target = blocker / "soa.csv"
    code, _, err = run("soa", "-o", str(target))
    assert code == 2
    assert err == f"error: {ERROR_OUTPUT_NOT_FOLDER.format(path=target, folder=blocker)}\n"


def test_an_unreadable_document_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = tmp_path / "policy.pdf"
    document.write_text("policy")
    real_open = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == document:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    control = parse_config(example_config_text()).soa[0].control
    code, out, err = run("attest", control, "--org", "--by", "Dana", "--document", str(document))
    assert code == 2 and out == ""
    expected = ERROR_DOCUMENT_UNREADABLE.format(path=document, error="Permission denied")
    assert err == f"error: {expected}\n"


def test_an_attestation_with_an_unusable_signing_key_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aims_mlops.capture import reset_session
    from aims_mlops.evidence import _signing as signing

    document = tmp_path / "policy.md"
    document.write_text("Our AI policy: what we build, for whom, and the limits we keep. " * 3)
    missing = tmp_path / "nope.key"
    monkeypatch.setenv("AIMS_SIGNING_KEY", str(missing))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'never.db'}")
    monkeypatch.chdir(tmp_path)
    reset_session()
    control = parse_config(example_config_text()).soa[0].control
    code, out, err = run("attest", control, "--org", "--by", "Dana", "--document", str(document))
    assert code == 2 and out == ""  # a person's attestation is never quietly left unsigned
    expected = signing.ERROR_KEY_MISSING.format(what="$AIMS_SIGNING_KEY", path=missing)
    assert err == f"error: {expected}\n"
    assert not (tmp_path / "never.db").exists()  # refused before the store was touched


@pytest.mark.parametrize("port", ["99999", "0", "-1", "65536"])
def test_a_webhook_port_out_of_range_is_a_usage_error(
    port: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIMS_WEBHOOK_SECRET", "s3cret")
    code, _, err = run("webhook", "--port", port)
    assert code == 2
    assert f"Invalid value for '--port': {port} is not in the range 1<=x<=65535" in err
    assert "Traceback" not in err


def test_a_deeply_nested_json_body_is_refused(tmp_path: Path) -> None:
    from aims_mlops.integrations import webhook

    config = tmp_path / "aims.yaml"
    config.write_text(example_config_text())
    receiver = webhook.WebhookReceiver(config_path=config, secret="s3cret")
    try:
        body = b"[" * 100_000 + b"]" * 100_000
        delivery, stamp = "d-1", str(int(time.time()))
        headers = {
            webhook.DELIVERY_ID_HEADER: delivery,
            webhook.TIMESTAMP_HEADER: stamp,
            webhook.SIGNATURE_HEADER: webhook.sign("s3cret", delivery, stamp, body.decode()),
        }
        status, reply = receiver.handle(headers=headers, body=body)
    finally:
        receiver.close()
    assert status == 400
    assert reply["reason"] == webhook.PROBLEM_BAD_JSON.format(error=webhook.PROBLEM_TOO_DEEP)


class _Store:
    """What ``judge`` asks of a store, answering that the registry holds no such version."""

    def current_models(self, bindings: dict[str, Any]) -> dict[str, Any]:
        return {system: None for system in bindings}

    def records_for(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []


def test_a_model_version_the_registry_does_not_hold_is_an_error(tmp_path: Path) -> None:
    from aims_mlops._errors import AimsError
    from aims_mlops.judgement import judge

    config = parse_config(example_config_text())
    model = config.system(SYSTEM).mlflow.registered_model
    with pytest.raises(AimsError) as caught:
        judge(config=config, systems=[SYSTEM], model_versions={SYSTEM: "999"}, store=_Store())
    assert str(caught.value) == ERROR_NO_SUCH_VERSION.format(
        model=model, version="999", system=SYSTEM
    )
    unbound = parse_config(
        example_config_text().replace(f"registered_model: {model}", "registered_model: null", 1)
    )
    assert unbound.system(SYSTEM).mlflow.registered_model is None
    with pytest.raises(AimsError) as caught:
        judge(config=unbound, systems=[SYSTEM], model_versions={SYSTEM: "3"}, store=_Store())
    assert str(caught.value) == ERROR_VERSION_UNBOUND.format(system=SYSTEM, version="3")
