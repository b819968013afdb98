"""The package's layers hold: imports point down only, no cycles, no private names across packages.

The layers, lowest first::

    degeneracy.errors, degeneracy.validation      (import nothing of the package)
    degeneracy.theory
    degeneracy.numerics
    degeneracy.proofs
    degeneracy.figures
    degeneracy.<shell>   cli, execution, cache, bench, readme, ...
    degeneracy           (the package root: the lazy public API)

The graph is read from the source with :mod:`ast` (every import, also inside functions), so a
lazy import cannot hide an upward arrow.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLDERS = {"degeneracy": "degeneracy", "theory": "degeneracy.theory", "numerics": "degeneracy.numerics",
           "proofs": "degeneracy.proofs", "figures": "degeneracy.figures"}
BASE = {"degeneracy.errors", "degeneracy.validation"}
RANK = {"theory": 1, "numerics": 2, "proofs": 3, "figures": 4}
BARE = {"theory", "numerics", "proofs", "figures"}


def _modules() -> dict[str, pathlib.Path]:
    out = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).glob("*.py")):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            out[name] = path
    return out


MODULES = _modules()


def _package(module: str) -> str:
    """The layer package of a module: 'degeneracy.theory', ..., or 'degeneracy' for the shell."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in RANK:
        return ".".join(parts[:2])
    return "degeneracy"


def rank(module: str) -> int:
    if module in BASE:
        return 0
    if module == "degeneracy":
        return 6
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in RANK:
        return RANK[parts[1]]
    return 5


def _is_package(module: str) -> bool:
    return MODULES.get(module, pathlib.Path()).name == "__init__.py"


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not _is_package(module):
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str) -> list[tuple[str, str, int]]:
    """``(imported module, imported name or '', line)`` for every import of ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                out.append((a.name, "", node.lineno))
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for a in node.names:
                sub = f"{target}.{a.name}"
                if sub in MODULES:  # `from package import module`
                    out.append((sub, "", node.lineno))
                else:
                    out.append((target, a.name, node.lineno))
    return out


def _edges() -> dict[str, set[str]]:
    graph = {m: set() for m in MODULES}
    for m in MODULES:
        for target, _, _ in imports(m):
            t = target
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != m:
                graph[m].add(t)
    return graph


def test_the_modules_are_found():
    assert "degeneracy.theory.products" in MODULES and "degeneracy.cli" in MODULES
    assert len(MODULES) > 40


def test_no_bare_top_level_imports():
    bad = [f"{m}:{line} imports {t}" for m in MODULES for t, _, line in imports(m) if t.split(".")[0] in BARE]
    assert not bad, "import the layers as degeneracy.<layer>, never bare:\n" + "\n".join(bad)


def test_imports_point_down_only():
    bad = []
    for m in MODULES:
        for target, _, line in imports(m):
            if not target.startswith("degeneracy"):
                continue
            if m == "degeneracy" or target == "degeneracy" and not _:
                continue
            t = target
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if not t or t == m:
                continue
            if rank(t) > rank(m):
                bad.append(f"{m} (layer {rank(m)}) imports {t} (layer {rank(t)}) at line {line}")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_no_import_of_the_package_root_from_inside():
    bad = [f"{m}:{line} imports {name!r} from the package root"
           for m in MODULES if m != "degeneracy"
           for t, name, line in imports(m) if t == "degeneracy" and name and f"degeneracy.{name}" not in MODULES]
    assert not bad, "\n".join(bad)


def test_no_private_names_across_packages():
    bad = []
    for m, path in MODULES.items():
        own = _package(m)
        aliases = {}
        for target, name, line in imports(m):
            if not target.startswith("degeneracy"):
                continue
            t_pkg = _package(target)
            mod_private = any(part.startswith("_") and part != "__init__" for part in target.split("."))
            if t_pkg != own and (mod_private or (name.startswith("_") and name != "__version__")):
                bad.append(f"{m}:{line} imports {target}{':' + name if name else ''}")
        # attribute access on imported modules: `from degeneracy.numerics import products as nprod; nprod._x`
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _resolve(m, node)
                for a in node.names:
                    if f"{target}.{a.name}" in MODULES:
                        aliases[a.asname or a.name] = f"{target}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in MODULES and a.asname:
                        aliases[a.asname] = a.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")
                    and _package(aliases[node.value.id]) != own):
                bad.append(f"{m}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not bad, "private names used across packages:\n" + "\n".join(bad)


def test_no_import_cycles():
    graph = _edges()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append(" -> ".join(stack[stack.index(t):] + [t]))
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


#: modules still to be split (issue 10); each entry is removed by the change that splits it
_TO_SPLIT: set = set()


@pytest.mark.parametrize("module", [
    pytest.param(m, marks=pytest.mark.xfail(strict=True, reason="to be split")) if m in _TO_SPLIT else m
    for m in sorted(m for m in MODULES if m.startswith(("degeneracy.theory", "degeneracy.numerics", "degeneracy.proofs")))
])
def test_modules_hold_one_idea(module):
    """No module of theory/, numerics/, proofs/ is longer than about 700 lines unless its docstring says
    why it is one idea (a line starting ``One idea:``)."""
    text = MODULES[module].read_text(encoding="utf-8")
    lines = text.count("\n")
    doc = ast.get_docstring(ast.parse(text)) or ""
    assert lines <= 750 or "One idea:" in doc, f"{module} has {lines} lines and no 'One idea:' paragraph"


def test_every_exception_class_derives_from_the_root():
    import importlib
    import inspect

    from degeneracy.errors import DegeneracyError

    bad = []
    for m in MODULES:
        mod = importlib.import_module(m)
        for name, obj in vars(mod).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == m
                    and not name.startswith("_") and not issubclass(obj, DegeneracyError)):
                bad.append(f"{m}.{name}")
    assert not bad, "exceptions outside DegeneracyError:\n" + "\n".join(bad)


def test_the_public_api():
    import degeneracy

    for name in degeneracy.__all__:
        assert getattr(degeneracy, name) is not None
    assert degeneracy.__version__
    assert issubclass(degeneracy.ArgumentValueError, ValueError)
    assert issubclass(degeneracy.ArgumentTypeError, TypeError)
    with pytest.raises(AttributeError):
        degeneracy.no_such_name  # noqa: B018
    with pytest.raises(degeneracy.ArgumentValueError, match="depth"):
        degeneracy.fuss_catalan(0)
