"""Helpers that NumPy rule templates call by name (to be filled in)."""
