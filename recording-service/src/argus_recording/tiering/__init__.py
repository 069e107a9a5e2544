"""Tiering: segments older than their camera's age move from local disk to the object store.

Per segment, in this order (mover.py): upload, verify size and checksum, point the index
row at the object, remove the local file. A crash between any two steps leaves either
the local file alone (indexed as local: uploaded again, the PUT replaces the same key) or
both copies (indexed as object: reconcile removes the local one), never neither; objects
that lost their row are found by reconcile.py.
"""
