"""How close autograd's numbers must be to SymPy's exact values (and to each other) to
agree: (rtol, atol) per dtype, as ``torch.allclose`` reads them. Its own module: the
``--at-file`` stream checks its batched rows with them without importing SymPy."""

TOLERANCES = {"float64": (1e-9, 1e-12), "float32": (1e-4, 1e-5)}
