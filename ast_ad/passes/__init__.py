"""One pass per module: resolve, validate, normalize, reverse, prune."""
