"""Many points (``--at-file``, several ``--at`` values): the points stream and batched autograd.

Owns running one program at N points and streaming JSON Lines; never renders tables.
"""
