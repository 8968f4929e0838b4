"""The key a person's act is signed with: theirs, never the pipeline's.

:func:`act_signing_key` is the one decision for every act (attest, config approve, record
internal-audit / management-review, nc update / verify, incident report): the key given
(``--key``) or ``$AIMS_PERSON_KEY``; refused when it is a pipeline key (``$AIMS_SIGNING_KEY``,
``.aims/keys/pipeline.key`` beside aims.yaml, or a key ``trust.public_keys`` lists) or, with
``people:`` declared, when it is not a key of the person named. With people who hold keys
declared, an act without a person's key is refused; a configuration that lists no people keys
keeps the earlier behaviour (the pipeline key, and every output says names are typed).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from aims_mlops._errors import AimsError
from aims_mlops.capture._context import CaptureContext, get_session
from aims_mlops.config import AimsConfig, load_config
from aims_mlops.config._models import named_person
from aims_mlops.evidence import SigningKeyError, load_public_key
from aims_mlops.evidence._signing import ENV_PERSON_KEY, person_key, pipeline_key
from aims_mlops.evidence._trust import resolve_key_path

if TYPE_CHECKING:
    from aims_mlops.config import Person
    from aims_mlops.evidence import SigningKey
    from aims_mlops.store import EvidenceStore

ERROR_ACT_NEEDS_KEY = (
    "a person's act is signed with that person's own key: give --key FILE (or set "
    f"${ENV_PERSON_KEY}) with the private key of {{who}}"
)
ERROR_PIPELINE_KEY_FOR_ACT = (
    "key {key_id} is a pipeline key ({why}); a person's act is never signed with it: give "
    "--key FILE with your own key"
)
ERROR_KEY_NOT_THE_PERSONS = (
    "key {key_id} is not one of {name}'s public keys in aims.yaml people:{owner}"
)
ERROR_UNKNOWN_SIGNER = (
    "key {key_id} is not the public key of anyone listed in aims.yaml people:; list it under "
    "your name (people[].public_keys) and have the change approved"
)
ERROR_NOT_LISTED = "{name!r} is not listed in aims.yaml people: ({known})"
WHY_ENV = "the key pipelines sign captured evidence with"
WHY_TRUST = "listed in trust.public_keys"


class PersonKeyError(AimsError):
    """A person's act would not be signed by that person."""


def _people_keys(config: AimsConfig, base: Path) -> dict[str, Person]:
    found: dict[str, Person] = {}
    for person in config.people:
        for path in person.public_keys:
            try:
                found[load_public_key(resolve_key_path(path, base)).key_id] = person
            except SigningKeyError:
                continue  # the loader names a bad key file with its line
    return found


def declares_people_keys(config: AimsConfig | None) -> bool:
    """Whether ``config`` lists people with public keys (acts must then be signed by them)."""
    return config is not None and any(p.public_keys for p in config.people)


def _listed(config: AimsConfig | None, by: str | None) -> str | None:
    """The listed person's name ``by`` designates; ``by`` as given when ``people:`` is not
    declared; :class:`PersonKeyError` when it is declared and ``by`` is not one of them."""
    if by is None or config is None or not config.people:
        return by
    person = named_person(config, by)
    if person is None:
        known = ", ".join(p.name for p in config.people)
        raise PersonKeyError(ERROR_NOT_LISTED.format(name=by, known=known))
    return person.name


def _pipeline_ids(config: AimsConfig | None, base: Path) -> dict[str, str]:
    ids: dict[str, str] = {}
    try:
        found = pipeline_key(base)
    except SigningKeyError:
        found = None
    if found is not None:
        ids[found.key_id] = WHY_ENV
    if config is not None:
        for path in config.trust.public_keys:
            try:
                ids.setdefault(load_public_key(resolve_key_path(path, base)).key_id, WHY_TRUST)
            except SigningKeyError:
                continue
    return ids


def act_signing_key(
    config: AimsConfig | None,
    *,
    config_path: str | os.PathLike[str] | None,
    by: str | None,
    key: SigningKey | str | os.PathLike[str] | None = None,
) -> tuple[str | None, SigningKey | None]:
    """``(the person's name, the key)`` an act by ``by`` is signed with (see the module
    docstring). ``by`` None: the name is the person whose key it is. :class:`PersonKeyError`
    when the act would not be signed by that person."""
    base = Path(config_path).parent if config_path is not None else Path(".")
    signing = key if key is None or hasattr(key, "sign") else None
    if key is not None and signing is None:
        signing = person_key(key)  # type: ignore[arg-type]
    if signing is None:
        signing = person_key(None)
    required = declares_people_keys(config)
    if signing is None:
        if required:
            raise PersonKeyError(ERROR_ACT_NEEDS_KEY.format(who=by or "the person who acts"))
        listed = _listed(config, by)  # no people keys declared: a listed name, unproven
        return listed, pipeline_key(base)
    why = _pipeline_ids(config, base).get(signing.key_id)
    if why is not None:
        raise PersonKeyError(ERROR_PIPELINE_KEY_FOR_ACT.format(key_id=signing.key_id, why=why))
    if config is None or not config.people:
        return by, signing
    owners = _people_keys(config, base)
    holder = owners.get(signing.key_id)
    if by is None:
        if holder is None:
            raise PersonKeyError(ERROR_UNKNOWN_SIGNER.format(key_id=signing.key_id))
        return holder.name, signing
    person = named_person(config, by)
    if person is None:
        known = ", ".join(p.name for p in config.people)
        raise PersonKeyError(ERROR_NOT_LISTED.format(name=by, known=known))
    if holder is None or holder.name != person.name:
        owner = f" (it is {holder.name}'s)" if holder is not None else ""
        raise PersonKeyError(
            ERROR_KEY_NOT_THE_PERSONS.format(key_id=signing.key_id, name=person.name, owner=owner)
        )
    return person.name, signing


def act_context(
    config: str | os.PathLike[str] | AimsConfig | None,
    *,
    by: str | None,
    key: SigningKey | str | os.PathLike[str] | None,
    system: str | None = None,
    store: EvidenceStore | None = None,
) -> tuple[str | None, CaptureContext]:
    """``(the person's name, the capture context signing with their key)`` for an act by
    ``by`` under ``config`` (a path, a loaded configuration, or None: the session's)."""
    if config is None:
        session = get_session()
        name, signing = act_signing_key(
            session.config, config_path=session.config_path, by=by, key=key
        )
        context = session.context(key_required=signing is None).with_system(system)
        if store is not None:
            context = replace(context, store=store)
        return name, replace(context, act_key=signing)
    if isinstance(config, AimsConfig):
        cfg, path = config, None
    else:
        path = Path(config)
        cfg = load_config(path)
    name, signing = act_signing_key(cfg, config_path=path, by=by, key=key)
    context = CaptureContext.from_config(cfg, store=store, system=system, config_path=path)
    return name, replace(context, act_key=signing)
