"""The simulated coal-mining site: a seeded Loess-Plateau mine and forest with known truth."""
