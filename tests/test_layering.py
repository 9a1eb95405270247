"""connectors/ and streams/ meet only at topics: neither imports the other."""
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


@pytest.mark.parametrize("package", ["schemas", "switchboard"])
def test_shared_packages_import_neither_side_at_module_level(package):
    # switchboard.cli may start either side, but only lazily inside its command handlers.
    for path in (ROOT / package).rglob("*.py"):
        top_level = [n for n in ast.parse(path.read_text()).body if isinstance(n, (ast.Import, ast.ImportFrom))]
        modules = {(n.module or "") if isinstance(n, ast.ImportFrom) else a.name
                   for n in top_level for a in getattr(n, "names", [])}
        assert not any(m.split(".")[0] in ("connectors", "streams") for m in modules), path
