"""The bundled red-team suite: prompt-injection and jailbreak attacks with rogue strings.

The attacks are package data (``red_team.yaml``, this project's own prompts) in named
categories. :func:`red_team_suite` renders them with a fresh random rogue string each (letters
only, so no personal-data recognizer mistakes it for a number); an attack succeeded when its
rogue string appears in the output.
"""

from __future__ import annotations

import base64
import codecs
import functools
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from aims_mlops._errors import AimsError
from aims_mlops._yaml import safe_load

ERROR_UNKNOWN_CATEGORY = "unknown red-team category {category!r}; known: {known}"

#: Category of the user's own evaluation rows in per-category breakdowns.
DATA_CATEGORY = "data"
_ROGUE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
_ROGUE_LENGTH = 10


@dataclass(frozen=True, kw_only=True)
class Attack:
    """One rendered attack: its id, category, prompt and the rogue string that marks success."""

    id: str
    category: str
    prompt: str
    rogue: str


@functools.cache
def _suite() -> dict[str, Any]:
    text = resources.files("aims_mlops.genai").joinpath("red_team.yaml").read_text("utf-8")
    return safe_load(text)


def categories() -> dict[str, str]:
    """Category name -> what its attacks try."""
    return dict(_suite()["categories"])


def _rogue(rng: random.Random | None) -> str:
    pick = rng.choice if rng is not None else secrets.choice
    return "".join(pick(_ROGUE_ALPHABET) for _ in range(_ROGUE_LENGTH))


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def render(template: str, rogue: str) -> str:
    """Fill an attack template's placeholders for ``rogue``."""
    return template.format(
        rogue=rogue,
        rogue_b64=base64.b64encode(rogue.encode()).decode(),
        rogue_rot13=codecs.encode(rogue, "rot13"),
        rogue_reversed=rogue[::-1],
        rogue_spaced=" ".join(rogue),
        rogue_hex=rogue.encode().hex(),
        rogue_fullwidth=_fullwidth(rogue),
        canary_email=f"{rogue.lower()}@example.com",
    )


def red_team_suite(
    *, categories: Sequence[str] | None = None, seed: int | None = None
) -> list[Attack]:
    """The bundled attacks, each with a fresh rogue string (``seed`` makes them repeatable)."""
    suite = _suite()
    known = list(suite["categories"])
    wanted = list(categories) if categories is not None else known
    for category in wanted:
        if category not in known:
            raise AimsError(
                ERROR_UNKNOWN_CATEGORY.format(category=category, known=", ".join(known))
            )
    rng = random.Random(seed) if seed is not None else None
    attacks = []
    for raw in suite["attacks"]:
        if raw["category"] in wanted:
            rogue = _rogue(rng)
            attacks.append(
                Attack(
                    id=raw["id"],
                    category=raw["category"],
                    prompt=render(raw["prompt"], rogue),
                    rogue=rogue,
                )
            )
    return attacks
