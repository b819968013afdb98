"""Vectorized Monte Carlo: samplers, engines and estimators with standard errors.

Every random function takes ``rng=`` (a :class:`numpy.random.Generator`, a seed, or a
:class:`numpy.random.SeedSequence`). ``numerics`` may import ``theory`` but never ``proofs``.
"""
