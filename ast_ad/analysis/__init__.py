"""Analyses: each returns plain data (sets and dicts keyed by AST node)."""
