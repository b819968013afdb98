"""Exact laws of products of random matrices: the area's public names in one place (docs/formulas.md §1).

What the theory layer predicts for products ``P = W_L ... W_1`` of i.i.d. ``n x n`` Gaussian
matrices with entries of variance ``1/n`` (complex: ``E|w|^2 = 1/n``). Each idea lives in a module
of its own; this module only gathers their public names, so that
``from degeneracy.theory.products import fuss_catalan`` and ``theory.products.X`` keep working:

=========================================  ==================================================================
module                                     what it predicts
=========================================  ==================================================================
:mod:`degeneracy.theory.fuss_catalan`      the ``n -> inf`` law of the squared singular values
                                           (:func:`fuss_catalan`, exact moments, participation ratio)
:mod:`degeneracy.theory.marchenko_pastur`  one Wishart factor of any aspect ratio, atom included
                                           (:func:`marchenko_pastur`)
:mod:`degeneracy.theory.lyapunov`          the exact finite-``n`` Lyapunov spectrum and its fluctuations,
                                           the condition-number rate, singular values lost by a naive product
:mod:`degeneracy.theory.second_moment`     the exact finite-``n``, finite-depth ``E (1/n) tr (P^T P)^2``
:mod:`degeneracy.theory.finite_n_singular` the exact finite-``n`` density of the squared singular values
                                           (complex factors, Meijer-G kernel)
:mod:`degeneracy.theory.product_eigenvalues` the eigenvalues: the exact finite-``n`` law (complex factors,
                                           Meijer-G weight) and its ``n -> inf`` limit ``r^(2/k)``
=========================================  ==================================================================

Nothing here is random; ``tests/test_products_theory.py`` checks every function against an
independent route.

Examples
--------
>>> from degeneracy.theory import products
>>> products.fuss_catalan(2).var(), products.second_moment(4, 1)
(2.0, Fraction(9, 4))
"""

from __future__ import annotations

from .finite_n_singular import finite_n_density
from .fuss_catalan import (
    FussCatalan,
    fuss_catalan,
    fuss_catalan_cdf_certificate,
    fuss_catalan_log_moment,
    fuss_catalan_moment,
    participation_ratio_limit,
)
from .lyapunov import FIELDS, log_condition_rate, lyapunov_exponents, lyapunov_variances, naive_lost_count
from .marchenko_pastur import MarchenkoPastur, marchenko_pastur
from .product_eigenvalues import (
    FiniteNEigenvalueLaw,
    finite_n_eigenvalue_density,
    finite_n_eigenvalue_law,
    ginibre_product_weight,
    origin_bin_depth,
    origin_bin_fraction,
    product_eigenvalue_radial_cdf,
)
from .second_moment import second_moment, second_moment_closed_form, second_moment_recursion

__all__ = [
    "FIELDS",
    "fuss_catalan_moment",
    "fuss_catalan_log_moment",
    "fuss_catalan",
    "FussCatalan",
    "marchenko_pastur",
    "MarchenkoPastur",
    "fuss_catalan_cdf_certificate",
    "lyapunov_exponents",
    "lyapunov_variances",
    "second_moment",
    "second_moment_recursion",
    "second_moment_closed_form",
    "finite_n_density",
    "participation_ratio_limit",
    "naive_lost_count",
    "log_condition_rate",
    "product_eigenvalue_radial_cdf",
    "origin_bin_fraction",
    "origin_bin_depth",
    "ginibre_product_weight",
    "finite_n_eigenvalue_law",
    "FiniteNEigenvalueLaw",
    "finite_n_eigenvalue_density",
]
