"""Algorithms that compute or approximate equilibria on gamesolve games."""
