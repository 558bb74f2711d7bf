"""Pre-aggregated roll-ups: writers mark dirty hours, a refresher recomputes them exactly."""
