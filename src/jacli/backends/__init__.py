"""The two meanings of every function: SymPy (exact, on object arrays) and torch (tensors),
plus the standalone PyTorch script the IR can be printed as.

Owns single operations on one kind of value; never evaluates a whole program (that is
``runtime``) and a backend never imports the other.
"""
