"""The interpreter: runs a validated ``Program`` on a backend (lowered to closures once).

Owns evaluation order and positioned errors; never knows which backend it runs on.
"""
