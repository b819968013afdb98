"""Free multiplicative convolution: the public entry point of the S-transform toolkit.

The toolkit is split into modules of one idea each; this module gathers their public names:

* :mod:`degeneracy.theory.s_transform` -- :class:`STransform`, the algebra (products are free
  multiplicative convolutions, powers are convolution powers);
* :mod:`degeneracy.theory.free_series` -- exact and floating-point moments by Lagrange inversion
  (:func:`moments_from_s_transform`, :func:`s_transform_from_moments`, :func:`numeric_moments`);
* :mod:`degeneracy.theory.free_density` -- the density solver (path continuation of
  ``w M S(M) = 1 + M`` to the real axis) and the support edges;
* :mod:`degeneracy.theory.free_law` -- :class:`FreeProductLaw`, the certified distribution object;
* :mod:`degeneracy.theory.free_factors` -- the building-block laws (atoms, and continuous laws
  such as the law of ``phi'(h)^2``) and their transforms.

Sources: Voiculescu; Mingo & Speicher, *Free Probability and Random Matrices*, ch. 3;
Pennington, Schoenholz & Ganguli 2017, section 2.3; docs/formulas.md "Conventions" and §4.

Examples
--------
>>> S = STransform.wishart() ** 2             # product of two square Gaussian matrices
>>> moments_from_s_transform(S, 4)
[1, 3, 12, 55]
>>> law = S.law()
>>> round(law.mean(), 12), round(law.var(), 12)
(1.0, 2.0)
>>> round(law.support()[1], 10)               # (L+1)^(L+1) / L^L at L = 2
6.75
"""

from __future__ import annotations

from degeneracy.errors import CertificationError

from .free_law import FreeProductLaw
from .free_series import lagrange_moments, moments_from_s_transform, numeric_moments, s_transform_from_moments
from .s_transform import STransform

__all__ = [
    "STransform",
    "FreeProductLaw",
    "moments_from_s_transform",
    "s_transform_from_moments",
    "lagrange_moments",
    "numeric_moments",
    "CertificationError",
]
