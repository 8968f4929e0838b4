"""Error and warning types of aims_mlops. Every domain error derives from :class:`AimsError`."""

from __future__ import annotations


class AimsError(Exception):
    """Base class of every error aims_mlops raises on purpose (a user or data problem).

    In IPython and Jupyter it shows as its message alone (``ConfigError: ...``), not a
    traceback: it is something the user can fix, not a bug to debug.
    """

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of the traceback: the error's name and its message."""
        return [f"{type(self).__name__}: {self}"]


class ConfigError(AimsError):
    """``aims.yaml`` is malformed: the message names the file, line and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class CatalogError(AimsError):
    """The control catalog is inconsistent, or an unknown control id was named."""


class EvidenceError(AimsError):
    """An evidence record is malformed or fails verification."""


class StoreError(AimsError):
    """The evidence store could not be read or written."""


class CaptureError(AimsError):
    """A collector failed (raised only in strict mode; otherwise recorded as an error record)."""


class DataError(AimsError):
    """User data does not fit what a collector needs (a missing column, say)."""


class AimsWarning(UserWarning):
    """A problem that aims_mlops recorded instead of raising (capture never breaks a run)."""
