from . import extra  # noqa: F401
