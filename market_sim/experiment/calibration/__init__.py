"""Calibration: fit scenario parameters to observed market facts, and score the fit out
of sample (docs/calibration.md)."""
