"""Reading ``aims.yaml``: YAML with line numbers, duplicate-key detection and clear error lines."""

from __future__ import annotations

import hashlib
import os
import types
import typing
from collections.abc import Mapping
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from aims_mlops._errors import ConfigError
from aims_mlops._yaml import HAS_LIBYAML, c_loader_fits
from aims_mlops.config._keys import trust_key_problems
from aims_mlops.config._models import (
    CROSS_CHECKED_CONTEXT_KEY,
    AimsConfig,
    Loc,
    cross_field_problems,
    describe,
    format_loc,
)
from aims_mlops.evidence import canonical_json

CONFIG_ENV_VAR = "AIMS_CONFIG"
DEFAULT_CONFIG_NAME = "aims.yaml"

ERROR_FILE_NOT_FOUND = (
    "{source}: file not found (run `aims init` to create one, "
    "or set $AIMS_CONFIG to the path of your aims.yaml)"
)
ERROR_UNREADABLE = "{source}: cannot read the file: {error}"
ERROR_YAML_SYNTAX = "{source}:{line}: YAML syntax error: {problem}"
ERROR_EMPTY = (
    "{source}:1: the file is empty; it needs at least 'version: 1' and 'organization' "
    "(run `aims init` for a commented example)"
)
ERROR_NOT_MAPPING = (
    "{source}:{line}: the top level must be a mapping with keys such as version, organization, "
    "systems; got {got}"
)
ERROR_DUPLICATE_KEY = (
    "duplicate key {key!r} (first at line {first}); each key may appear once in a mapping"
)
ERROR_PROBLEM = "{source}:{line}: {path}: {message}"
ERROR_TOO_LARGE = (
    "{source}:1: the file is {size} bytes, more than the {limit} bytes an aims.yaml may hold"
)
ERROR_TOO_DEEP = "{source}:{line}: YAML syntax error: nested more than {limit} levels deep"
MSG_EXPANSION = (
    "aliases (*name) expand the document to more than {limit} values; an anchor may be reused, "
    "not multiplied (an alias bomb?)"
)
MSG_RECURSIVE_ALIAS = "an alias (*name) refers to the anchor that contains it"

#: Largest aims.yaml read (bytes, or characters of a text given to :func:`parse_config`).
MAX_CONFIG_BYTES = 2**20
#: Most values (YAML nodes) the document may hold once every alias is expanded.
MAX_EXPANDED_NODES = 100_000
#: Deepest nesting of mappings and lists.
MAX_DEPTH = 64

MSG_UNKNOWN_KEY = "unknown key {key!r}; allowed keys: {allowed}"
MSG_MISSING = "required field is missing"
MSG_LITERAL = "{got} is not allowed; use one of: {allowed}"
MSG_TYPE = "must be {what}; got {got}"

_TYPE_WORDS: dict[str, str] = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "a date (YYYY-MM-DD)",
    "date_future": "a date (YYYY-MM-DD)",
    "date_past": "a date (YYYY-MM-DD)",
}


class _KeysAsWritten(yaml.constructor.SafeConstructor):
    """Reads mapping keys as written: YAML 1.1 would turn the key ``on`` (``acceptance: {by,
    on}``) into the boolean true."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _BOOL_TAG:
                key_node.tag = _STR_TAG
        return super().construct_mapping(node, deep=deep)


class _Loader(_KeysAsWritten, yaml.SafeLoader):
    """SafeLoader that keeps dates as strings (pydantic parses and reports them with a line) and
    reads mapping keys as written. Pure Python: its errors are the ones we show."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_STR_TAG = "tag:yaml.org,2002:str"
_IMPLICIT_RESOLVERS = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.yaml_implicit_resolvers = _IMPLICIT_RESOLVERS

if HAS_LIBYAML:

    class _CLoader(_KeysAsWritten, yaml.CSafeLoader):
        """:class:`_Loader` on libyaml's parser: the same nodes, lines and data, ten times
        faster; used only for texts :func:`c_loader_fits` (any error is read again by
        :class:`_Loader`, whose words we show)."""

    _CLoader.yaml_implicit_resolvers = _IMPLICIT_RESOLVERS
    _FAST_LOADER: type[_Loader] | type[_CLoader] = _CLoader
else:  # pragma: no cover - PyYAML without libyaml
    _FAST_LOADER = _Loader


# --------------------------------------------------------------------------- public API
def default_config_path() -> Path:
    """``$AIMS_CONFIG`` when set, else ``./aims.yaml``."""
    env = os.environ.get(CONFIG_ENV_VAR, "").strip()
    return Path(env) if env else Path(DEFAULT_CONFIG_NAME)


def load_config(path: str | os.PathLike[str] | None = None) -> AimsConfig:
    """Read and validate ``aims.yaml`` (default: :func:`default_config_path`)."""
    config_path = Path(path) if path is not None else default_config_path()
    source = str(config_path)
    if not config_path.is_file():
        raise ConfigError([ERROR_FILE_NOT_FOUND.format(source=source)])
    try:
        size = config_path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                [ERROR_TOO_LARGE.format(source=source, size=size, limit=MAX_CONFIG_BYTES)]
            )
        text = config_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ERROR_UNREADABLE.format(source=source, error=exc)]) from exc
    return parse_config(text, source=source)


def parse_config(
    text: str, *, source: str = DEFAULT_CONFIG_NAME, check_key_files: bool = True
) -> AimsConfig:
    """Validate the text of an ``aims.yaml``; :class:`ConfigError` lists every problem by line.
    ``check_key_files=False`` leaves the key files unread (a configuration recorded in the
    store carries its own key material).

    The text is untrusted: more than :data:`MAX_CONFIG_BYTES`, nesting deeper than
    :data:`MAX_DEPTH` or aliases expanding past :data:`MAX_EXPANDED_NODES` are refused.
    ``check_key_files`` false: the trusted key files are not looked up (a configuration read
    away from its folder, such as an audit pack's)."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [ERROR_TOO_LARGE.format(source=source, size=len(text), limit=MAX_CONFIG_BYTES)]
        )
    root, data, problems = _read_yaml(text, source)
    located = [(loc, message) for loc, message in cross_field_problems(data)]
    config: AimsConfig | None = None
    try:
        config = AimsConfig.model_validate(data, context={CROSS_CHECKED_CONTEXT_KEY: True})
    except ValidationError as exc:
        located.extend(_translate(error) for error in exc.errors())
    if check_key_files and config is not None and (
        config.trust.public_keys or any(p.public_keys for p in config.people)
    ):
        located.extend(trust_key_problems(config, base_dir=Path(source).parent))
    for loc, message in located:
        line = _line_of(root, loc)
        problems.append(
            (
                line,
                ERROR_PROBLEM.format(
                    source=source, line=line, path=format_loc(loc), message=message
                ),
            )
        )
    if problems:
        ordered: list[str] = []
        for _, problem in sorted(problems, key=lambda item: item[0]):
            if problem not in ordered:
                ordered.append(problem)
        raise ConfigError(ordered)
    assert config is not None
    return config


def locate_problems(text: str, located: list[tuple[Loc, str]], *, source: str) -> list[str]:
    """Problems found after loading (by a collector's own check, say) as the usual lines
    ``file:line: field: message``, the line looked up in ``text`` (a valid aims.yaml)."""
    loader = _FAST_LOADER(text) if c_loader_fits(text, limit=MAX_DEPTH + 1) else _Loader(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    lines = []
    for loc, message in located:
        line = _line_of(root, loc) if root is not None else 1
        lines.append(
            ERROR_PROBLEM.format(source=source, line=line, path=format_loc(loc), message=message)
        )
    return lines


def config_digest(config: AimsConfig) -> str:
    """SHA-256 (hex) of the canonical JSON of the configuration: changes with any edit."""
    payload = canonical_json(config.model_dump(mode="json"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


#: The date the shipped example's impact assessment carries; :func:`example_config_text`
#: replaces it, so a freshly written example does not start with a stale assessment.
EXAMPLE_ASSESSED_ON = "assessed_on: 2025-01-15"
#: Likewise the date of the example's risk review.
EXAMPLE_REVIEWED_ON = "reviewed_on: 2025-01-15"


def example_config_text(*, assessed_on: date | None = None) -> str:
    """The commented example ``aims.yaml`` shipped with the package (``aims init`` writes it),
    its impact assessment and risk review dated ``assessed_on`` (default: today, UTC)."""
    text = resources.files("aims_mlops.config").joinpath("example.yaml").read_text("utf-8")
    when = assessed_on or datetime.now(UTC).date()
    text = text.replace(EXAMPLE_ASSESSED_ON, f"assessed_on: {when.isoformat()}", 1)
    return text.replace(EXAMPLE_REVIEWED_ON, f"reviewed_on: {when.isoformat()}", 1)


# --------------------------------------------------------------------------- YAML
def _read_yaml(
    text: str, source: str
) -> tuple[yaml.MappingNode, dict[str, Any], list[tuple[int, str]]]:
    """The root node, the data and the duplicate-key problems (as ``(line, problem)``)."""
    if _FAST_LOADER is not _Loader and c_loader_fits(text, limit=MAX_DEPTH + 1):
        try:
            return _read_with(_FAST_LOADER, text, source)
        except ConfigError:
            pass  # read again by the pure-Python loader below: its error texts are the ones shown
    return _read_with(_Loader, text, source)


def _read_with(
    loader_class: type[Any], text: str, source: str
) -> tuple[yaml.MappingNode, dict[str, Any], list[tuple[int, str]]]:
    duplicates: list[tuple[int, str]] = []
    loader: Any = None
    try:
        loader = loader_class(text)  # reads the text at once: a NUL byte or the like fails here
        root = loader.get_single_node()
        if root is not None:
            _check_expansion(root, source)
            # before construction, which flattens merge keys ("<<") into the mappings
            duplicates = _duplicate_keys(root, source)
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or str(exc)
        if exc.problem and exc.context and not exc.context.startswith("while"):
            problem = f"{exc.context} {exc.problem}"  # "expected a single document ... but found"
        raise ConfigError(
            [ERROR_YAML_SYNTAX.format(source=source, line=line, problem=problem)]
        ) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([ERROR_YAML_SYNTAX.format(source=source, line=1, problem=exc)]) from exc
    except RecursionError as exc:  # the composer recurses once per level
        raise ConfigError([ERROR_TOO_DEEP.format(source=source, line=1, limit=MAX_DEPTH)]) from exc
    finally:
        if loader is not None:
            loader.dispose()
    if root is None or data is None:
        raise ConfigError([ERROR_EMPTY.format(source=source)])
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        raise ConfigError(
            [
                ERROR_NOT_MAPPING.format(
                    source=source, line=root.start_mark.line + 1, got=describe(data)
                )
            ]
        )
    return root, data, duplicates


def _children(node: yaml.Node) -> list[tuple[Any, yaml.Node, int]]:
    """(location part, child node, line of the child's key or item) of a mapping or list."""
    if isinstance(node, yaml.MappingNode):
        out: list[tuple[Any, yaml.Node, int]] = []
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            out.append(("[key]", key_node, line))
            out.append((_key_text(key_node) or "?", value_node, line))
        return out
    if isinstance(node, yaml.SequenceNode):
        return [(i, child, child.start_mark.line + 1) for i, child in enumerate(node.value)]
    return []


def _check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse an alias bomb, a recursive alias or too deep a nesting before anything walks the
    document (an alias is the anchored node itself: walking it expands it). Linear in the
    number of distinct nodes: the expanded size of each node is computed once."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    # iterative post-order walk: (node, location, line, children visited?)
    stack: list[tuple[yaml.Node, Loc, int, bool]] = [(root, (), root.start_mark.line + 1, False)]
    while stack:
        node, loc, line, visited = stack.pop()
        key = id(node)
        if visited:
            open_nodes.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for _, child, _ in _children(node))
            if sizes[key] > MAX_EXPANDED_NODES:
                message = MSG_EXPANSION.format(limit=MAX_EXPANDED_NODES)
                raise ConfigError(
                    [
                        ERROR_PROBLEM.format(
                            source=source, line=line, path=_path(loc), message=message
                        )
                    ]
                )
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise ConfigError(
                [
                    ERROR_PROBLEM.format(
                        source=source, line=line, path=_path(loc), message=MSG_RECURSIVE_ALIAS
                    )
                ]
            )
        if len(loc) > MAX_DEPTH:
            raise ConfigError([ERROR_TOO_DEEP.format(source=source, line=line, limit=MAX_DEPTH)])
        open_nodes.add(key)
        stack.append((node, loc, line, True))
        for part, child, child_line in reversed(_children(node)):
            if id(child) in open_nodes:
                raise ConfigError(
                    [
                        ERROR_PROBLEM.format(
                            source=source,
                            line=child_line,
                            path=_path((*loc, part)),
                            message=MSG_RECURSIVE_ALIAS,
                        )
                    ]
                )
            if id(child) not in sizes:
                stack.append((child, (*loc, part), child_line, False))


def _path(loc: Loc) -> str:
    return format_loc(tuple(p for p in loc if p != "[key]")) or "(top level)"


def _key_text(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _duplicate_keys(node: yaml.Node, source: str, loc: Loc = ()) -> list[tuple[int, str]]:
    """Every key that appears twice in one mapping (YAML would silently keep the last)."""
    found: list[tuple[int, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _key_text(key_node)
            line = key_node.start_mark.line + 1
            if key is not None and key != "<<":
                if key in seen:
                    message = ERROR_DUPLICATE_KEY.format(key=key, first=seen[key])
                    path = format_loc((*loc, key))
                    found.append(
                        (
                            line,
                            ERROR_PROBLEM.format(
                                source=source, line=line, path=path, message=message
                            ),
                        )
                    )
                else:
                    seen[key] = line
            found.extend(_duplicate_keys(value_node, source, (*loc, key if key else "?")))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.extend(_duplicate_keys(item, source, (*loc, index)))
    return found


def _line_of(root: yaml.Node, loc: Loc) -> int:
    """The 1-based line of the deepest node along ``loc`` that exists in the document.

    A location that ends in an existing key points at that key's line; one that ends in a key
    that is not there (a missing field) points at the line of the enclosing mapping.
    """
    node: yaml.Node = root
    line = root.start_mark.line + 1
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if _key_text(key_node) == str(part):
                    line = (key_node if last else value_node).start_mark.line + 1
                    node = value_node
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


# --------------------------------------------------------------------------- pydantic errors
def _unwrap(annotation: Any) -> Any:
    """Strip Annotated and Optional from a type annotation."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _annotation_at(loc: Loc) -> Any:
    """The (unwrapped) type annotation at a location of the document, or None."""
    annotation: Any = AimsConfig
    for part in loc:
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
        elif origin in (tuple, list):
            annotation = typing.get_args(annotation)[0]
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return None
    return _unwrap(annotation)


def _translate(error: Mapping[str, Any]) -> tuple[Loc, str]:
    """A pydantic error as ``(location, clear message)``."""
    loc: Loc = tuple(error["loc"])
    kind: str = error["type"]
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    got = describe(error.get("input"))
    key_error = bool(loc) and loc[-1] == "[key]"
    if key_error:
        loc = loc[:-1]
    if kind == "aims_field":
        return (*loc, *str(ctx["field"]).split(".")), str(ctx["message"])
    if kind == "aims_value":
        message = str(ctx["message"])
    elif kind == "extra_forbidden":
        model = _annotation_at(loc[:-1])
        allowed = (
            ", ".join(model.model_fields)
            if isinstance(model, type) and issubclass(model, BaseModel)
            else "(none)"
        )
        message = MSG_UNKNOWN_KEY.format(key=str(loc[-1]), allowed=allowed)
    elif kind == "missing":
        message = MSG_MISSING
    elif kind == "literal_error":
        literal = _annotation_at(loc)
        values = typing.get_args(literal) if typing.get_origin(literal) is typing.Literal else ()
        allowed = ", ".join(str(v) for v in values) if values else str(ctx.get("expected"))
        message = MSG_LITERAL.format(got=got, allowed=allowed)
    elif kind in _TYPE_WORDS:
        message = MSG_TYPE.format(what=_TYPE_WORDS[kind], got=got)
    elif kind == "value_error":
        message = str(error["msg"]).removeprefix("Value error, ")
    else:
        message = str(error["msg"])
    if key_error:
        message = f"key {message}"
    return loc, message
