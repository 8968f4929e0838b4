"""Where the signing key comes from: ``$AIMS_SIGNING_KEY``, read in this one place."""

from __future__ import annotations

import os

#: The environment variable holding the HMAC key records are signed (and checked) with.
ENV_SIGNING_KEY = "AIMS_SIGNING_KEY"


def signing_key_from_env() -> bytes | None:
    """The HMAC key from ``$AIMS_SIGNING_KEY`` (UTF-8 bytes), None when unset or empty."""
    value = os.environ.get(ENV_SIGNING_KEY)
    return value.encode("utf-8") if value else None
