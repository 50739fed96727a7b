"""Helpers shared across the test suite (and, for processes, by scripts/dev.py)."""
