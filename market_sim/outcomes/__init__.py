"""Outcomes: the metric catalogue, the distribution measures and their kernels, and the
headline numbers reduced from a run's weekly frame. Nothing here builds a model."""
