"""Errors raised to the user: every one names the user's file, line and column."""
from __future__ import annotations

import linecache
from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a construct sits in the user's file (1-based line, 0-based column)."""

    filename: str
    lineno: int
    col: int

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}:{self.col + 1}"


class TransformError(Exception):
    """A function (or one construct in it) that ast_ad cannot differentiate.

    The message names the construct and ``file:line:col``, shows the source
    line with a caret under the construct, and says what to do instead.
    """

    def __init__(self, message: str, location: Location | None = None, hint: str = ""):
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self._render())

    @property
    def filename(self) -> str | None:
        return self.location.filename if self.location else None

    @property
    def lineno(self) -> int | None:
        return self.location.lineno if self.location else None

    @property
    def col(self) -> int | None:
        return self.location.col if self.location else None

    def _render(self) -> str:
        if self.location is None:
            head = self.message
        else:
            head = f"{self.location}: {self.message}"
        parts = [head]
        if self.location is not None:
            line = linecache.getline(self.location.filename, self.location.lineno).rstrip("\n")
            if line.strip():
                parts.append("    " + line)
                parts.append("    " + " " * self.location.col + "^")
        if self.hint:
            parts.append(self.hint)
        return "\n".join(parts)


class MissingRule(TransformError):
    """A call site with an active argument and no derivative rule."""


class GradientError(TypeError):
    """Raised at run time when a gradient cannot be formed (e.g. non-scalar output)."""
