"""Compiled (nopython) kernels and the per-model kernel generator."""
