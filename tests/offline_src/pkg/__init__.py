"""A package for `ast-ad transform pkg/ -o out/`: the tree is mirrored."""
