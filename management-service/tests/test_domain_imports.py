"""No import cycles between management's domain packages.

Each subpackage of ``argus_management`` (``alerts/``, ``events/``, ``liveness/`` …) is a
domain. An import from one domain into another is an edge; the test fails on any cycle among
domains, two-way or longer, naming the modules that make it. Imports made only for type
checking count too: they tie the packages together just the same. Top-level modules
(``deps.py``, ``main.py``, ``db.py`` …) are the wiring and shared plumbing, not domains.
"""

from __future__ import annotations

import ast
from pathlib import Path

import argus_management

PACKAGE = "argus_management"
ROOT = Path(argus_management.__file__).parent

Graph = dict[str, dict[str, set[str]]]


def _imported(tree: ast.AST, module: str) -> set[str]:
    """Every module name ``module``'s source imports (absolute, with ``from x import y``
    also counted as ``x.y``: ``y`` may be a submodule)."""
    names: set[str] = set()
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join(parts + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def domain_graph(root: Path, package: str) -> Graph:
    """domain -> {imported domain -> the files importing it}."""
    domains = {p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    graph: Graph = {d: {} for d in domains}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if len(rel.parts) < 2 or rel.parts[0] not in domains:
            continue
        source = rel.parts[0]
        module = ".".join((package, *rel.with_suffix("").parts))
        for name in _imported(ast.parse(path.read_text(), str(path)), module):
            parts = name.split(".")
            if len(parts) > 1 and parts[0] == package and parts[1] in domains:
                if parts[1] != source:
                    graph[source].setdefault(parts[1], set()).add(str(rel))
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected groups of more than one domain (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, {})):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _explain(graph: Graph, group: list[str]) -> str:
    edges = [
        f"  {a} -> {b}: {', '.join(sorted(graph[a][b]))}"
        for a in group for b in sorted(graph[a]) if b in group
    ]
    return " <-> ".join(group) + "\n" + "\n".join(edges)


def test_no_cycle_between_domains() -> None:
    graph = domain_graph(ROOT, PACKAGE)
    assert len(graph) >= 10, "the domain packages were not found"
    assert sum(len(v) for v in graph.values()) > 20, "too few imports seen: the walk is broken"
    found = cycles(graph)
    assert not found, "import cycles between domains:\n" + "\n".join(
        _explain(graph, g) for g in found
    )


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_walk_finds_a_planted_cycle(tmp_path: Path) -> None:
    """The same walk on a tiny package: a two-way cycle (one side through a relative,
    type-checking-only import) and a three-domain ring are both found; an acyclic layout
    is not flagged."""
    root = tmp_path / "pkg"
    _write(root, {
        "__init__.py": "",
        "wiring.py": "from pkg.a import x\nfrom pkg.b import y\n",  # top level: not a domain
        "a/__init__.py": "",
        "a/x.py": "from pkg.b.y import thing\n",
        "b/__init__.py": "",
        "b/y.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from ..a import x\n"
        ),
        "c/__init__.py": "",
        "c/z.py": "import pkg.d.w\n",
        "d/__init__.py": "",
        "d/w.py": "def f():\n    from pkg.e import v\n",
        "e/__init__.py": "",
        "e/v.py": "from pkg import c\nfrom pkg.c import z\n",
        "f/__init__.py": "",
        "f/u.py": "from pkg.a import x\nfrom pkg.wiring import x\n",
    })
    graph = domain_graph(root, "pkg")
    assert cycles(graph) == [["a", "b"], ["c", "d", "e"]]
    assert graph["b"] == {"a": {"b/y.py"}}
    assert "a/x.py" in _explain(graph, ["a", "b"])
    # Break both cycles: nothing is reported any more.
    _write(root, {"b/y.py": "thing = 1\n", "e/v.py": "value = 2\n"})
    assert cycles(domain_graph(root, "pkg")) == []
