"""Tree allometry: biomass models by species group, heights, plot carbon, uncertainty."""
