"""Independent hand-written twins of generated models (see tests/test_spec.py)."""
