"""Compiled kernels (built from the Cython sources in the top-level ``ext/`` folder).

Nothing here validates input: each kernel has one Python owner elsewhere in the package.
"""
