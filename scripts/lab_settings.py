"""Make JupyterLab save widget state with the notebook (the dashboards then show in a saved or
exported notebook; JupyterLab's default leaves them blank).

    python scripts/lab_settings.py .venv/share/jupyter/lab/settings/overrides.json

Merges into the overrides file (other settings in it are kept); idempotent.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PLUGIN = "@jupyter-widgets/jupyterlab-manager:plugin"


def save_widget_state(path: Path) -> dict[str, object]:
    """Set ``saveState`` of the widgets plugin in the JupyterLab overrides file ``path``."""
    settings = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    settings.setdefault(PLUGIN, {})["saveState"] = True
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)
    return settings


if __name__ == "__main__":
    save_widget_state(Path(sys.argv[1]))
