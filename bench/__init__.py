"""Benchmarks that measure Giao Ban against a baseline measured in the same run."""
