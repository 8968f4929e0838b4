"""The ``aims`` root group and the one declared list of command families registered into it.

Every command lives in a family module (``cli/_<family>.py``) whose ``register(group)`` adds it;
this module declares no command. Each group below the root has one owner: the family module
that declares it and every command in it (``tests/unit/test_cli_structure.py``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import ModuleType

import click

from aims_mlops.cli import (
    _audit,
    _config,
    _euaiact,
    _evidence,
    _gate,
    _judgement,
    _keys,
    _ledger,
    _lifecycle,
    _record,
    _reports,
    _webhook,
)
from aims_mlops.cli._options import AimsGroup, set_mlflow_verbosity

#: The command families, in the order they register (``aims --help`` lists commands by name).
FAMILIES: tuple[ModuleType, ...] = (
    _config,  # init, validate, demo, config, risk
    _judgement,  # catalog, summary, status, soa, risks
    _evidence,  # attest, sync, verify
    _reports,  # report, readiness
    _audit,  # audit-pack, export, audit-plan, review-pack
    _gate,  # gate
    _euaiact,  # annex-iv
    _record,  # record (incident, internal-audit, ...), nonconformities, nc
    _lifecycle,  # lifecycle, inventory, docs
    _webhook,  # webhook
    _keys,  # keys
    _ledger,  # checkpoint
)

VERBOSE_HELP = "Show MLflow's own INFO logging (by default only its warnings and errors)."


def build_cli(families: Sequence[ModuleType] = FAMILIES) -> click.Group:
    """A new ``aims`` root group with every family's commands registered."""

    @click.group(
        "cli", cls=AimsGroup, context_settings={"help_option_names": ["-h", "--help"]}
    )
    @click.version_option(package_name="aims-mlops")
    @click.option("-v", "--verbose", is_flag=True, help=VERBOSE_HELP)
    @click.pass_context
    def root(ctx: click.Context, verbose: bool) -> None:
        """ISO/IEC 42001 evidence, status and reports for AI systems built with MLflow."""
        set_mlflow_verbosity(verbose=verbose)
        ctx.obj = {"verbose": verbose}

    for family in families:
        family.register(root)
    return root


cli = build_cli()


def main() -> None:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    cli(prog_name="aims")
