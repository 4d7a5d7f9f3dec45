"""``Problem`` → ``Result``: preparation, directions (v, u), the numeric and symbolic stages,
comparison, finite differences, kinks, structure and the AD strategy.

Owns every derivative jacli reports; never prints, never exits, never renders.
"""
