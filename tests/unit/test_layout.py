"""The shape of the code: no import cycle, each plane imports only what it may, small modules.

- No cycle among the modules of `sfu`, `signaling`, `rooms` and `web`, counting every import
  (module level, inside functions and under `TYPE_CHECKING` alike).
- `sfu` knows nothing of the control plane; `signaling` never imports `rooms` or `web`, and
  reaches the SFU only through its seam (`sfu.api` and the value types beside it); signaling's
  core imports none of its facets (but their settings); `rooms` depends only on signaling's
  core and accounts.
- Importing every module of `signaling` and `rooms` loads no aiortc.
- No production module is over 450 lines.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("sfu", "signaling", "rooms", "web")
MAX_LINES = 450

SFU_SEAM = {"sfu", "sfu.api", "sfu.ids", "sfu.config", "sfu.recording_files"}
"""What the control plane may import of the SFU: the client interface and its value types."""
SIGNALING_CORE = {"signaling", "signaling.config", "signaling.store", "signaling.errors",
                  "signaling.ids", "signaling.spans", "signaling.forwarded",
                  "signaling.config_loading"}
SETTINGS = {"signaling.quality.settings", "signaling.records.policy"}
"""Facet modules of plain settings and rules that the core's configuration reads."""
ROOMS_MAY_IMPORT = ("signaling.accounts",)
"""Besides signaling's core, the subpackages `rooms` may import."""


def module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_names(module: str, path: Path) -> Iterator[str]:
    """Every dotted name an import statement of the module names, resolved to absolute."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (a `from m import name` of a submodule counts)."""
    modules = module_files()
    return {module: {name for name in imported_names(module, path)
                     if name in modules and name != module}
            for module, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(graph)))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_cycles_are_found_by_the_check() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def forbidden_imports() -> list[str]:
    problems = []
    for module, imported in import_graph().items():
        top = module.split(".")[0]
        for name in sorted(imported):
            target = name.split(".")[0]
            if top == "sfu" and target != "sfu":
                problems.append(f"{module} imports {name}: the SFU knows no control plane")
            elif top == "signaling" and target in ("rooms", "web"):
                problems.append(f"{module} imports {name}")
            elif top in ("signaling", "rooms") and target == "sfu" and name not in SFU_SEAM:
                problems.append(f"{module} imports {name}, past the SFU's client interface")
            elif (module in SIGNALING_CORE and target == "signaling"
                  and name not in SIGNALING_CORE | SETTINGS):
                problems.append(f"{module} imports {name}: the core imports no facet")
            elif top == "rooms" and target == "web":
                problems.append(f"{module} imports {name}")
            elif (top == "rooms" and target == "signaling" and name not in SIGNALING_CORE
                  and not name.startswith(ROOMS_MAY_IMPORT)):
                problems.append(f"{module} imports {name}: rooms use only signaling's core "
                                "and accounts")
    return problems


def test_each_plane_imports_only_what_it_may() -> None:
    assert forbidden_imports() == []


def test_the_control_plane_loads_no_aiortc() -> None:
    modules = [m for m in module_files() if m.split(".")[0] in ("signaling", "rooms")]
    script = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
              "print(sorted(m for m in ('aiortc', 'aioice', 'pylibsrtp') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                            text=True, check=True, timeout=120)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_450_lines(package: str) -> None:
    long = {str(path.relative_to(ROOT)): n for module, path in module_files().items()
            if module.split(".")[0] == package
            and (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
