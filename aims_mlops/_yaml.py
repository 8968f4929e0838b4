"""YAML read with libyaml's C loader when PyYAML was built with it: ten times faster than the
pure-Python loader on the catalog, the crosswalks and ``aims.yaml``.

Two guards keep the results and the error texts those of the pure-Python loader:

* libyaml's composer recurses once per nesting level (some builds have no limit, and a deep
  enough document crashes the process), so a cheap pass over the C parser's events (iterative)
  measures the nesting first; deeper than :data:`MAX_C_DEPTH`, the pure-Python loader reads it
  (and raises ``RecursionError`` rather than crashing);
* libyaml words its errors differently: on any YAML error the pure-Python loader reads the text
  again, so an error says what it always said.
"""

from __future__ import annotations

from typing import Any

import yaml

#: True when PyYAML has libyaml's C loader (``pip install pyyaml`` wheels do).
HAS_LIBYAML: bool = bool(getattr(yaml, "__with_libyaml__", False))
#: Deepest nesting of mappings and lists read with the C loader.
MAX_C_DEPTH = 200

_STARTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_ENDS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def c_loader_fits(text: str, *, limit: int = MAX_C_DEPTH) -> bool:
    """Whether ``text`` may be read with the C loader: libyaml is there, the text parses and
    no mapping or list is nested deeper than ``limit`` (an iterative pass over its events)."""
    if not HAS_LIBYAML:
        return False
    loader = yaml.CSafeLoader(text)
    depth = 0
    try:
        while (event := loader.get_event()) is not None:
            if isinstance(event, _STARTS):
                depth += 1
                if depth > limit:
                    return False
            elif isinstance(event, _ENDS):
                depth -= 1
            elif isinstance(event, yaml.StreamEndEvent):
                break
    except yaml.YAMLError:
        return False  # the pure-Python loader reads it again and words the error
    finally:
        loader.dispose()
    return True


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``, through libyaml when :func:`c_loader_fits`; same data, same
    errors as the pure-Python loader."""
    if c_loader_fits(text):
        try:
            return yaml.load(text, Loader=yaml.CSafeLoader)
        except yaml.YAMLError:
            return yaml.safe_load(text)  # its error text is the one we show
    return yaml.safe_load(text)
