"""Products of random matrices: the numerics of the products area, by topic.

A product of depth L is ``P = W_L ... W_1`` (docs/formulas.md, "Conventions"; ``W_1`` acts
first). This module is the area's index: it holds no code and re-exports the public names of the
modules that do, one idea each. Import from those modules in new code.

* :mod:`numerics.factors` -- where the factors come from: ensembles and samplers (square, or
  rectangular Gaussian with widths ``N_0, ..., N_L``), explicit stacks, lists and generators.
* :mod:`numerics.householder` -- the LAPACK Householder step (factor; apply Q from the right
  without forming it).
* :mod:`numerics.qr_engine` -- the QR (Benettin) engine: :func:`lyapunov_qr` (top ``k``
  exponents, rectangular factors), :func:`benettin` (explicit factors).
* :mod:`numerics.graded_svd` -- every singular value of a product to high relative accuracy at
  any depth: :func:`product_log_singular_values`, :func:`fuss_catalan_samples`.
* :mod:`numerics.naive_products` -- plain multiplication: why ``svd(W_L ... W_1)`` fails at
  depth (:func:`naive_breakdown`), and why it is fine for orthogonal factors.
* :mod:`numerics.lyapunov_controls` -- the QR engine's exponents with exact Bartlett control
  variates (same mean, far smaller variance): :func:`controlled_lyapunov_exponents`.
* :mod:`numerics.product_eigenvalues` -- eigenvalues of products and the origin bin.
* :mod:`numerics.fold_products` -- the nonzero spectrum of products of Fold-k matrices by the block
  route: :func:`sample_fold_product_nonzero_spectrum`.
* :mod:`numerics.spectral_summaries` -- participation ratio, fraction of tiny values, log
  condition number of singular-value spectra.

>>> from degeneracy.numerics import products, qr_engine
>>> products.lyapunov_qr is qr_engine.lyapunov_qr
True
"""

from __future__ import annotations

from degeneracy.numerics.factors import (
    ENSEMBLES,
    FactorSource,
    Sampler,
    ensemble_sampler,
    factor_source,
    sampled_source,
)
from degeneracy.numerics.fold_products import (
    fold_product_nonzero_spectrum,
    fold_top_blocks,
    sample_fold_product_nonzero_spectrum,
)
from degeneracy.numerics.graded_svd import (
    EXPLICIT_RANGE,
    fuss_catalan_samples,
    graded_log_singular_values,
    log_singular_values_of,
    product_log_singular_values,
    sample_product_log_singular_values,
)
from degeneracy.numerics.lyapunov_controls import bartlett_coefficients, controlled_lyapunov_exponents
from degeneracy.numerics.naive_products import (
    NaiveBreakdown,
    explicit_squared_singular_values,
    isometry_defect,
    multiply,
    naive_breakdown,
    naive_product_singular_values,
    sample_isometry_defect,
    trace_moments,
)
from degeneracy.numerics.product_eigenvalues import (
    origin_bin_fraction,
    product_eigenvalues,
    rotation_averaged_bin_fraction,
    sample_product_eigenvalues,
    trace_smoothed_bin_fraction,
)
from degeneracy.numerics.qr_engine import (
    BATCHED_MIN_REPLICAS,
    LAPACK_MIN_N,
    METHODS,
    QRResult,
    benettin,
    engine_step_times,
    finite_depth_exponents,
    lyapunov_qr,
)
from degeneracy.numerics.spectral_summaries import fraction_below, log_condition_number, normalized_participation_ratio

__all__ = [
    "ENSEMBLES", "FactorSource", "Sampler", "ensemble_sampler", "factor_source", "sampled_source",
    "METHODS", "LAPACK_MIN_N", "BATCHED_MIN_REPLICAS", "QRResult", "lyapunov_qr", "benettin",
    "finite_depth_exponents", "engine_step_times",
    "EXPLICIT_RANGE", "graded_log_singular_values", "product_log_singular_values", "log_singular_values_of",
    "sample_product_log_singular_values", "fuss_catalan_samples",
    "multiply", "naive_product_singular_values", "NaiveBreakdown", "naive_breakdown", "isometry_defect",
    "sample_isometry_defect",
    "product_eigenvalues", "sample_product_eigenvalues", "origin_bin_fraction", "rotation_averaged_bin_fraction",
    "trace_smoothed_bin_fraction", "bartlett_coefficients", "controlled_lyapunov_exponents",
    "fold_top_blocks", "fold_product_nonzero_spectrum", "sample_fold_product_nonzero_spectrum",
    "trace_moments", "explicit_squared_singular_values",
    "normalized_participation_ratio", "fraction_below", "log_condition_number",
]
