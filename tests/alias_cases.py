import numpy as np


def alias_list(x):
    a = [x, 2.0 * x]
    b = a
    b[0] = x * x * x
    return a[0] + a[1]

def alias_row(x):
    grid = [[x, x], [x, x]]
    row = grid[0]
    row[1] = x * 5.0
    return grid[0][1] + grid[1][0]

def alias_array(x):
    a = x * 1.0
    v = a[0:2]
    v[0] = 10.0 * x[0]
    return np.sum(a * a)

def inplace_param_array(x):
    y = x
    y += 1.0
    return np.sum(x * x)
