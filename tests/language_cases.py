import logging
import math


def f1(x, y):
    if x > y:
        z = x * x
    else:
        z = y * math.exp(x)
    return z

def f2(x, n):
    s = 0.0
    i = 0
    while i < n:
        s = s + x ** i / (i + 1)
        i += 1
    return s

def f3(x):
    for i in range(4):
        x = math.sin(x) * x
    return x

def f4(x, y):
    a, b = y, x
    a, b = b * a, a - b
    return a * b + max(a, b, 0.5) + min(x, y) + sum([x, y, a])

def f5(x, y):
    z = x if x > 0 else -x
    w = (x > 0 and y) or x
    return z * w

def f6(x, n):
    t = x
    for i in range(n):
        for j in range(i, n, 2):
            t = t * 1.01 + math.cos(t) * j
    return t

def f7(x):
    y = x
    y *= y
    y /= 3.0
    y -= x
    y **= 2
    return -y + abs(y) + math.fabs(x) % 0.7

def f8(x, y):
    c = 0
    while x < 10.0:
        x = x * 1.5 + y
        c += 1
    return x * c

def g1(x, n):
    s = 0.0
    for i in range(n):
        if s > 3.0:
            break
        s = s + x * i
    return s

def g2(x, n):
    s = 0.0
    for i in range(n):
        if i % 2 == 0:
            continue
        s = s + math.sin(x * i)
    return s

def g3(x):
    if x > 1.0:
        return x * x
    y = x * 3.0
    for i in range(5):
        y = y * x
        if y > 10.0:
            return y + 1.0
    return y

def g4(x, n):
    s = x
    for i in range(n):
        for j in range(n):
            s = s * 1.1
            if s > 5.0:
                return s * x
    else:
        s = s + 1.0
    return s

def g5(x):
    k = 0
    while True:
        x = x * 1.3
        k += 1
        if x > 4.0:
            break
    else:
        x = 0.0
    return x * k

def g6(x, n):
    for i in range(n):
        if x > 100.0:
            break
        x = x * 2.0
    else:
        x = x + 1000.0
    return x

def sq(u, scale=1.0):
    return scale * u * u

def poly(u, a, b=2.0):
    return a * u + b * sq(u)

def h1(x, y):
    s = 0.0
    for i in range(3):
        s = s + poly(x, y, b=0.5) + sq(s, scale=0.1)
    return s + sq(y)

def fact(x, n):
    if n <= 0:
        return 1.0
    return x * fact(x, n - 1) + math.sin(x)

def is_even(x, n):
    if n == 0:
        return x
    return is_odd(x * 1.1, n - 1)

def is_odd(x, n):
    if n == 0:
        return x * x
    return is_even(math.sin(x), n - 1)

def h2(x):
    return fact(x, 4) + is_even(x, 5)

def c1(x, y):
    xs = [x, y, x * y]
    s = 0.0
    for v in xs:
        s = s + v * v
    return s + xs[-1] * xs[0]

def c2(x, n):
    ys = []
    for i in range(n):
        ys.append(x * i)
    ys[0] = ys[1] * 3.0
    ys[2] += x
    t = ys.pop()
    ys.insert(1, t * 2.0)
    return sum(ys) + max(ys) * min(ys)

def c3(x, y):
    d = {"a": x, "b": y}
    d["c"] = d["a"] * d["b"]
    tot = 0.0
    for k, v in d.items():
        tot = tot + v * len(k)
    return tot

def c4(x, y):
    pts = [(x, y), (y, x * 2.0), (x + y, 1.0)]
    acc = 0.0
    for i, (a, b) in enumerate(pts):
        acc = acc + a * b * i
    for a, b in zip([x, y], reversed([y, x, x])):
        acc = acc + a / b
    return acc + sum(p[0] * p[1] for p in pts)

def c5(x):
    grid = [[x * i + j for j in range(3)] for i in range(3)]
    grid[1][2] = grid[0][1] * grid[2][2]
    s = 0.0
    for row in grid:
        for v in row:
            s = s + v * v
    return s

def c6(xs):
    s = 0.0
    for i in range(len(xs) - 1):
        s = s + 100.0 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2
    return s

def helper_pair(a, b):
    return a * b, a + b

def c7(x, y):
    p, q = helper_pair(x, y)
    u = helper_pair(p, q)
    return p * q + u[0] - u[1]

def apply_twice(fn, x):
    return fn(fn(x))

def n1(x, y):
    sq = lambda t: t * t * y
    def cube(t, k=3):
        return t ** k + x
    s = sq(x) + cube(x) + cube(y, k=2)
    s = s + apply_twice(math.sin, x) + apply_twice(lambda u: u * 2.0, y)
    return s

def n2(x, y):
    def inner(t):
        return t * y
    return apply_twice(inner, x)


def c8(x, n):
    ys = [x, 2.0 * x, 3.0 * x]
    for k in range(n):
        for i in range(3):
            ys[i] = ys[i] * ys[(i + 1) % 3] * 0.5 + x
    return ys[0] + ys[1] * ys[2]


def noisy(x):
    """A docstring."""
    import_free = x * 2.0
    print("value", import_free)
    logging.getLogger("ast_ad.test").warning("x=%s", x)
    assert x > 0, "x must be positive"
    pass
    return import_free * x


def n3(x, y):
    def inner(t):
        return t * y
    return sum(map(inner, [x]))
