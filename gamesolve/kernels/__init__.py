"""Numba kernels on compiled game arrays, each with a plain-numpy twin used in tests."""
