"""The only place that opens files: rasters, vectors, point clouds and tables.

Readers return our in-memory types and validate what they read; writers go through
:func:`minecarbon.io.files.atomic_path` so that a failure never leaves a half-written file.
"""
