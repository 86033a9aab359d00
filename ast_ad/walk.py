"""Tree walks that stay inside one function: nested ``def`` and ``lambda`` bodies are
another function's business (they are transformed when they are called)."""
from __future__ import annotations

from contextlib import contextmanager

import gast

NESTED = (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda)
_NESTED_KINDS = frozenset(NESTED)
_AST = gast.AST
_NAME = gast.Name


_FROZEN: dict = {}  # id(root) -> [root, nodes of walk, nodes of walk_local, facts]
_WHILE_FROZEN: list = []  # memos of facts that hold while trees are frozen (frozen_memo)


@contextmanager
def frozen(root: gast.AST):
    """While the tree under ``root`` does not change, walks of it are computed once."""
    _FROZEN[id(root)] = [root, None, None, {}]
    try:
        yield
    finally:
        del _FROZEN[id(root)]
        if not _FROZEN:
            for memo in _WHILE_FROZEN:
                memo.clear()


def is_frozen(root: gast.AST) -> bool:
    """Is the tree under ``root`` frozen (its walks computed once)?"""
    entry = _FROZEN.get(id(root)) if _FROZEN else None
    return entry is not None and entry[0] is root


def changed(root: gast.AST) -> None:
    """The tree under the frozen ``root`` was changed after all (by a pass that rarely
    changes it): forget what was computed of it."""
    entry = _FROZEN.get(id(root))
    if entry is not None and entry[0] is root:
        entry[1:] = [None, None, {}]
        for memo in _WHILE_FROZEN:
            memo.clear()


def frozen_memo() -> dict:
    """A dict for memos valid only while trees are frozen: emptied when none is any more,
    so that it keeps no tree alive after a transformation (nor makes the garbage
    collector look at it again and again)."""
    memo: dict = {}
    _WHILE_FROZEN.append(memo)
    return memo


def _cached(root: gast.AST, slot: int):
    entry = _FROZEN.get(id(root))
    if entry is None or entry[0] is not root:
        return None
    if entry[slot] is None:
        other = entry[3 - slot]  # the other walk (slots 1 and 2), if it was made
        if other is not None and _NESTED_KINDS.isdisjoint(map(type, other[1:])):
            entry[slot] = other  # no nested function under root: the same nodes, in order
        else:
            entry[slot] = _walk_list(root, slot == 2)
    return entry[slot]


def frozen_fact(root: gast.AST, compute, *args):
    """``compute(root, *args)``, computed once while the tree under ``root`` is frozen (a
    fact of the tree, and of ``args`` by identity). Callers must not change what it
    returns."""
    entry = _FROZEN.get(id(root)) if _FROZEN else None
    if entry is None or entry[0] is not root:
        return compute(root, *args)
    key = (compute, *map(id, args))
    hit = entry[3].get(key)
    if hit is None or any(a is not b for a, b in zip(hit[0], args)):
        hit = entry[3][key] = (args, compute(root, *args))  # (args kept: ids stay theirs)
    return hit[1]


def walk(root: gast.AST):
    """Every node under ``root`` (itself included), in no particular order: ``gast.walk``
    without its per-field generators, several times faster on our trees."""
    nodes = _cached(root, 1) if _FROZEN else None
    return iter(nodes) if nodes is not None else _walk(root)


# fields that hold identifiers or constants, never nodes: walks skip them
_SCALAR_FIELDS = {
    gast.Name: {"id", "type_comment"}, gast.Constant: {"value", "kind"},
    gast.Attribute: {"attr"}, gast.keyword: {"arg"}, gast.alias: {"name", "asname"},
    gast.FunctionDef: {"name", "type_comment"}, gast.AsyncFunctionDef: {"name", "type_comment"},
    gast.ClassDef: {"name"}, gast.Assign: {"type_comment"}, gast.For: {"type_comment"},
    gast.AsyncFor: {"type_comment"}, gast.With: {"type_comment"},
    gast.AsyncWith: {"type_comment"}, gast.comprehension: {"is_async"},
    gast.FormattedValue: {"conversion"}, gast.ImportFrom: {"module", "level"},
    gast.Global: {"names"}, gast.Nonlocal: {"names"},
}
_NODE_FIELDS: dict = {}  # node class -> the fields that may hold nodes, in _fields order


def _node_fields(kind: type) -> tuple:
    skip = _SCALAR_FIELDS.get(kind, ())
    fields = _NODE_FIELDS[kind] = tuple(f for f in kind._fields if f not in skip)
    return fields


_LEAF_FIELDS = frozenset(("ctx", "op", "ops"))  # contexts and operators: no Name under them
_NAME_FIELDS: dict = {}  # node class -> its fields that may hold Names, in _fields order


def name_fields(kind: type) -> tuple:
    """The fields of a node class that may hold Names (or nodes with Names under them)."""
    fields = _NAME_FIELDS.get(kind)
    if fields is None:
        fields = _NAME_FIELDS[kind] = tuple(f for f in node_fields(kind)
                                            if f not in _LEAF_FIELDS)
    return fields


def node_fields(kind: type) -> tuple:
    """The fields of a node class that may hold nodes (or lists of them), in order."""
    fields = _NODE_FIELDS.get(kind)
    return _node_fields(kind) if fields is None else fields


def _walk(root: gast.AST, local: bool = False):
    """The nodes under ``root`` in ``gast.walk``'s set, depth first; with ``local``, a
    nested function's node is yielded without entering it (the same nodes in the same order
    when there is none: ``_cached`` relies on it)."""
    stack = [root]
    pop, push, extend = stack.pop, stack.append, stack.extend
    fields_of = _NODE_FIELDS.get
    while stack:
        node = pop()
        yield node
        kind = type(node)
        if kind is _NAME:  # the commonest node: its fields without the loop
            ctx, annotation = getattr(node, "ctx", None), getattr(node, "annotation", None)
            if isinstance(ctx, _AST):
                push(ctx)
            if isinstance(annotation, _AST):
                push(annotation)
            continue
        if local and node is not root and kind in _NESTED_KINDS:
            continue
        fields = fields_of(kind)
        if fields is None:
            fields = _node_fields(kind)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                if value:  # (keywords, orelse...: mostly empty)
                    extend([v for v in value if isinstance(v, _AST)])
            elif isinstance(value, _AST):
                push(value)


def _walk_list(root: gast.AST, local: bool) -> list:
    """``list(_walk(root, local))``, made without a generator (the frozen trees' walks)."""
    found: list = []
    stack = [root]
    pop, push, extend, add = stack.pop, stack.append, stack.extend, found.append
    fields_of = _NODE_FIELDS.get
    while stack:
        node = pop()
        add(node)
        kind = type(node)
        if kind is _NAME:
            ctx, annotation = getattr(node, "ctx", None), getattr(node, "annotation", None)
            if isinstance(ctx, _AST):
                push(ctx)
            if isinstance(annotation, _AST):
                push(annotation)
            continue
        if local and node is not root and kind in _NESTED_KINDS:
            continue
        fields = fields_of(kind)
        if fields is None:
            fields = _node_fields(kind)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                if value:
                    extend([v for v in value if isinstance(v, _AST)])
            elif isinstance(value, _AST):
                push(value)
    return found


def parts(root: gast.AST) -> list:
    """The nodes that ``walk(root)`` yields, in the same order, but for contexts and operators
    (leaves: nothing is under them), as a list (made before any is looked at)."""
    found: list = []
    stack = [root]
    pop, push, extend, add = stack.pop, stack.append, stack.extend, found.append
    fields_of = _NAME_FIELDS.get
    while stack:
        node = pop()
        add(node)
        kind = type(node)
        if kind is _NAME:
            annotation = getattr(node, "annotation", None)
            if annotation is not None and isinstance(annotation, _AST):
                push(annotation)
            continue
        fields = fields_of(kind)
        if fields is None:
            fields = name_fields(kind)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                if value:
                    extend([v for v in value if isinstance(v, _AST)])
            elif isinstance(value, _AST):
                push(value)
    return found


def _walk_local(root: gast.AST):
    """``_walk`` not entering nested functions (what ``_cached`` computes for slot 2)."""
    return _walk(root, True)


def rewrite(node: gast.AST, rules: dict) -> gast.AST:
    """Rewrite the tree under ``node`` bottom-up, as a ``gast.NodeTransformer`` whose visit
    methods each begin by visiting the node's children would: the children of every node
    are rewritten first, then the node by ``rules[type(node)]`` (if any), whose result takes
    its place. Lists are changed in place."""
    for field in node_fields(type(node)):
        value = getattr(node, field, None)
        if type(value) is list:
            for k, item in enumerate(value):
                if isinstance(item, _AST) and (type(item) in rules or _rewritable(item, rules)):
                    new = rewrite(item, rules)
                    if new is not item:
                        value[k] = new
        elif isinstance(value, _AST) and (type(value) in rules or _rewritable(value, rules)):
            new = rewrite(value, rules)
            if new is not value:
                setattr(node, field, new)
    rule = rules.get(type(node))
    return node if rule is None else rule(node)


def _rewritable(node: gast.AST, rules: dict) -> bool:
    """Can ``rewrite`` change ``node``, for which there is no rule? Not if nothing under it
    can change: a leaf (a context, an operator, a constant), or a Name with no annotation
    and a context no rule is for."""
    kind = type(node)
    if kind is _NAME:
        return getattr(node, "annotation", None) is not None or type(node.ctx) in rules
    return bool(_NODE_FIELDS.get(kind, True))  # (a class not seen yet: maybe)


def nodes_of(root: gast.AST, kinds: tuple, local: bool = False) -> list:
    """The nodes of the classes ``kinds`` that ``walk(root)`` (with ``local``,
    ``walk_local(root)``) yields, in the same order. While ``root`` is frozen, its walk's
    nodes are sorted by class once: each call then looks at no other node."""
    entry = _FROZEN.get(id(root)) if _FROZEN else None
    if entry is None or entry[0] is not root:
        return [n for n in _walk(root, local) if type(n) in kinds]
    nodes = _cached(root, 2) if local else _cached(root, 1)
    hit = entry[3].get(("by class", id(nodes)))  # (the two walks may be one list)
    if hit is None:
        index: dict = {}  # class -> positions of its nodes in the walk
        for position, kind in enumerate(map(type, nodes)):
            index.setdefault(kind, []).append(position)
        hit = entry[3]["by class", id(nodes)] = (nodes, index)
    index = hit[1]
    if len(kinds) == 1:
        return [nodes[p] for p in index.get(kinds[0], ())]
    return [nodes[p] for p in sorted(p for kind in kinds for p in index.get(kind, ()))]


def names(root: gast.AST) -> set:
    """The identifiers of every Name under ``root``."""
    return {n.id for n in name_nodes(root)}


def name_nodes(root: gast.AST, local: bool = False) -> list:
    """The Name nodes that ``walk(root)`` yields, in the same order, without visiting their
    contexts (a third of the nodes of most trees), as a list (made before any is looked
    at). With ``local``, those and the nested functions' nodes that ``walk_local(root)``
    yields."""
    entry = _FROZEN.get(id(root)) if _FROZEN else None
    if entry is not None and entry[0] is root:  # from the walk's nodes sorted by class
        if not local:
            return nodes_of(root, (_NAME,))
        return [n for n in nodes_of(root, _NAME_OR_NESTED, local=True) if n is not root]
    return _name_nodes(root, local)


_NAME_OR_NESTED = (_NAME, *NESTED)


def _name_nodes(root: gast.AST, local: bool) -> list:
    found: list = []
    stack = [root]
    pop, push, extend, add = stack.pop, stack.append, stack.extend, found.append
    fields_of = _NAME_FIELDS.get
    while stack:
        node = pop()
        kind = type(node)
        if kind is _NAME:
            add(node)
            annotation = getattr(node, "annotation", None)
            if annotation is not None and isinstance(annotation, _AST):
                push(annotation)
            continue  # (its context has no fields: nothing under it but the annotation)
        if local and node is not root and isinstance(node, NESTED):
            add(node)
            continue
        fields = fields_of(kind)
        if fields is None:
            fields = name_fields(kind)
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                if value:
                    extend([v for v in value if isinstance(v, _AST)])
            elif isinstance(value, _AST):
                push(value)
    return found


def walk_local(root: gast.AST):
    """Like ``gast.walk(root)``, but yields a nested function's node without entering it."""
    nodes = _cached(root, 2) if _FROZEN else None
    return iter(nodes) if nodes is not None else _walk_local(root)


def blocks(node: gast.AST):
    """``(owner, field)`` of every statement list under ``node``: the ``body`` and ``orelse``
    of it and of the functions, loops and branches in them (expressions hold none)."""
    todo = [node]
    while todo:
        sub = todo.pop()
        for field in ("body", "orelse"):
            block = getattr(sub, field, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                yield sub, field
                todo.extend([s for s in block if isinstance(s, _WITH_BLOCKS)])


_WITH_BLOCKS = (gast.For, gast.While, gast.If, gast.FunctionDef)


_IN_BLOCKS = (gast.stmt, gast.excepthandler, gast.match_case)  # what statement lists hold


def statements(root: gast.AST, nested: bool = True):
    """The statements under ``root`` (itself included if it is one), as ``walk(root)``
    yields them (in the same order) but without looking into expressions, which hold no
    statements; with ``nested=False``, as ``walk_local(root)`` does (a nested function's
    ``def`` is yielded, its body is not entered)."""
    todo = [root]
    fields_of = _BLOCK_FIELDS.get
    while todo:
        node = todo.pop()
        if isinstance(node, gast.stmt):
            yield node
            if not nested and node is not root and isinstance(node, NESTED):
                continue
        fields = fields_of(type(node))
        if fields is None:
            fields = _block_fields(type(node))
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list and value:
                todo.extend([v for v in value if isinstance(v, _IN_BLOCKS)])


# the fields that may hold statement lists (or handlers, or cases): no other holds statements
_BLOCKS = frozenset(("body", "orelse", "finalbody", "handlers", "cases"))
_BLOCK_FIELDS: dict = {}  # node class -> its fields in _BLOCKS, in _fields order


def _block_fields(kind: type) -> tuple:
    fields = _BLOCK_FIELDS[kind] = tuple(f for f in node_fields(kind) if f in _BLOCKS)
    return fields


def parameters(func: gast.FunctionDef) -> list[gast.Name]:
    """The parameter nodes of ``func`` in order: positional-only, positional, keyword-only."""
    args = func.args
    return list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs)


def nested_functions(func: gast.FunctionDef) -> list:
    """The function definitions directly inside ``func`` (at any statement depth)."""
    return [n for n in nodes_of(func, (gast.FunctionDef,), local=True) if n is not func]


def free_loads(nested: gast.FunctionDef, outer_locals: set) -> list:
    """Loads inside ``nested`` of names that belong to the enclosing function."""
    own = {n.id for n in gast.walk(nested) if isinstance(n, gast.Name)
           and isinstance(n.ctx, (gast.Store, gast.Param))}
    return [n for n in gast.walk(nested) if isinstance(n, gast.Name)
            and isinstance(n.ctx, gast.Load) and n.id in outer_locals and n.id not in own]


class Transformer(gast.NodeTransformer):
    """``gast.NodeTransformer`` as it works, faster: each node class's visit method is looked
    up once (per instance, in the class: visit methods are never set on an instance), and
    fields that never hold nodes are left out. The instance keeps functions, not bound
    methods: it must not refer to itself, or it (and the trees it holds) would be garbage
    that only the cyclic collector frees."""

    def visit(self, node: gast.AST):
        try:
            methods = self._visit_methods
        except AttributeError:
            methods = self._visit_methods = {}
        method = methods.get(type(node))
        if method is None:
            cls = type(self)
            method = getattr(cls, "visit_" + node.__class__.__name__, cls.generic_visit)
            methods[type(node)] = method
        return method(self, node)

    def generic_visit(self, node: gast.AST) -> gast.AST:
        for field in node_fields(type(node)):
            old_value = getattr(node, field, _MISSING)
            if isinstance(old_value, list):
                new_values = []
                for value in old_value:
                    if isinstance(value, _AST):
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, _AST):
                            new_values.extend(value)
                            continue
                    new_values.append(value)
                old_value[:] = new_values
            elif isinstance(old_value, _AST):
                new_node = self.visit(old_value)
                if new_node is None:
                    delattr(node, field)
                else:
                    setattr(node, field, new_node)
        return node


_MISSING = object()


class Rename(Transformer):
    """Rename variables in place: ``Rename({"x": "x_1"}).visit(tree)``."""

    def __init__(self, renames: dict):
        self.renames = renames

    def visit_Name(self, node: gast.Name) -> gast.Name:
        if node.id in self.renames:
            node.id = self.renames[node.id]
        return node
