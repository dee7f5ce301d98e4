"""Features (guide ch. 4, appendix A): per-pixel predictors on the project grid (F1–F8).

Modules are pure: they take in-memory arrays (rasters as xarray on the project grid, point
clouds as numpy arrays) and return xarray objects on the same grid.
"""
