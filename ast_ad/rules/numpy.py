"""Rules for NumPy (to be filled in)."""
RULES: list = []
NONDIFF: list = []
