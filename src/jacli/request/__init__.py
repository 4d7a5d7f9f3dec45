"""What the user asked: the commands and which options each takes (``command``), the one
``Problem`` builder the CLI, ``jacli batch`` and the API share (``problem``), the
``--at``/``--v``/``--u`` value grammar (``values``, ``numbers``, ``binding``) and point files
(``points``).

Owns turning option texts into checked requests and exact values; never computes a
derivative and never imports torch or SymPy.
"""
