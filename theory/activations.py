"""Pointwise nonlinearities phi, their derivatives, and what the mean-field theory needs to know.

An :class:`Activation` carries ``phi`` and ``phi'`` (numpy functions of real arrays, used by the
networks of ``numerics``) and, for the theory (Pennington, Schoenholz & Ganguli 2017; Poole et
al. 2016; Schoenholz et al. 2017; docs/formulas.md §4), the structure of ``phi'`` on the real
line: a sequence of **pieces** on which ``phi'`` is either a constant (the law of
``phi'(h)^2`` then has an atom) or analytic (a continuous part), with ``phi''`` and ``phi'''``
as numpy functions that accept complex arrays, the distance ``strip`` from the real axis to the
nearest complex singularity of ``phi'``, and the points ``kinks`` where ``phi`` or ``phi'`` is
not smooth (quadrature breakpoints).

Built-ins (:data:`ACTIVATIONS`, names of Pennington et al. 2017 and of common libraries):

============  ===================================  =========================================
name          phi(h)                               law of phi'(h)^2
============  ===================================  =========================================
linear        h                                    atom at 1
relu          max(h, 0)                            atoms {0, 1}, mass 1/2 each
leaky_relu    max(h, a h), a = 0.01                atoms {a^2, 1}
hard_tanh     clip(h, -1, 1)                       atoms {0, 1}
tanh          tanh(h)                              continuous on (0, 1]
erf           erf(h) (plain, no rescaling)         continuous on (0, 4/pi]
sigmoid       1 / (1 + e^{-h})                     continuous on (0, 1/16]
softplus      log(1 + e^h)                         continuous on (0, 1)
gelu          h Phi(h)                             continuous (phi' has a zero)
swish, silu   h sigmoid(h)                         continuous (phi' has a zero)
elu           h (h > 0), e^h - 1 (h < 0)           atom at 1 plus continuous on (0, 1)
selu          lambda h, lambda alpha (e^h - 1)     atom lambda^2 plus continuous on (0, (lambda alpha)^2)
============  ===================================  =========================================

Others: :func:`leaky_relu` and :func:`elu` with their parameter, :meth:`Activation.from_callables`
for a user's ``(phi, phi')`` pair and :meth:`Activation.from_sympy` for a sympy expression.
:func:`as_activation` turns any of these (or a name) into an :class:`Activation`; every function
of the toolkit that takes ``activation=`` accepts all of them.

Examples
--------
>>> phi, dphi = activation("hard_tanh")
>>> phi(np.array([-2.0, 0.5, 3.0])).tolist(), dphi(np.array([-2.0, 0.5, 3.0])).tolist()
([-1.0, 0.5, 1.0], [0.0, 1.0, 0.0])
>>> act = leaky_relu(0.2)
>>> act.name, act.pieces[0]
('leaky_relu(0.2)', (-inf, 0.0, 'const', 0.2))
>>> import sympy as sp
>>> h = sp.Symbol("h")
>>> mine = as_activation(sp.tanh(h) + h / 10)
>>> float(mine.dphi(np.array(0.0)))
1.1
"""

from __future__ import annotations

import math
import numbers
from typing import Callable

import numpy as np
import sympy as sp
from scipy import special

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
from degeneracy.validation import check_choice, check_real

__all__ = ["ACTIVATIONS", "Activation", "activation", "as_activation", "phi", "dphi", "leaky_relu", "elu",
           "SELU_LAMBDA", "SELU_ALPHA"]

ArrayFn = Callable[[np.ndarray], np.ndarray]
INF = math.inf

#: SELU constants (Klambauer et al. 2017, eq. 14), to the digits of the paper's derivation
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946


class Activation:
    """A nonlinearity ``phi`` with the structure the mean-field theory needs (module docstring).

    Iterating gives ``(phi, dphi)``, so ``phi, dphi = act`` works where a pair is expected.

    Parameters
    ----------
    name : str
    phi, dphi : callable
        ``phi`` and ``phi'`` on real numpy arrays.
    d2phi, d3phi : callable, optional
        ``phi''`` and ``phi'''`` on the analytic pieces, accepting complex arrays.
    pieces : tuple of (lo, hi, kind, value)
        A partition of the real line; ``kind`` is ``"const"`` (``phi' = value`` on ``(lo, hi)``)
        or ``"smooth"`` (``phi'`` analytic on it, ``value`` None) or ``"real"`` (analytic, but
        ``phi'`` takes real arguments only: the mean field works, the Jacobian spectrum refuses).
    strip : float
        Distance from the real axis (in ``h``) to the nearest singularity of ``phi'`` on the
        analytic pieces (``inf`` for entire functions); a guess is refined by the certificates.
    even : bool
        ``phi'(h)^2`` is even in ``h``.
    kinks : tuple of float
        Points where ``phi`` or ``phi'`` is not smooth (quadrature breakpoints).
    logdphi : callable, optional
        ``h -> (log phi', (log phi')', (log phi')'')`` on the analytic piece when ``phi' > 0`` there
        (complex input): a faster route for the Jacobian-spectrum solver.
    """

    def __init__(self, name: str, phi: ArrayFn, dphi: ArrayFn, d2phi: ArrayFn | None = None,
                 d3phi: ArrayFn | None = None, *, pieces=((-INF, INF, "smooth", None),), strip: float = 1.0,
                 even: bool = False, kinks: tuple = (), key=None, logdphi: ArrayFn | None = None):
        self.name = str(name)
        self.phi, self.dphi, self.d2phi, self.d3phi = phi, dphi, d2phi, d3phi
        self.logdphi = logdphi
        self.pieces = tuple(pieces)
        self.strip = float(strip)
        self.even = bool(even)
        self.kinks = tuple(float(k) for k in kinks)
        self.key = key if key is not None else ("user", self.name, id(phi), id(dphi))
        if any(kind == "smooth" for _, _, kind, _ in self.pieces) and (d2phi is None or d3phi is None):
            raise ArgumentValueError(f"activation {self.name!r}: an analytic piece needs phi'' and phi'''")

    def __iter__(self):
        return iter((self.phi, self.dphi))

    def __getitem__(self, i):
        return (self.phi, self.dphi)[i]

    def __len__(self):
        return 2

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, Activation) and other.key == self.key

    def __repr__(self):
        return f"Activation({self.name!r})"

    @property
    def atoms_only(self) -> bool:
        """``phi'`` is piecewise constant: the law of ``phi'(h)^2`` is a finite set of atoms."""
        return all(kind == "const" for _, _, kind, _ in self.pieces)

    @property
    def positively_homogeneous(self) -> bool:
        """``phi(c h) = c phi(h)`` for ``c > 0`` (linear, ReLU, leaky ReLU): the length map is linear."""
        return self.key[0] in ("linear", "relu", "leaky_relu")

    # ---- constructors for user activations ------------------------------------------------
    @classmethod
    def from_callables(cls, phi: ArrayFn, dphi: ArrayFn, *, name: str | None = None, strip: float = 1.0,
                       even: bool = False) -> "Activation":
        """A user's smooth activation from ``(phi, phi')``.

        The mean field (length and correlation maps) needs only real evaluations. The Jacobian
        spectrum also needs the second and third derivatives near the real axis: when ``phi'``
        accepts complex arrays (numpy expressions do) they come from Cauchy's integral formula, the
        trapezoidal rule on a circle of radius ``strip / 4`` with 32 points (error ``~4^-32``
        relative to ``phi'`` on the circle of radius ``strip``); otherwise the spectrum refuses with
        a message asking for a sympy expression or the derivatives. ``strip`` is the distance of
        ``phi'``'s nearest complex singularity (a guess; the density solver's certificates catch a
        bad one).
        """
        if not (callable(phi) and callable(dphi)):
            raise ArgumentTypeError("activation pair must be two callables (phi, phi')")
        nm = name or getattr(phi, "__name__", "user")
        d1 = _vectorize(dphi)
        try:
            probe = np.asarray(d1(np.array([0.3 + 0.2j, -0.7 + 0.1j])))
            complex_ok = probe.dtype.kind == "c" and bool(np.all(np.isfinite(probe))) and bool(np.any(probe.imag != 0))
        except (TypeError, ValueError):
            complex_ok = False
        d2 = d3 = None
        if complex_ok:
            r = min(0.25 * float(strip), 0.5) if math.isfinite(strip) else 0.5
            d2, d3 = _cauchy_derivatives(d1, r)
        pieces = ((-INF, INF, "smooth" if complex_ok else "real", None),)
        return cls(nm, _vectorize(phi), d1, d2, d3, pieces=pieces, strip=strip, even=even,
                   key=("callables", nm, id(phi), id(dphi)))

    @classmethod
    def from_sympy(cls, expr, symbol=None, *, name: str | None = None, strip: float = 1.0) -> "Activation":
        """A smooth activation from a sympy expression in one symbol (derivatives by sympy).

        >>> h = sp.Symbol("h")
        >>> act = Activation.from_sympy(sp.log(1 + sp.exp(h)))
        >>> round(float(act.dphi(np.array(0.0))), 12)
        0.5
        """
        expr = sp.sympify(expr)
        syms = sorted(expr.free_symbols, key=lambda s: s.name)
        if symbol is None:
            if len(syms) != 1:
                raise ArgumentValueError(f"activation expression must have exactly one free symbol, got {syms}")
            symbol = syms[0]
        d1 = sp.diff(expr, symbol)
        d2 = sp.diff(d1, symbol)
        d3 = sp.diff(d2, symbol)
        mods = ["numpy", {"erf": special.erf, "erfc": special.erfc}]
        fns = [_vectorize(sp.lambdify(symbol, e, modules=mods)) for e in (expr, d1, d2, d3)]
        nm = name or str(expr)
        even = bool(sp.simplify(d1.subs(symbol, -symbol) ** 2 - d1**2) == 0)
        return cls(nm, *fns, pieces=((-INF, INF, "smooth", None),), strip=strip, even=even,
                   key=("sympy", sp.srepr(expr)))


def _cauchy_derivatives(f, r: float, n: int = 32):
    """``f'`` and ``f''`` of an analytic ``f = phi'`` (numpy, complex input) by Cauchy's
    formula: the trapezoidal rule on the circle ``|zeta - x| = r`` (geometric convergence in ``n``)."""
    roots = np.exp(2j * np.pi * np.arange(n) / n)

    def d2(x):  # f', the second derivative of phi
        v = f(np.asarray(x, dtype=complex)[..., None] + r * roots)
        return np.mean(v / roots, axis=-1) / r

    def d3(x):  # f''
        v = f(np.asarray(x, dtype=complex)[..., None] + r * roots)
        return 2.0 * np.mean(v / roots**2, axis=-1) / r**2

    return d2, d3


def _vectorize(f):
    def g(x):
        out = f(x)
        return np.broadcast_to(out, np.shape(x)) * 1.0 if np.ndim(out) < np.ndim(x) else out

    g.__name__ = getattr(f, "__name__", "f")
    return g


# ---- built-ins --------------------------------------------------------------------------------

def _sigma(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _sech2(x):
    return 1.0 / np.cosh(x) ** 2


def _linear():
    one = lambda x: np.ones_like(np.asarray(x, dtype=float))  # noqa: E731
    return Activation("linear", lambda x: np.asarray(x, dtype=float) * 1.0, one,
                      pieces=((-INF, INF, "const", 1.0),), strip=INF, even=True, key=("linear",))


def _relu():
    return Activation("relu", lambda x: np.maximum(np.asarray(x, dtype=float), 0.0),
                      lambda x: (np.asarray(x, dtype=float) > 0).astype(float),
                      pieces=((-INF, 0.0, "const", 0.0), (0.0, INF, "const", 1.0)), strip=INF, kinks=(0.0,),
                      key=("relu",))


def leaky_relu(slope: float = 0.01) -> Activation:
    """Leaky ReLU ``max(h, a h)``, ``0 <= a < 1`` (``a = 0`` is ReLU): ``phi'^2`` has atoms
    ``{a^2, 1}`` of mass 1/2 each.

    >>> leaky_relu(0.1).dphi(np.array([-1.0, 2.0])).tolist()
    [0.1, 1.0]
    """
    a = check_real("slope", slope, lo=0.0, hi=1.0, hi_open=True)

    def phi_(x):
        x = np.asarray(x, dtype=float)
        return np.where(x > 0, x, a * x)

    def dphi_(x):
        return np.where(np.asarray(x, dtype=float) > 0, 1.0, a)

    return Activation(f"leaky_relu({a:g})", phi_, dphi_, pieces=((-INF, 0.0, "const", a), (0.0, INF, "const", 1.0)),
                      strip=INF, kinks=(0.0,), key=("leaky_relu", a))


def _hard_tanh():
    return Activation("hard_tanh", lambda x: np.clip(np.asarray(x, dtype=float), -1.0, 1.0),
                      lambda x: (np.abs(np.asarray(x, dtype=float)) < 1).astype(float),
                      pieces=((-INF, -1.0, "const", 0.0), (-1.0, 1.0, "const", 1.0), (1.0, INF, "const", 0.0)),
                      strip=INF, even=True, kinks=(-1.0, 1.0), key=("hard_tanh",))


def _tanh():
    def d2(x):
        return -2.0 * np.tanh(x) * _sech2(x)

    def d3(x):
        t = np.tanh(x)
        return _sech2(x) * (4.0 * t * t - 2.0 * _sech2(x))

    def logd(x):
        t = np.tanh(x)
        u = 1.0 - t * t
        return np.log(u), -2.0 * t, -2.0 * u

    return Activation("tanh", lambda x: np.tanh(np.asarray(x, dtype=float)), lambda x: _sech2(np.asarray(x)),
                      d2, d3, strip=math.pi / 2, even=True, key=("tanh",), logdphi=logd)


def _erf():
    c = 2.0 / math.sqrt(math.pi)

    def d1(x):
        x = np.asarray(x)
        return c * np.exp(-x * x)

    def logd(x):
        return math.log(c) - x * x, -2.0 * x, -2.0 + 0.0 * x

    return Activation("erf", lambda x: special.erf(np.asarray(x, dtype=float)), d1, lambda x: -2.0 * x * d1(x),
                      lambda x: (4.0 * x * x - 2.0) * d1(x), strip=INF, even=True, key=("erf",), logdphi=logd)


def _sigmoid():
    def d1(x):
        s = _sigma(np.asarray(x))
        return s * (1.0 - s)

    def d2(x):
        s = _sigma(x)
        return s * (1.0 - s) * (1.0 - 2.0 * s)

    def d3(x):
        s = _sigma(x)
        return s * (1.0 - s) * (1.0 - 6.0 * s + 6.0 * s * s)

    def logd(x):
        s = _sigma(x)
        return np.log(s) + np.log(1.0 - s), 1.0 - 2.0 * s, -2.0 * s * (1.0 - s)

    return Activation("sigmoid", lambda x: _sigma(np.asarray(x, dtype=float)), d1, d2, d3, strip=math.pi,
                      even=True, key=("sigmoid",), logdphi=logd)


def _softplus():
    def phi_(x):
        x = np.asarray(x, dtype=float)
        return np.logaddexp(0.0, x)

    def d2(x):
        s = _sigma(x)
        return s * (1.0 - s)

    def d3(x):
        s = _sigma(x)
        return s * (1.0 - s) * (1.0 - 2.0 * s)

    def logd(x):
        s = _sigma(x)
        return np.log(s), 1.0 - s, -s * (1.0 - s)

    return Activation("softplus", phi_, lambda x: _sigma(np.asarray(x)), d2, d3, strip=math.pi, key=("softplus",),
                      logdphi=logd)


def _gelu():
    r2 = math.sqrt(2.0)

    def Phi(x):
        return 0.5 * special.erfc(-np.asarray(x) / r2)

    def npdf(x):
        x = np.asarray(x)
        return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)

    return Activation("gelu", lambda x: np.asarray(x, dtype=float) * Phi(np.asarray(x, dtype=float)),
                      lambda x: Phi(x) + np.asarray(x) * npdf(x), lambda x: npdf(x) * (2.0 - x * x),
                      lambda x: npdf(x) * (x**3 - 4.0 * x), strip=INF, key=("gelu",))


def _swish():
    def d1(x):
        x = np.asarray(x)
        s = _sigma(x)
        return s + x * s * (1.0 - s)

    def d2(x):
        s = _sigma(x)
        return 2.0 * s * (1.0 - s) + x * s * (1.0 - s) * (1.0 - 2.0 * s)

    def d3(x):
        s = _sigma(x)
        return 3.0 * s * (1.0 - s) * (1.0 - 2.0 * s) + x * s * (1.0 - s) * (1.0 - 6.0 * s + 6.0 * s * s)

    return Activation("swish", lambda x: np.asarray(x, dtype=float) * _sigma(np.asarray(x, dtype=float)), d1, d2, d3,
                      strip=math.pi, key=("swish",))


def elu(alpha: float = 1.0, *, scale: float = 1.0, name: str | None = None) -> Activation:
    """ELU (Clevert et al. 2016) ``scale * (h if h > 0 else alpha (e^h - 1))``; ``selu`` is
    ``scale = lambda``, ``alpha = alpha`` of Klambauer et al. (2017). ``phi'^2`` has an atom
    ``scale^2`` (mass 1/2) and a continuous part on ``(0, (scale alpha)^2)``.

    >>> elu(1.0).dphi(np.array([-1.0, 1.0])).round(6).tolist()
    [0.367879, 1.0]
    """
    a = check_real("alpha", alpha, lo=0.0, lo_open=True)
    lam = check_real("scale", scale, lo=0.0, lo_open=True)

    def phi_(x):
        x = np.asarray(x, dtype=float)
        return lam * np.where(x > 0, x, a * np.expm1(np.minimum(x, 0.0)))

    def dphi_(x):
        x = np.asarray(x)
        if np.iscomplexobj(x):
            return lam * a * np.exp(x)  # the analytic piece h < 0
        return lam * np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0.0)))

    def d23(x):
        return lam * a * np.exp(x)

    def logd(x):
        return math.log(lam * a) + x, 1.0 + 0.0 * x, 0.0 * x

    nm = name or (f"elu({a:g})" if lam == 1.0 else f"elu({a:g}, scale={lam:g})")
    return Activation(nm, phi_, dphi_, d23, d23, pieces=((-INF, 0.0, "smooth", None), (0.0, INF, "const", lam)),
                      strip=INF, kinks=(0.0,), key=("elu", a, lam), logdphi=logd)


ACTIVATIONS: dict[str, Activation] = {
    "linear": _linear(),
    "relu": _relu(),
    "leaky_relu": leaky_relu(0.01),
    "hard_tanh": _hard_tanh(),
    "tanh": _tanh(),
    "erf": _erf(),
    "sigmoid": _sigmoid(),
    "softplus": _softplus(),
    "gelu": _gelu(),
    "swish": _swish(),
    "elu": elu(1.0, name="elu"),
    "selu": elu(SELU_ALPHA, scale=SELU_LAMBDA, name="selu"),
}
ACTIVATIONS["silu"] = ACTIVATIONS["swish"]


def as_activation(obj, name: str = "activation") -> Activation:
    """An :class:`Activation` from a built-in name, an :class:`Activation`, a pair of callables
    ``(phi, phi')`` or a sympy expression in one symbol.

    Raises :class:`~degeneracy.errors.ArgumentValueError` naming the argument for an unknown
    name and :class:`~degeneracy.errors.ArgumentTypeError` for anything else.
    """
    if isinstance(obj, Activation):
        return obj
    if isinstance(obj, str):
        return ACTIVATIONS[check_choice(name, obj, ACTIVATIONS)]
    if isinstance(obj, sp.Basic):
        return Activation.from_sympy(obj)
    if isinstance(obj, (tuple, list)) and len(obj) == 2 and all(callable(f) for f in obj):
        return Activation.from_callables(obj[0], obj[1])
    if isinstance(obj, numbers.Number):
        raise ArgumentTypeError(f"{name} must be a name, an Activation, a (phi, phi') pair or a sympy expression, "
                                f"got {obj!r}")
    raise ArgumentTypeError(f"{name} must be one of {', '.join(ACTIVATIONS)}, an Activation, a (phi, phi') pair of "
                            f"callables or a sympy expression, got {type(obj).__name__}")


def activation(name) -> Activation:
    """The activation called ``name`` (or any input of :func:`as_activation`); unpacks as
    ``(phi, dphi)``. Derivatives at the kinks (ReLU at 0, hard-tanh at +-1) are taken as 0 (the
    right limit for leaky ReLU / ELU), a set of measure zero under any continuous law."""
    return as_activation(name)


def phi(name, x) -> np.ndarray:
    """``phi(x)`` for the named activation."""
    return as_activation(name).phi(x)


def dphi(name, x) -> np.ndarray:
    """``phi'(x)`` for the named activation."""
    return as_activation(name).dphi(x)
