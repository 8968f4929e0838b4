"""EU AI Act commands: ``aims annex-iv`` (the technical documentation). The incident commands
belong to the ``record`` group (:mod:`aims_mlops.cli._record`), the ``--framework`` views to
``aims catalog`` and ``aims status`` (:mod:`aims_mlops.cli._judgement`), the CycloneDX export
to ``aims export`` (:mod:`aims_mlops.cli._audit`)."""

from __future__ import annotations

from pathlib import Path

import click

from aims_mlops.cli._options import config_option, format_option, output_option
from aims_mlops.reports._annex_iv import write_annex_iv

ANNEX_IV_FORMATS = ("html", "md", "json")


# -- aims annex-iv -------------------------------------------------------------------------------
@click.command("annex-iv")
@config_option
@click.argument("system")
@click.option("--model-version", default=None, help="Document this registered model version.")
@format_option(*ANNEX_IV_FORMATS)
@output_option("File to write (replaced atomically; default: stdout).")
def annex_iv_command(
    config: Path | None, system: str, model_version: str | None, fmt: str, output: Path | None
) -> None:
    """The technical documentation of SYSTEM (EU AI Act Art. 11, Annex IV), from its evidence."""
    text = write_annex_iv(
        system, config=config, model_version=model_version, fmt=fmt, output=output
    )
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        click.echo(f"wrote {output}")


def register(group: click.Group) -> None:
    """Add ``annex-iv`` to the ``aims`` command group."""
    group.add_command(annex_iv_command)


__all__ = ["register"]
