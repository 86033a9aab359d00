"""Primal and adjoint side by side: each primal line next to the reverse blocks made from it.

Generated code heads each reverse block with ``# line N: <primal statement>``; a
block runs until the next such comment, until the code returns to a shallower
indentation (the enclosing block resumes there, as after an ``if``'s body), or until
another comment at the function's top level (``# reverse sweep``, or the heading of a
loop that runs its own adjoint, whose forward statements belong to no block).

>>> blocks = adjoint_blocks('''def grad_f(x):
...     # reverse sweep
...     # line 2: y = x * x
...     bx = by * x
...     bx += by * x
...     return bx
... ''')
>>> blocks
{2: ['bx = by * x', 'bx += by * x']}
"""
from __future__ import annotations

import html
import re
import shutil

_BLOCK = re.compile(r"^( *)# line (\d+): ")


def adjoint_blocks(code: str) -> dict[int, list[str]]:
    """``{primal line: the adjoint lines made from it}``, indented relative to the block."""
    blocks: dict[int, list[str]] = {}
    open_blocks: list[tuple[int, int]] = []  # (indent, line), innermost last
    body_indent = None
    for line in code.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip() or line.lstrip().startswith("def "):
            continue
        body_indent = indent if body_indent is None else body_indent
        match = _BLOCK.match(line)
        while open_blocks and (open_blocks[-1][0] > indent
                               or (match and open_blocks[-1][0] >= indent)):
            open_blocks.pop()
        if indent == body_indent and line.lstrip().startswith("#") and not match:
            open_blocks.clear()  # "# reverse sweep", or a fused loop's forward part: no block
        elif match:
            open_blocks.append((indent, int(match.group(2))))
            blocks.setdefault(int(match.group(2)), [])
        elif indent == body_indent and line.lstrip().startswith("return "):
            open_blocks.clear()
        elif open_blocks:
            own_indent, lineno = open_blocks[-1]
            blocks[lineno].append(line[own_indent:])
    return blocks


def _rows(primal: list[str], first: int, code: str) -> list[tuple[str, str]]:
    """(left, right) text rows: a numbered primal line, then its blocks' lines."""
    blocks = adjoint_blocks(code)
    rows = []
    for k, text in enumerate(primal):
        lineno = first + k
        right = blocks.get(lineno, [])
        left = f"{lineno:4}  {text.rstrip()}"
        rows.append((left, right[0] if right else ""))
        rows += [("", r) for r in right[1:]]
    return rows


def side_by_side(primal: list[str], first: int, code: str, width: int | None = None) -> str:
    """Terminal text: the primal function on the left, its adjoint blocks on the right."""
    width = width or shutil.get_terminal_size((120, 24)).columns
    rows = _rows(primal, first, code)
    half = (width - 3) // 2
    left_width = min(max(len(a) for a, _ in rows), half)
    right_width = width - 3 - left_width
    head = f"{'primal':<{left_width}} │ adjoint (reverse sweep)"
    lines = [head, "─" * left_width + "─┼─" + "─" * min(right_width, 40)]
    lines += [f"{_fit(a, left_width):<{left_width}} │ {_fit(b, right_width)}".rstrip()
              for a, b in rows]
    return "\n".join(lines) + "\n"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(width - 1, 0)] + "…"


def html_page(primal: list[str], first: int, code: str, title: str) -> str:
    """A self-contained HTML page: the side-by-side table, then the whole adjoint."""
    rows = "\n".join(
        f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>"
        for a, b in _rows(primal, first, code))
    return _PAGE.format(title=html.escape(title), rows=rows, code=html.escape(code))


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; }}
td {{ font-family: monospace; white-space: pre; padding: 0 1em; vertical-align: top; }}
td:first-child {{ border-right: 1px solid #999; color: #333; }}
tr:hover {{ background: #f3f3f3; }}
pre {{ background: #f6f6f6; padding: 1em; }}
</style>
</head>
<body>
<h1>{title}</h1>
<h2>Primal and adjoint, side by side</h2>
<table>
<tr><th>primal</th><th>adjoint (reverse sweep)</th></tr>
{rows}
</table>
<h2>Generated code</h2>
<pre>{code}</pre>
</body>
</html>
"""
