"""Finds uses of aiortc's and aioice's private names in Python source (``test_compat.py``).

What counts as private, read from the installed libraries themselves:

- a module outside ``aiortc``/``aioice`` themselves (and ``aiortc.contrib``), unless what is
  imported from it is in the package's ``__all__`` (``from aiortc.mediastreams import
  MediaStreamTrack`` is the public class, imported from where it is defined);
- an underscore name that aiortc or aioice define or use (attributes, functions, module
  globals, name-mangled ``_Class__name``), read from another object than ``self``/``cls``;
- in a class derived from an aiortc/aioice class, ``self._name`` or ``def _name`` where a
  class of its MRO from these libraries has that private name;
- attribute names computed at run time (``getattr(x, prefix + name)``), ``__class__``
  assignment, and assignment to a name of an aiortc/aioice module.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

FOREIGN = ("aiortc", "aioice")
_PUBLIC_SUBPACKAGES = ("aiortc.contrib",)
_MANGLED = re.compile(r"_[A-Za-z0-9]\w*__\w+")
_ATTR_FUNCS = ("getattr", "setattr", "delattr", "hasattr")


@dataclass(frozen=True)
class Violation:
    """One use of a private name."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _mangle(name: str, cls: str | None) -> str:
    if cls and name.startswith("__") and not name.endswith("__") and cls.strip("_"):
        return f"_{cls.lstrip('_')}{name}"
    return name


def _privates_in(tree: ast.AST) -> set[str]:
    """Private names defined or used in ``tree`` (class-private ones mangled)."""
    out: set[str] = set()

    def visit(node: ast.AST, cls: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            name = None
            if isinstance(child, ast.Attribute):
                name = child.attr
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = child.name
            elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                name = child.id
            if name is not None and _private(name):
                out.add(_mangle(name, cls))
            visit(child, child.name if isinstance(child, ast.ClassDef) else cls)

    visit(tree, None)
    return out


@functools.cache
def foreign_private_names() -> frozenset[str]:
    """Every private name of the installed aiortc and aioice."""
    names: set[str] = set()
    for package in FOREIGN:
        root = Path(str(importlib.import_module(package).__file__)).parent
        for path in root.rglob("*.py"):
            names |= _privates_in(ast.parse(path.read_text(encoding="utf-8")))
    return frozenset(names)


@functools.cache
def _public(package: str) -> frozenset[str]:
    return frozenset(getattr(importlib.import_module(package), "__all__", ()))


def _foreign(module: str) -> bool:
    return module.split(".")[0] in FOREIGN


def _public_module(module: str) -> bool:
    return module in FOREIGN or module.startswith(_PUBLIC_SUBPACKAGES)


def _resolve(dotted: str) -> object | None:
    """The object a dotted path names (importing what is needed), None if it cannot."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr, None)
        return obj
    return None


@functools.cache
def _class_privates(cls: type) -> frozenset[str]:
    """Private names of the aiortc/aioice classes in the MRO of ``cls``."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if not _foreign(klass.__module__):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        names |= _privates_in(ast.parse(source))
    return frozenset(names)


class _Checker(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.imports: dict[str, str] = {}  # local name -> dotted path
        self.found: list[Violation] = []
        self.class_privates: list[frozenset[str]] = []  # innermost class last

    def flag(self, node: ast.AST, what: str) -> None:
        self.found.append(Violation(self.path, getattr(node, "lineno", 0), what))

    def _dotted(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return self.imports.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._dotted(node.value)
            return None if base is None else f"{base}.{node.attr}"
        return None

    def _root_module(self, node: ast.expr) -> str | None:
        while isinstance(node, ast.Attribute):
            node = node.value
        return self.imports.get(node.id) if isinstance(node, ast.Name) else None

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if _foreign(alias.name) and not _public_module(alias.name):
                self.flag(node, f"imports the internal module {alias.name}")
            if alias.asname:
                self.imports[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.imports[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0 and _foreign(module) and not module.startswith(_PUBLIC_SUBPACKAGES):
            public = _public(module.split(".")[0])
            for alias in node.names:
                if alias.name not in public:
                    self.flag(node, f"imports {alias.name} from {module} "
                                    "(not in the package's __all__)")
        for alias in node.names:
            self.imports[alias.asname or alias.name] = f"{module}.{alias.name}"

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        privates: set[str] = set()
        for base in node.bases:
            dotted = self._dotted(base)
            cls = _resolve(dotted) if dotted else None
            if isinstance(cls, type):
                privates |= _class_privates(cls)
        for item in node.body:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name in privates:
                self.flag(item, f"overrides the private {item.name} of {node.name}'s base")
        self.class_privates.append(frozenset(privates))
        self.generic_visit(node)
        self.class_privates.pop()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = node.attr
        if _private(name):
            base = node.value
            own = isinstance(base, ast.Name) and base.id in ("self", "cls")
            privates = self.class_privates[-1] if self.class_privates else frozenset()
            if own and name in privates:
                self.flag(node, f"uses the base class's private self.{name}")
            elif not own and (name in foreign_private_names() or _MANGLED.fullmatch(name)):
                self.flag(node, f"reads the private .{name} of an aiortc/aioice object")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in _ATTR_FUNCS and len(node.args) >= 2:
            target, attr = node.args[0], node.args[1]
            if not (isinstance(attr, ast.Constant) and isinstance(attr.value, str)):
                self.flag(node, f"{func.id} with a computed attribute name")
            elif _private(attr.value) and (attr.value in foreign_private_names()
                                           or _MANGLED.fullmatch(attr.value)):
                self.flag(node, f"{func.id} of the private {attr.value}")
            root = self._root_module(target)
            if func.id in ("setattr", "delattr") and root and _foreign(root):
                self.flag(node, f"{func.id} on the module {root}")
        self.generic_visit(node)

    def _check_target(self, target: ast.expr) -> None:
        if isinstance(target, ast.Attribute):
            root = self._root_module(target.value)
            if target.attr == "__class__":
                self.flag(target, "assigns __class__")
            elif root and _foreign(root):
                self.flag(target, f"replaces {ast.unparse(target)} (module {root})")
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._check_target(element)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_target(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node.target)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._check_target(node.target)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._check_target(target)
        self.generic_visit(node)


def check_source(source: str, path: str = "<snippet>") -> list[Violation]:
    """The uses of aiortc/aioice private names in ``source``."""
    checker = _Checker(path)
    checker.visit(ast.parse(source))
    return checker.found


def check_package(root: Path, allowed: set[Path]) -> list[Violation]:
    """The violations in every module under ``root`` but ``allowed``."""
    found: list[Violation] = []
    for path in sorted(root.rglob("*.py")):
        if path.resolve() in allowed:
            continue
        found += check_source(path.read_text(encoding="utf-8"), str(path.relative_to(root)))
    return found
