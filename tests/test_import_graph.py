"""The import graph of levydyn, nn_bridge and cli, read from the sources (nothing is imported).

Every ``import`` and ``from ... import`` statement counts, at module level or inside a
function (a function-local import still ties the two modules together; it only delays the
cost), and so do ``importlib.import_module("pkg.mod")`` with a literal name and lazy
``"pkg.mod:attr"`` entry points (the CLI's subcommand table). An arrow goes from a module to the project module it imports; ``from pkg import name``
points at ``pkg.name`` when that is a module, else at ``pkg``. Importing ``a.b.c`` also runs
the packages ``a`` and ``a.b``, but those arrows are left out: a package's ``__init__`` that
re-exports its submodules would otherwise close a loop with every submodule that imports a
sibling through the package path, which Python resolves without harm. Dependencies must point
one way (DESIGN.md: cli -> nn_bridge -> levydyn; experiments -> kesten/solvers/theory ->
model), so any cycle is an error, reported with its modules in order.

Also: no module in these packages over ``MAX_LINES`` lines (the project's standard).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("levydyn", "nn_bridge", "cli")
MAX_LINES = 800


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """``{dotted module name: file}`` for every .py file of the packages."""
    out = {}
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[:len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([target] if target else []))


def imports_of(module: str, path: Path, modules: set[str]) -> set[str]:
    """Project modules that ``module`` imports anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found = set()

    def add(name: str) -> None:
        # the longest prefix of ``name`` that is a project module
        parts = name.split(".")
        for k in range(len(parts), 0, -1):
            cand = ".".join(parts[:k])
            if cand in modules:
                if cand != module:
                    found.add(cand)
                return

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module" \
                and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            add(node.args[0].value)                    # importlib.import_module("pkg.mod")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and node.value.count(":") == 1 and node.value.split(":")[0] in modules:
            add(node.value.split(":")[0])              # a lazy "pkg.mod:attr" entry point
        elif isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = (_resolve_relative(module, is_package, node.level, node.module)
                    if node.level else node.module or "")
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                add(sub if sub in modules else base)
    return found


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = module_files(root)
    names = set(files)
    return {m: imports_of(m, p, names) for m, p in files.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle ``[a, b, ..., a]`` of the directed graph, or None (iterative DFS)."""
    WHITE, GREY, BLACK = 0, 1, 2
    color = {m: WHITE for m in graph}
    for start in sorted(graph):
        if color[start] != WHITE:
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        color[start] = GREY
        while stack:
            node, children = stack[-1]
            for child in children:
                if color.get(child, BLACK) == GREY:
                    return path[path.index(child):] + [child]
                if color.get(child) == WHITE:
                    color[child] = GREY
                    path.append(child)
                    stack.append((child, iter(sorted(graph[child]))))
                    break
            else:
                color[node] = BLACK
                path.pop()
                stack.pop()
    return None


def test_graph_sees_every_package_and_a_known_arrow():
    """The parser finds the modules and the arrows it must (a broken walker passes the
    cycle test vacuously): simulate -> model.problem (module level), kesten.models ->
    kesten.gaussian_ls (inside a method), cli.main -> cli.escape (lazy entry point)."""
    graph = import_graph()
    assert {"levydyn", "nn_bridge", "cli"} <= set(graph)
    assert "levydyn.model.problem" in graph["levydyn.simulate"]
    assert "levydyn.kesten.gaussian_ls" in graph["levydyn.kesten.models"]
    assert "cli.escape" in graph["cli.main"]


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_cycle_finder_reports_a_planted_cycle(tmp_path):
    """A planted loop a -> b (function-local) -> c -> a is found and named in order."""
    pkg = tmp_path / "levydyn"
    pkg.mkdir()
    (tmp_path / "nn_bridge").mkdir()
    (tmp_path / "cli").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from levydyn import b\n")
    (pkg / "b.py").write_text("def f():\n    from .c import g\n    return g\n")
    (pkg / "c.py").write_text("import levydyn.a\n")
    cycle = find_cycle(import_graph(tmp_path))
    assert cycle == ["levydyn.a", "levydyn.b", "levydyn.c", "levydyn.a"]
    (pkg / "c.py").write_text("import levydyn\n")
    assert find_cycle(import_graph(tmp_path)) is None


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_max_lines(package):
    long = {str(p.relative_to(ROOT)): n for m, p in module_files().items()
            if m.split(".")[0] == package
            and (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
