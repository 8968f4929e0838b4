"""The ``aims`` command line (click). User errors exit 2 with one line, never a traceback.

Command groups live in their own modules and are added here explicitly (no registration by
import side effect).
"""

from aims_mlops.cli import (
    _audit,
    _config,
    _euaiact,
    _gate,
    _keys,
    _ledger,
    _lifecycle,
    _record,
    _reports,
    _webhook,
)
from aims_mlops.cli._main import cli, main
from aims_mlops.cli._webhook import webhook_command

_reports.register(cli)
_audit.register(cli)
_gate.register(cli)
_euaiact.register(cli)
_record.register(cli)
_lifecycle.register(cli)
_webhook.register(cli)
_keys.register(cli)
_config.register(cli)
_ledger.register(cli)

__all__ = ["cli", "main", "webhook_command"]
