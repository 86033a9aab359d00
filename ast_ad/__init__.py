"""ast_ad: source-to-source automatic differentiation for Python and NumPy.

>>> import math, ast_ad
>>> def f(x, y):
...     return x * y + math.sin(x)
>>> # ast_ad.grad(f)(1.0, 2.0) == 2.0 + math.cos(1.0)   (needs f in a file)
"""
from .api import grad, source, value_and_grad, vjp
from .errors import GradientError, MissingRule, TransformError
from .report import tape_report
from .rules import register as register_rule
from .rules import register_nondiff, register_vjp
from .runtime import stop_gradient

__all__ = ["grad", "value_and_grad", "vjp", "source", "TransformError", "MissingRule",
           "GradientError", "register_rule", "register_vjp", "register_nondiff",
           "stop_gradient", "tape_report"]
__version__ = "0.1.0"
