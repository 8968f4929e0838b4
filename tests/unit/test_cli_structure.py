"""One CLI style: every command is declared in a family module and added by its ``register()``;
``cli/_main.py`` only builds the root group from its declared list of families; each group has
one owner module; the families share code only through ``cli/_options.py``."""

from __future__ import annotations

import ast
from pathlib import Path

import click

import aims_mlops.cli
from aims_mlops.cli import _main

CLI_DIR = Path(aims_mlops.cli.__file__).parent
#: Modules of the package that are not command families.
NOT_FAMILIES = {"__init__", "__main__", "_main", "_options"}


def _family_files() -> dict[str, Path]:
    return {
        path.stem: path
        for path in sorted(CLI_DIR.glob("_*.py"))
        if path.stem not in NOT_FAMILIES
    }


def _is_click_declaration(decorator: ast.expr) -> bool:
    """``@click.command``, ``@click.group``, ``@x.command(...)``, ``@x.group(...)``."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and target.attr in {"command", "group"}


def _declared_commands(tree: ast.Module) -> list[str]:
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(_is_click_declaration(d) for d in node.decorator_list)
    ]


def _add_command_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "add_command"
    ]


def _register(tree: ast.Module) -> ast.FunctionDef | None:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "register":
            return node
    return None


def test_every_module_of_the_cli_is_a_family_or_named_infrastructure() -> None:
    families = _family_files()
    assert set(families) == {module.__name__.rsplit(".", 1)[1] for module in _main.FAMILIES}, (
        "every cli/_<family>.py is listed in cli/_main.py FAMILIES, and only those"
    )
    for name, path in families.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert _register(tree) is not None, f"cli/{name}.py has no register(group)"


def test_commands_are_added_only_inside_register() -> None:
    for name, path in _family_files().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        register = _register(tree)
        assert register is not None
        inside = {id(call) for call in _add_command_calls(register)}
        outside = [c.lineno for c in _add_command_calls(tree) if id(c) not in inside]
        assert outside == [], f"cli/{name}.py adds commands outside register(): lines {outside}"
        assert _declared_commands(register) == [], f"cli/{name}.py declares inside register()"


def test_infrastructure_modules_declare_no_command() -> None:
    for name in ("__init__", "_options"):
        tree = ast.parse((CLI_DIR / f"{name}.py").read_text(encoding="utf-8"))
        assert _declared_commands(tree) == [], f"cli/{name}.py declares a command"
        assert _add_command_calls(tree) == [], f"cli/{name}.py adds a command"
    main = ast.parse((CLI_DIR / "_main.py").read_text(encoding="utf-8"))
    assert _declared_commands(main) == ["root"], "cli/_main.py declares only the root group"
    assert _add_command_calls(main) == [], "cli/_main.py adds no command itself"


def test_families_share_code_only_through_options() -> None:
    families = set(_family_files())
    for name, path in _family_files().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                target = node.module.rsplit(".", 1)[-1]
                imported = {target} | {a.name for a in node.names}
                if node.module.startswith("aims_mlops.cli"):
                    assert not (imported & families - {name}), (
                        f"cli/{name}.py imports another family ({node.module})"
                    )


def _walk(group: click.Group, path: str) -> list[tuple[str, click.Group]]:
    found = [(path, group)]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.extend(_walk(command, f"{path} {name}"))
    return found


def test_each_group_has_one_owner_module() -> None:
    """A group's commands are declared in the module that declares the group; the root's
    commands each come from a family listed in FAMILIES (never from _main)."""
    root = _main.build_cli()
    family_modules = {module.__name__ for module in _main.FAMILIES}
    for name, command in root.commands.items():
        assert command.callback is not None
        assert command.callback.__module__ in family_modules, f"aims {name}"
    for path, group in _walk(root, "aims")[1:]:
        assert group.callback is not None
        owner = group.callback.__module__
        for name, command in group.commands.items():
            assert command.callback is not None
            assert command.callback.__module__ == owner, (
                f"{path} {name} is declared in {command.callback.__module__}, "
                f"the group in {owner}"
            )


def test_a_family_registers_only_when_called() -> None:
    """Importing the families registers nothing: an empty list of families, an empty root."""
    assert _main.build_cli(()).commands == {}
    assert set(_main.build_cli().commands) == set(aims_mlops.cli.cli.commands)


def test_the_record_group_holds_its_commands_once() -> None:
    record = aims_mlops.cli.cli.commands["record"]
    assert isinstance(record, click.Group)
    assert sorted(record.commands) == [
        "acknowledgement",
        "incident",
        "incident-report",
        "internal-audit",
        "management-review",
        "training",
    ]
