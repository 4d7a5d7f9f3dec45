"""What the user asked: the ``--at``/``--v``/``--u`` value grammar and point files.

Owns turning option texts into exact values; never computes a derivative.
"""
