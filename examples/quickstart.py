"""The README's main job: differentiate a small function and print its adjoint source."""
import math

import ast_ad


def f(x, y):
    z = x * y
    for i in range(3):
        z = z + math.sin(x)
    return z


def main() -> None:
    df = ast_ad.grad(f, wrt=(0, 1))
    dx, dy = df(1.0, 2.0)
    print(f"f(1, 2) = {f(1.0, 2.0)!r}")
    print(f"df/dx = {dx!r}   (by hand: y + 3 cos x = {2.0 + 3 * math.cos(1.0)!r})")
    print(f"df/dy = {dy!r}   (by hand: x = 1.0)")
    print()
    print("generated adjoint:")
    print(ast_ad.source(df))


if __name__ == "__main__":
    main()
