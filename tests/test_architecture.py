"""The shape of the code (DESIGN.md, Layout): the import contracts of ``.importlinter``, no
import cycle, no private name used across modules, no module over 400 lines, and services
that never read the request."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "jobs")
MAX_LINES = 400
CONTRACTS = ("layers", "services-without-web", "domain-without-models", "privacy-siblings-acyclic")
SERVICES = ("app/privacy", "app/mail", "app/provisioning.py")
REQUEST_STATE = {"request", "g", "session", "current_user"}


def python_files(*roots: str) -> list[Path]:
    files: list[Path] = []
    for root in roots:
        path = ROOT / root
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_private(name: str) -> bool:
    return name.startswith("_") and name != "_" and not (name.startswith("__") and name.endswith("__"))


@pytest.mark.parametrize("contract", CONTRACTS)
def test_import_contract_is_kept(contract):
    """Each contract of ``.importlinter``, as ``make lint`` runs them."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--contract", contract], check=False, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the groups of modules that import each other in a circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_strongly_connected_finds_circles_only():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert strongly_connected(graph) == [["a", "b", "c"]]


def test_no_import_cycle():
    """Import arrows point one way: no group of modules imports each other in a circle,
    function-level imports included."""
    imports = grimp.build_graph(*PACKAGES, cache_dir=None)
    graph = {module: set(imports.find_modules_directly_imported_by(module)) for module in imports.modules}
    circles = strongly_connected(graph)
    lines = []
    for group in circles:
        lines.append(f"{len(group)} modules in a circle: {', '.join(group)}")
        members = set(group)
        for importer in group:
            for imported in sorted(graph[importer] & members):
                at = sorted(d["line_number"] for d in imports.get_import_details(importer=importer, imported=imported))
                lines.append(f"    {importer} -> {imported} (line {', '.join(map(str, at))})")
    assert not circles, "\n".join(lines)


def private_uses(path: Path, modules: set[str]) -> list[str]:
    """``from x import _y`` and ``module._y`` where ``module`` names an imported module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path)
    package = here.split(".") if path.name == "__init__.py" else here.split(".")[:-1]
    imported_modules: dict[str, str] = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
            for alias in node.names:
                if is_private(alias.name):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from {base} import {alias.name}")
                if f"{base}.{alias.name}" in modules:
                    imported_modules[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                imported_modules[bound] = alias.name if alias.asname else bound
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            value, chain = node.value, []
            while isinstance(value, ast.Attribute):
                chain.insert(0, value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in imported_modules:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {'.'.join([value.id, *chain, node.attr])}")
    return found


def test_private_use_check_sees_both_forms(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    source = tmp_path / "app" / "x.py"
    source.parent.mkdir()
    source.write_text("from app.y import _hidden, shown\nfrom app import z\nimport app.w as w\nz._a()\nw._b\nshown._c\n")
    uses = private_uses(source, {"app.z", "app.w", "app.y"})
    assert sorted(use.split(": ", 1)[1] for use in uses) == ["from app.y import _hidden", "w._b", "z._a"]


def test_no_private_name_used_across_modules():
    """A leading underscore means "this module only": no other module imports or uses it."""
    files = python_files(*PACKAGES)
    modules = {module_name(path) for path in files}
    found = [use for path in files for use in private_uses(path, modules)]
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_no_module_over_400_lines():
    """Modules stay small enough to read in one go (issue 14)."""
    long = {str(path.relative_to(ROOT)): n for path in python_files("app") if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, "over 400 lines: " + ", ".join(f"{path} ({n})" for path, n in sorted(long.items()))


def test_services_never_read_the_request():
    """Services take ids and an acting-user id (DESIGN.md): a job has no request, no g, no session."""
    found = []
    for path in python_files(*SERVICES):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in ("flask", "flask_login"):
                names = {alias.name for alias in node.names} & REQUEST_STATE
                found += [f"{path.relative_to(ROOT)}:{node.lineno}: from {node.module} import {name}" for name in sorted(names)]
    assert not found, "\n".join(found)
