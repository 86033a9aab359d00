"""ast-ad must never execute this module: importing it leaves a file and raises."""
import math
import pathlib

pathlib.Path(__file__).with_name("EXECUTED").write_text("side_effects.py was executed\n")
raise RuntimeError("side_effects.py was executed")


def f(x):
    return math.sin(x) * x
