"""degeneracy: derive, prove and check why deep networks are hard to train.

Deep networks are hard to train because their weight products, Jacobians and parameter spaces
become **degenerate**, not because gradients vanish (Orhan 2018; Orhan & Pitkow, ICLR 2018).
This package states every claim of that argument precisely, derives it symbolically where it
can, checks it by Monte Carlo with honest statistics and draws the figures.

The package has one import name and five layers; imports point down only::

    degeneracy.theory     exact and symbolic predictions (sympy, mpmath, scipy.special); no randomness
    degeneracy.numerics   vectorized Monte Carlo: samplers, engines, estimators with standard errors
    degeneracy.proofs     the claims: registry, checks, symbolic certificates, runner, report
    degeneracy.figures    one module per figure family and a shared style
    degeneracy.cli, .execution, .cache, .bench, .calibration   the application shell

The names below are the curated public API; everything else is reachable by its module path
(e.g. ``degeneracy.theory.products.fuss_catalan_moment``). They are imported on first use, so
``import degeneracy`` is cheap.

Examples
--------
>>> import degeneracy
>>> law = degeneracy.fuss_catalan(5)
>>> law.mean(), law.var()
(1.0, 5.0)
>>> issubclass(degeneracy.CertificationError, degeneracy.DegeneracyError)
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (  # noqa: F401  (re-exported: __all__ is built below)
    ArgumentTypeError,
    ArgumentValueError,
    CertificationError,
    DegeneracyError,
    NumericalFailure,
)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("degeneracy")
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "0+unknown"


__version__ = _version()

#: public name -> the module that defines it (imported lazily, PEP 562)
_API = {
    # products of random matrices
    "fuss_catalan": "degeneracy.theory.fuss_catalan",
    "marchenko_pastur": "degeneracy.theory.marchenko_pastur",
    "lyapunov_exponents": "degeneracy.theory.lyapunov",
    "lyapunov_variances": "degeneracy.theory.lyapunov",
    "lyapunov_qr": "degeneracy.numerics.qr_engine",
    "product_log_singular_values": "degeneracy.numerics.graded_svd",
    # Jacobian spectra, free probability, mean field
    "STransform": "degeneracy.theory.free",
    "critical_point": "degeneracy.theory.isometry",
    "jacobian_moments": "degeneracy.theory.isometry",
    "jacobian_spectrum": "degeneracy.theory.isometry",
    # claims
    "run_claim": "degeneracy.proofs.runner",
    "run_claims": "degeneracy.execution",
}

__all__ = sorted(
    [
        "__version__",
        "DegeneracyError",
        "ArgumentValueError",
        "ArgumentTypeError",
        "CertificationError",
        "NumericalFailure",
        *_API,
    ]
)


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'degeneracy' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    """The public names (``__all__``) and the subpackages, not the module's own imports."""
    return sorted(set(__all__) | {"errors", "validation", "theory", "numerics", "proofs", "figures"})


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .execution import run_claims  # noqa: F401
    from .numerics.graded_svd import product_log_singular_values  # noqa: F401
    from .numerics.qr_engine import lyapunov_qr  # noqa: F401
    from .proofs.runner import run_claim  # noqa: F401
    from .theory.free import STransform  # noqa: F401
    from .theory.fuss_catalan import fuss_catalan  # noqa: F401
    from .theory.isometry import critical_point, jacobian_moments, jacobian_spectrum  # noqa: F401
    from .theory.lyapunov import lyapunov_exponents, lyapunov_variances  # noqa: F401
    from .theory.marchenko_pastur import marchenko_pastur  # noqa: F401
