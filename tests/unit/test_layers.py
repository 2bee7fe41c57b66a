"""The package's imports point only down its floors (``wgf.LAYERS``) and run in no circle."""

import ast
from pathlib import Path

import wgf

SRC = Path(wgf.__file__).parent
FLOOR = {room: i for i, rooms in enumerate(wgf.LAYERS) for room in rooms}


def module_name(path: Path) -> str:
    parts = ["wgf", *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def room(module: str) -> str:
    return module.split(".")[1]


def imports(module: str) -> set[str]:
    """The wgf modules ``module`` imports, anywhere in its code (deferred imports count)."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "wgf"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "wgf":
                continue
            # `from . import metrics`: each name that is a module of its own is that module;
            # any other name is taken from ``source`` itself
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.add(sub if sub in MODULES else source)
    return {m for m in found if m in MODULES and m != "wgf"}


def upward_imports() -> list[str]:
    bad = []
    for module in MODULES:
        if module == "wgf":
            continue
        for target in imports(module):
            if room(target) != room(module) and FLOOR[room(target)] >= FLOOR[room(module)]:
                bad.append(
                    f"{module} (floor {FLOOR[room(module)]}) imports {target} "
                    f"(floor {FLOOR[room(target)]})"
                )
    return bad


def cycles() -> list[list[str]]:
    graph = {m: sorted(imports(m)) for m in MODULES}
    found, state, stack = [], {}, []

    def visit(m: str) -> None:
        state[m] = "open"
        stack.append(m)
        for n in graph[m]:
            if state.get(n) == "open":
                found.append(stack[stack.index(n) :] + [n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = "done"

    for m in graph:
        if m not in state:
            visit(m)
    return found


def test_every_room_has_a_floor():
    rooms = {room(m) for m in MODULES if m != "wgf"}
    assert rooms == set(FLOOR), f"rooms without a floor: {rooms - set(FLOOR)}"


def test_imports_point_only_down():
    assert upward_imports() == []


def test_no_import_cycles():
    assert cycles() == []


def test_the_check_reads_imports_of_every_form():
    """The parser sees relative, absolute and from-package imports (a blind check cannot fail)."""
    assert "wgf.io" in imports("wgf.targets.registry")  # from ..io import ...
    assert "wgf.density.native" in imports("wgf.density.kde")  # from . import native
    assert "wgf.config" in imports("wgf.plan")  # from . import config as cfg
    assert "wgf.training" in imports("wgf.baselines.run")
    assert len(MODULES) > 40
