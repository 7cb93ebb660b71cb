"""Numba kernels on compiled game arrays, each with a plain-numpy twin used in tests.

A compiled game reaches the kernels as one bundle, :class:`~gamesolve.kernels.tree.TreeArrays`
(``CompiledGame.tree``); the node codes are defined once in :mod:`gamesolve.kernels.tree`.
"""
