"""The ``aims`` command line (click). User errors exit 2 with one line, never a traceback.

The root group is built in :mod:`aims_mlops.cli._main` from its declared list of command
families (``FAMILIES``); each family module adds its commands in ``register(group)`` (no
registration by import side effect).
"""

from aims_mlops.cli._main import cli, main
from aims_mlops.cli._webhook import webhook_command

__all__ = ["cli", "main", "webhook_command"]
