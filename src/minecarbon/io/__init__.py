"""The only place that opens files: rasters, vectors, point clouds and tables.

Readers return our in-memory types and validate what they read; writers go through
:func:`minecarbon.io.files.atomic_path` so that a failure never leaves a half-written file.
"""

import os as _os

# GDAL's block cache defaults to 5 % of the machine's memory and fills as a stack is written,
# so peak memory would grow with the area up to that share. 256 MB is plenty for block-wise
# reading and writing; a user's own GDAL_CACHEMAX wins.
_os.environ.setdefault("GDAL_CACHEMAX", "256")
