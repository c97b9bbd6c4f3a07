"""Background work of the community: sending.py sends, entrypoints.py is what RQ runs."""
