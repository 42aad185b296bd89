"""analysis: the questions studies ask (attractor census, phase diagrams, quantum cross-check, reports)."""
