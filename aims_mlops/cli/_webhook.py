"""``aims webhook``: serve the MLflow model-registry webhook receiver, or register it.

``python -m aims_mlops.integrations.webhook`` runs this same command.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from aims_mlops._errors import AimsError
from aims_mlops.cli._main import EXIT_USER_ERROR
from aims_mlops.integrations.webhook import (
    DEFAULT_CONNECTIONS_PER_ADDRESS,
    DEFAULT_DELIVERIES_FILE,
    DEFAULT_PORT,
    DEFAULT_SECRET_ENV,
    DEFAULT_SETTLE_SECONDS,
    DEFAULT_WEBHOOK_NAME,
    ERROR_NO_SECRET,
    WebhookError,
)

MESSAGE_REGISTERED = "registered webhook {name!r} ({webhook_id}) -> {url}"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _split_ids(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@click.command("webhook")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on. The receiver speaks plain HTTP: for any address other than "
    "loopback put a reverse proxy that terminates TLS in front of it (a warning says so).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="aims.yaml to use (default: $AIMS_CONFIG, else ./aims.yaml).",
)
@click.option(
    "--secret-env",
    default=DEFAULT_SECRET_ENV,
    show_default=True,
    help="Environment variable holding the webhook secret.",
)
@click.option("--tracking-uri", default=None, help="MLflow tracking URI of the evidence store.")
@click.option("--require", default="", help="Comma-separated entries that must be satisfied.")
@click.option(
    "--min-score", type=click.FloatRange(0.0, 1.0), default=None, help="Lowest acceptable score."
)
@click.option("--allow-risk", is_flag=True, help="Do not fail on risks above the appetite.")
@click.option(
    "--settle-seconds",
    type=float,
    default=DEFAULT_SETTLE_SECONDS,
    show_default=True,
    help="Wait before gating, for `aims gate --promote` to record its own promotion.",
)
@click.option(
    "--register",
    "register_url",
    metavar="URL",
    default=None,
    help="Instead of serving: register URL (this receiver, as the tracking server reaches it) "
    "as the MLflow webhook for alias events, then exit.",
)
@click.option(
    "--deliveries-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where accepted delivery ids are kept across restarts "
    f"(default: {DEFAULT_DELIVERIES_FILE} beside aims.yaml).",
)
@click.option(
    "--max-per-address",
    type=click.IntRange(1, 1000),
    default=DEFAULT_CONNECTIONS_PER_ADDRESS,
    show_default=True,
    help="Connections one client address may hold at once (beyond: 503); behind a reverse "
    "proxy every connection comes from the proxy: raise it there.",
)
@click.option("--name", default=DEFAULT_WEBHOOK_NAME, show_default=True, help="Webhook name.")
@click.option("--no-check", is_flag=True, help="Skip the test delivery after --register.")
def webhook_command(
    host: str,
    port: int,
    config: Path | None,
    secret_env: str,
    tracking_uri: str | None,
    require: str,
    min_score: float | None,
    allow_risk: bool,
    settle_seconds: float,
    register_url: str | None,
    deliveries_file: Path | None,
    max_per_address: int,
    name: str,
    no_check: bool,
) -> None:
    """Gate every model version MLflow puts behind a system's production alias and record the
    outcome; with --register URL, create the MLflow webhook that calls the receiver."""
    from aims_mlops.config import default_config_path
    from aims_mlops.integrations.webhook import WebhookReceiver, register_webhook, serve

    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    try:
        secret = os.environ.get(secret_env, "")
        if not secret:
            raise WebhookError(ERROR_NO_SECRET.format(name=secret_env))
        if register_url:
            webhook_id = register_webhook(
                register_url,
                secret=secret,
                name=name,
                tracking_uri=tracking_uri,
                check=not no_check,
            )
            click.echo(
                MESSAGE_REGISTERED.format(name=name, webhook_id=webhook_id, url=register_url)
            )
            return
        receiver = WebhookReceiver(
            config_path=config or default_config_path(),
            secret=secret,
            require=_split_ids(require),
            min_score=min_score,
            block_on_risk=not allow_risk,
            tracking_uri=tracking_uri,
            settle_seconds=settle_seconds,
            deliveries_file=deliveries_file,
        )
        serve(receiver, host=host, port=port, per_address=max_per_address)
    except (AimsError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_USER_ERROR)


def register(group: click.Group) -> None:
    """Add ``webhook`` to the ``aims`` command group."""
    group.add_command(webhook_command)
