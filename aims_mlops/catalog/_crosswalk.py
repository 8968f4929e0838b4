"""Crosswalks: how another framework's items map onto the catalog, as data.

Each framework has two files under the catalog package: ``frameworks/<id>.yaml``, its vocabulary
(the item ids it has, with optional titles and groups, its source and when that was last checked)
and ``crosswalks/<id>.yaml``, this project's mapping of those items onto catalog entries
(``maps_to``) and, optionally, the evidence kinds that serve them (``kinds``). Every crosswalk is
validated the same way; no framework has fields or code of its own.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from aims_mlops._errors import CatalogError
from aims_mlops._yaml import safe_load

ERROR_CROSSWALK_MALFORMED = "{source}: not a crosswalk document: {problem}"
ERROR_VOCABULARY_MALFORMED = "{source}: not a framework vocabulary: {problem}"
ERROR_NO_VOCABULARY = "{source}: framework {framework!r} has no vocabulary file {expected}"
ERROR_UNKNOWN_ITEM = "{source}: {item!r} is not an item of {framework} (see {vocabulary})"
ERROR_DUPLICATE_ITEM = "{source}: item {item!r} appears more than once"
ERROR_UNKNOWN_TARGET = "{source}: item {item!r} maps to {target!r}, which is not a catalog id"
ERROR_UNKNOWN_CROSSWALK_KIND = (
    "{source}: item {item!r} names evidence kind {kind!r}, which is not registered"
)
ERROR_EMPTY_MAPPING = "{source}: item {item!r} maps to no catalog entry"
ERROR_CONTROL_NOT_COVERED = (
    "{source}: Annex A control {control} maps to no item of {framework} (every_control is set)"
)
ERROR_UNKNOWN_FRAMEWORK = "unknown framework {framework!r}; known frameworks: {known}"

_CROSSWALK_FIELDS = ("framework", "every_control", "items")
_ITEM_FIELDS = ("id", "maps_to", "kinds", "note")
_VOCABULARY_FIELDS = ("id", "title", "source", "last_checked", "groups", "items", "notes")


@dataclass(frozen=True, kw_only=True)
class FrameworkItem:
    """One item of a framework (a NIST AI RMF subcategory, an EU AI Act article, ...)."""

    id: str
    title: str | None = None
    group: str | None = None
    extra: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class Framework:
    """A framework's vocabulary: its items and where they come from."""

    id: str
    title: str
    source: str
    last_checked: str
    groups: Mapping[str, str]
    items: tuple[FrameworkItem, ...]

    def item(self, item_id: str) -> FrameworkItem | None:
        return next((i for i in self.items if i.id == item_id), None)


@dataclass(frozen=True, kw_only=True)
class CrosswalkLink:
    """One framework item and the catalog entries (and evidence kinds) that serve it."""

    item: FrameworkItem
    maps_to: tuple[str, ...]
    kinds: tuple[str, ...] = ()
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.item.id,
            "title": self.item.title,
            "group": self.item.group,
            "maps_to": list(self.maps_to),
            "kinds": list(self.kinds),
            **({"note": self.note} if self.note else {}),
            **dict(self.item.extra or {}),
        }


@dataclass(frozen=True, kw_only=True)
class Crosswalk:
    """A framework and this project's mapping of its items onto the catalog."""

    framework: Framework
    links: tuple[CrosswalkLink, ...]

    @property
    def id(self) -> str:
        return self.framework.id

    def items_for(self, entry_id: str) -> tuple[str, ...]:
        """The framework item ids that ``entry_id`` serves, in the framework's order."""
        return tuple(link.item.id for link in self.links if entry_id in link.maps_to)

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework.id,
            "title": self.framework.title,
            "source": self.framework.source,
            "last_checked": self.framework.last_checked,
            "items": [link.to_dict() for link in self.links],
        }


def _load_yaml(text: str, *, source: str, error: str) -> Mapping[str, Any]:
    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(error.format(source=source, problem=exc)) from exc
    if not isinstance(data, Mapping):
        raise CatalogError(error.format(source=source, problem="expected a mapping"))
    return data


def _unknown_fields(raw: Mapping[str, Any], allowed: tuple[str, ...]) -> list[str]:
    return [str(k) for k in raw if k not in allowed]


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def parse_vocabulary(text: str, *, source: str) -> Framework:
    """A framework vocabulary from YAML text (see ``frameworks/nist-ai-rmf.yaml``)."""
    data = _load_yaml(text, source=source, error=ERROR_VOCABULARY_MALFORMED)

    def bad(problem: str) -> CatalogError:
        return CatalogError(ERROR_VOCABULARY_MALFORMED.format(source=source, problem=problem))

    unknown = _unknown_fields(data, _VOCABULARY_FIELDS)
    if unknown:
        raise bad(f"unknown field {unknown[0]!r}; allowed: {', '.join(_VOCABULARY_FIELDS)}")
    for field in ("id", "title", "source", "last_checked"):
        if not isinstance(data.get(field), str) or not str(data[field]).strip():
            raise bad(f"{field!r} must be a non-empty string")
    groups = data.get("groups") or {}
    if not isinstance(groups, Mapping):
        raise bad("'groups' must map group ids to titles")
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise bad("'items' must be a non-empty list")
    items: list[FrameworkItem] = []
    seen: set[str] = set()
    for raw in raw_items:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
            raise bad(f"every item needs a string 'id'; got {raw!r}")
        if raw["id"] in seen:
            raise bad(f"item {raw['id']!r} appears more than once")
        seen.add(raw["id"])
        group = raw.get("group")
        if group is not None and str(group) not in groups:
            raise bad(f"item {raw['id']!r} names group {group!r}, which 'groups' does not list")
        extra = {k: v for k, v in raw.items() if k not in ("id", "title", "group")}
        items.append(
            FrameworkItem(
                id=raw["id"],
                title=raw.get("title"),
                group=None if group is None else str(group),
                extra=extra or None,
            )
        )
    return Framework(
        id=data["id"],
        title=data["title"],
        source=data["source"],
        last_checked=str(data["last_checked"]),
        groups={str(k): str(v) for k, v in groups.items()},
        items=tuple(items),
    )


def parse_crosswalk(
    text: str,
    *,
    source: str,
    framework: Framework,
    catalog_ids: Collection[str],
    control_ids: Collection[str],
    kinds: Collection[str],
) -> Crosswalk:
    """A crosswalk from YAML text, checked against its framework's vocabulary and the catalog."""
    return _crosswalk_from_data(
        _load_yaml(text, source=source, error=ERROR_CROSSWALK_MALFORMED),
        source=source,
        framework=framework,
        catalog_ids=catalog_ids,
        control_ids=control_ids,
        kinds=kinds,
    )


def _crosswalk_from_data(
    data: Mapping[str, Any],
    *,
    source: str,
    framework: Framework,
    catalog_ids: Collection[str],
    control_ids: Collection[str],
    kinds: Collection[str],
) -> Crosswalk:

    def bad(problem: str) -> CatalogError:
        return CatalogError(ERROR_CROSSWALK_MALFORMED.format(source=source, problem=problem))

    unknown = _unknown_fields(data, _CROSSWALK_FIELDS)
    if unknown:
        raise bad(f"unknown field {unknown[0]!r}; allowed: {', '.join(_CROSSWALK_FIELDS)}")
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise bad("'items' must be a list")
    links: list[CrosswalkLink] = []
    seen: set[str] = set()
    for raw in raw_items:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
            raise bad(f"every item needs a string 'id'; got {raw!r}")
        item_id = raw["id"]
        unknown = _unknown_fields(raw, _ITEM_FIELDS)
        if unknown:
            raise bad(f"item {item_id!r}: unknown field {unknown[0]!r}")
        item = framework.item(item_id)
        if item is None:
            raise CatalogError(
                ERROR_UNKNOWN_ITEM.format(
                    source=source,
                    item=item_id,
                    framework=framework.title,
                    vocabulary=f"frameworks/{framework.id}.yaml",
                )
            )
        if item_id in seen:
            raise CatalogError(ERROR_DUPLICATE_ITEM.format(source=source, item=item_id))
        seen.add(item_id)
        maps_to, item_kinds = _strings(raw.get("maps_to")), _strings(raw.get("kinds"))
        if maps_to is None or item_kinds is None:
            raise bad(f"item {item_id!r}: 'maps_to' and 'kinds' must be lists of strings")
        if not maps_to:
            raise CatalogError(ERROR_EMPTY_MAPPING.format(source=source, item=item_id))
        for target in maps_to:
            if target not in catalog_ids:
                raise CatalogError(
                    ERROR_UNKNOWN_TARGET.format(source=source, item=item_id, target=target)
                )
        for kind in item_kinds:
            if kind not in kinds:
                raise CatalogError(
                    ERROR_UNKNOWN_CROSSWALK_KIND.format(source=source, item=item_id, kind=kind)
                )
        links.append(
            CrosswalkLink(item=item, maps_to=maps_to, kinds=item_kinds, note=raw.get("note"))
        )
    if data.get("every_control"):
        covered = {target for link in links for target in link.maps_to}
        for control in control_ids:
            if control not in covered:
                raise CatalogError(
                    ERROR_CONTROL_NOT_COVERED.format(
                        source=source, control=control, framework=framework.title
                    )
                )
    return Crosswalk(framework=framework, links=tuple(links))


def load_crosswalks(
    *, catalog_ids: Collection[str], control_ids: Collection[str], kinds: Collection[str]
) -> dict[str, Crosswalk]:
    """Every crosswalk shipped in the catalog package, by framework id."""
    package = importlib.resources.files("aims_mlops.catalog")
    crosswalks: dict[str, Crosswalk] = {}
    for resource in sorted(package.joinpath("crosswalks").iterdir(), key=lambda r: r.name):
        if not resource.name.endswith(".yaml"):
            continue
        source = f"crosswalks/{resource.name}"
        data = _load_yaml(
            resource.read_text(encoding="utf-8"), source=source, error=ERROR_CROSSWALK_MALFORMED
        )
        framework_id = data.get("framework")
        vocabulary = package.joinpath("frameworks").joinpath(f"{framework_id}.yaml")
        if not isinstance(framework_id, str) or not vocabulary.is_file():
            raise CatalogError(
                ERROR_NO_VOCABULARY.format(
                    source=source,
                    framework=framework_id,
                    expected=f"frameworks/{framework_id}.yaml",
                )
            )
        framework = parse_vocabulary(
            vocabulary.read_text(encoding="utf-8"), source=f"frameworks/{framework_id}.yaml"
        )
        crosswalks[framework.id] = _crosswalk_from_data(
            data,
            source=source,
            framework=framework,
            catalog_ids=catalog_ids,
            control_ids=control_ids,
            kinds=kinds,
        )
    return crosswalks
