"""Exact and symbolic predictions of the degeneracy argument.

Nothing in this package is random: every function returns an exact value (integer,
:class:`fractions.Fraction`, sympy expression) or a deterministic float computed with
mpmath / scipy.special and checked against an independent route in the tests.
``theory`` never imports ``numerics`` or ``proofs``.
"""
