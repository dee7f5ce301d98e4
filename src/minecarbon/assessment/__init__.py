"""Assessment of AGC maps: change, trend, cumulative effect, grades, zonal statistics, hot spots (A1–A5)."""
