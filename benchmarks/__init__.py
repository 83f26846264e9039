"""Benchmark helpers: the floor app (floor.py) and the load generator (load.py)."""
