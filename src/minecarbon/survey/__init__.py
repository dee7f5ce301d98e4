"""Field survey (样地调查), requirements P1–P4.

:mod:`~minecarbon.survey.plots` checks plot records (id, centre, CRS, side, date, forest type,
species group) and builds the plot squares; :mod:`~minecarbon.survey.trees` checks tree lists
(每木检尺 tally, or trees derived from terrestrial laser scanning) and turns them into one
canonical table. Everything here takes and returns in-memory tables; files are opened by
:mod:`minecarbon.io` (:func:`minecarbon.io.tables.read_table`).
"""
