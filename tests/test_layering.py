"""Layering: connectors/ and streams/ meet only at topics; channels/ is declared below both of them;
deploy/ starts things and sits below the CLI."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported_packages(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package,forbidden", [("connectors", "streams"), ("streams", "connectors")])
def test_packages_do_not_import_each_other(package, forbidden):
    assert forbidden not in _imported_packages(package)


@pytest.mark.parametrize("forbidden", ["connectors", "streams", "deploy"])
def test_channels_import_neither_side_nor_deploy(forbidden):
    # Both sides import the channels' declarations; connectors and simulators are named as strings.
    assert forbidden not in _imported_packages("channels")


@pytest.mark.parametrize("package", ["schemas", "switchboard"])
def test_shared_packages_import_neither_side_at_module_level(package):
    # switchboard.cli may start either side, but only lazily inside its command handlers.
    for path in (ROOT / package).rglob("*.py"):
        top_level = [n for n in ast.parse(path.read_text()).body if isinstance(n, (ast.Import, ast.ImportFrom))]
        modules = {(n.module or "") if isinstance(n, ast.ImportFrom) else a.name
                   for n in top_level for a in getattr(n, "names", [])}
        assert not any(m.split(".")[0] in ("connectors", "streams") for m in modules), path


def _module_files(*packages: str) -> dict[str, Path]:
    """Dotted module name → file, for every module of the packages (a package is its __init__)."""
    files = {}
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


def _imports_of(module: str, path: Path) -> set[str]:
    """Every module `path` imports, at module level or inside a function (a lazy import still
    closes a cycle), as absolute names; `from a import b` yields `a` and `a.b`."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]) if node.level else ""
            source = ".".join(p for p in (base, node.module or "") if p)
            found |= {source} | {f"{source}.{alias.name}" for alias in node.names}
    return found


def _import_graph(*packages: str) -> dict[str, set[str]]:
    """module → the modules of `packages` it imports (the CLI also imports its ROLES' modules)."""
    from switchboard.cli import ROLES

    files = _module_files(*packages)
    graph = {m: {t for t in _imports_of(m, path) if t in files and t != m} for m, path in files.items()}
    graph["switchboard.cli"] |= {target.split(":")[0] for target, _ in ROLES.values()} & set(files)
    return graph


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_deploy_does_not_import_the_cli():
    # deploy/ starts things; the command line is built on top of it, never below it.
    graph = _import_graph("deploy", "switchboard")
    assert not [m for m in graph if m.startswith("deploy") and "switchboard.cli" in graph[m]]


def test_no_import_cycle_between_switchboard_and_deploy():
    graph = _import_graph("deploy", "switchboard")
    cycles = [(s, d) for s in graph if s.startswith("switchboard") for d in _reachable(graph, s)
              if d.startswith("deploy") and s in _reachable(graph, d)]
    assert not cycles, f"switchboard/ and deploy/ import each other: {cycles}"
