"""The standard's tables as data: terms, units, model tables, sensors, indices, outlines.

Modules here only read the CSV/TOML files in ``data/`` shipped with the package; they open no
user files and compute nothing. Every record cites its source.
"""
