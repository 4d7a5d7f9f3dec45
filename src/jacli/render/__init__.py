"""Renderers: a ``Result`` in, a Rich renderable or a string out. None of them print."""
