"""Classification (requirements C1–C4): land cover, leaf habit, species and their accuracy.

- :mod:`~minecarbon.classify.accuracy`: error matrix, overall accuracy, kappa, producer's and
  user's accuracy (C4);
- :mod:`~minecarbon.classify.landcover`: random-forest land cover from training samples (C1);
- :mod:`~minecarbon.classify.leaf_habit`: evergreen vs deciduous forest from a leaf-off image,
  an RVI threshold combined with fully constrained spectral unmixing (C2);
- :mod:`~minecarbon.classify._predict`: block-wise prediction of any fitted estimator over a
  feature stack, shared by the mapping steps.

Modules are pure: they take tables (pandas) and rasters (xarray on the project grid, numpy- or
dask-backed) and return the same, lazily on dask input.
"""
