"""The viewer's size limit (a light module: the CLI's help shows it)."""

#: Default largest side of the displayed rasters, in pixels.
MAX_PX = 1024
