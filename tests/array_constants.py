"""A module holding an array, read as ``array_constants.ROW`` by test_found_bugs.py."""
import numpy as np

ROW = np.array([1.0, 2.0, 3.0])
