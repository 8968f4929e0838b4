"""No import cycles in aims_mlops, counting the imports inside functions too.

Two graphs: the imports that run when a module is imported (module level, outside ``if
TYPE_CHECKING:`` and ``if __name__ == "__main__":``), and every import a module makes, inside
functions included. Neither has a cycle. An import inside a function is how a heavy library
loads on first use: between the project's own modules it is allowed only towards a module that
loads a heavy library at import time, in the package root's lazy public API and in the MLflow
plugin (MLflow loads it in the middle of ``import mlflow``).
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "aims_mlops"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


#: Third-party libraries that load on first use (inside functions).
HEAVY = {
    "mlflow", "great_expectations", "fairlearn", "ipywidgets", "pyspark", "presidio_analyzer",
    "presidio_anonymizer", "sklearn", "pandas", "numpy", "scipy", "IPython", "click",
}  # fmt: skip
#: Modules whose function-level imports of project modules are their design, not a dodge.
LAZY_BY_DESIGN = {
    "aims_mlops": "the lazy public API: `import aims_mlops` loads nothing heavy",
    "aims_mlops.integrations.mlflow_plugin": "loaded by MLflow in the middle of `import mlflow`",
}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_main_block(node: ast.If) -> bool:
    """``if __name__ == "__main__":``: runs when the file is a script, never on import."""
    test = node.test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
    )


def _names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = module.split(".")
        anchor = anchor if is_package else anchor[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _function_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement inside a function (at any depth)."""
    found = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            found.extend(
                node for node in ast.walk(function) if isinstance(node, ast.Import | ast.ImportFrom)
            )
    return list({id(node): node for node in found}.values())


def _import_time_imports(tree: ast.Module, module: str, is_package: bool) -> set[str]:
    found: set[str] = set()
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and not (_is_type_checking(node) or _is_main_block(node)):
            stack.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            stack.extend(node.body + node.orelse + node.finalbody)
            for handler in node.handlers:
                stack.extend(handler.body)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("aims_mlops")}


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}


def _edges(name: str, imports: set[str], modules: dict[str, Path]) -> set[str]:
    edges = set()
    for target in imports:
        # importing a.b.c runs a, a.b and a.b.c
        parts = target.split(".")
        for end in range(1, len(parts) + 1):
            candidate = ".".join(parts[:end])
            if candidate in modules and candidate != name:
                edges.add(candidate)
    # a module's own packages are imported before it: they are not its dependencies
    return {e for e in edges if not name.startswith(e + ".")}


def _graph(*, in_functions: bool = False) -> dict[str, set[str]]:
    """Module -> the project modules it imports (with ``in_functions``: inside functions too,
    but not the lazy-by-design modules' function-level imports)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        is_package = path.name == "__init__.py"
        imports = _import_time_imports(tree, name, is_package)
        if in_functions and name not in LAZY_BY_DESIGN:
            for node in _function_imports(tree):
                imports.update(
                    n for n in _names(node, name, is_package) if n.startswith("aims_mlops")
                )
        graph[name] = _edges(name, imports, modules)
    return graph


def heavy_modules() -> set[str]:
    """Project modules that load a heavy library when imported (directly or through another)."""
    modules = _modules()
    direct, graph = set(), _graph()
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        stack: list[ast.stmt] = list(tree.body)
        while stack:
            node = stack.pop()
            if isinstance(node, ast.If) and not (_is_type_checking(node) or _is_main_block(node)):
                stack.extend(node.body + node.orelse)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names = _names(node, name, path.name == "__init__.py")
                if any(n.split(".")[0] in HEAVY for n in names):
                    direct.add(name)
    heavy, grown = set(direct), True
    while grown:
        grown = False
        for name, targets in graph.items():
            if name not in heavy and targets & heavy:
                heavy.add(name)
                grown = True
    return heavy


def function_level_project_imports() -> list[tuple[str, int, str]]:
    """(module, line, imported module) of every function-level import of a project module."""
    modules, found = _modules(), []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _function_imports(tree):
            names = _names(node, name, path.name == "__init__.py")
            if names[0].startswith("aims_mlops"):
                target = max(
                    (n for n in names if n in modules), key=len, default=names[0]
                )
                found.append((name, node.lineno, target))
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_module_graph_has_no_cycle() -> None:
    graph = _graph()
    assert len(graph) > 50  # the scan found the package
    assert _cycles(graph) == []


def test_no_cycle_counting_imports_inside_functions() -> None:
    """An import moved into a function still ties the two modules: no cycle either way."""
    assert _cycles(_graph(in_functions=True)) == []


def test_imports_inside_functions_only_load_heavy_modules() -> None:
    heavy = heavy_modules()
    assert {"aims_mlops.views._dashboard", "aims_mlops.cli._main"} <= heavy
    assert "aims_mlops.capture" not in heavy and "aims_mlops.engine" not in heavy
    dodges = [
        f"{module}:{line} imports {target} inside a function"
        for module, line, target in function_level_project_imports()
        if module not in LAZY_BY_DESIGN and target not in heavy
    ]
    assert dodges == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
