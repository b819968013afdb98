"""Small fully connected networks with symbolic parameters: the models of the singularity analysis.

A model is an architecture (Orhan & Pitkow 2018, sec. 2; docs/formulas.md §6)::

    h_0 = x,   h_l = phi(W_l h_{l-1} + b_l) [+ h_{l-1}]   (l = 1..L hidden layers),   f = V h_L [+ c]

with input dimension ``n``, hidden widths ``(H_1, ..., H_L)``, ``m`` outputs, optional biases
``b_l``, ``c`` (all or none), and an identity skip ``[+ h_{l-1}]`` on any hidden layer whose width
equals its input's (``skip`` is one flag for every layer or one flag per layer). The activation is

``"phi"``
    the undefined sympy function :class:`phi` (derivatives :class:`dphi`, :class:`d2phi`): a
    certificate proved for it holds for every smooth activation;
``"odd"``
    the undefined ``phi`` with ``phi(-z) = -phi(z)`` (tanh, erf): :func:`apply_parity` rewrites
    ``phi(-z) -> -phi(z)``, ``dphi(-z) -> dphi(z)``, ... so certificates can use the symmetry;
``"linear"``
    ``phi(z) = z``.

Exact ranks need a concrete activation with exact rational values: :func:`rational_activation`
gives ``z / (1 + z^2)`` for ``"odd"`` (odd, ``phi(0) = 0``, ``phi'(0) = 1``) and
``(z + z^2/2) / (1 + z/3 + z^2)`` for ``"phi"`` (neither odd nor even, ``phi(0) = 0``,
``phi'(0) = 1``). A stand-in must not satisfy identities a generic activation does not: ``(z + z^2)
/ (1 + z^2)`` (an even denominator) or ``tanh + tanh^2/2`` (``tanh' = 1 - tanh^2``) make
``{1, phi(z), phi(-z), phi'(z), phi'(-z)}`` linearly dependent, a null direction at a sign-flip
overlap with biases that a generic ``phi`` does not have. An exact null dimension is certified by
the vectors that hold for every ``phi``, so a stand-in with an extra identity can only cause a
refusal (:class:`~degeneracy.errors.CertificationError`), never a wrong number.

Examples
--------
>>> m = network(3, (3, 3), skip=(False, True))
>>> m.depth, m.size, m.skip
(2, 21, (False, True))
>>> one_hidden_layer(3, 2).names[:4]
('W1[0,0]', 'W1[0,1]', 'W1[0,2]', 'W1[1,0]')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Sequence

import sympy as sp

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
from degeneracy.validation import check_choice, check_positive_int

__all__ = [
    "phi",
    "dphi",
    "d2phi",
    "d3phi",
    "ACTIVATIONS",
    "Model",
    "network",
    "one_hidden_layer",
    "two_hidden_layers",
    "apply_parity",
    "rational_phi",
    "rational_activation",
]


# ---------------------------------------------------------------------------------------------
# the undefined activation, with named derivatives so that expressions stay structurally canonical


class d3phi(sp.Function):
    """Third derivative of the undefined activation (kept unevaluated)."""


class d2phi(sp.Function):
    """``phi''``: second derivative of the undefined activation."""

    def fdiff(self, argindex=1):
        return d3phi(self.args[0])


class dphi(sp.Function):
    """``phi'``: first derivative of the undefined activation."""

    def fdiff(self, argindex=1):
        return d2phi(self.args[0])


class phi(sp.Function):
    """The undefined activation ``phi``; ``diff`` gives ``dphi`` (structurally canonical)."""

    def fdiff(self, argindex=1):
        return dphi(self.args[0])


#: the activations a model can have (module docstring)
ACTIVATIONS = ("phi", "odd", "linear")

#: parity of phi and its derivatives for an odd phi: f(-z) = sign * f(z)
_PARITY = {phi: -1, dphi: 1, d2phi: -1, d3phi: 1}


def apply_parity(expr):
    """Rewrite ``phi(-z) = -phi(z)``, ``dphi(-z) = dphi(z)``, ``d2phi(-z) = -d2phi(z)``, ... (odd ``phi``).

    An argument is rewritten when sympy can extract a minus sign from it (exactly one of ``z`` and
    ``-z`` qualifies), innermost first, until nothing changes.

    >>> z = sp.Symbol("z")
    >>> apply_parity(phi(-z) + phi(z) + dphi(-z) - dphi(z))
    0
    """
    expr = sp.sympify(expr)
    for _ in range(64):
        new = expr.replace(
            lambda e: type(e) in _PARITY and e.args[0].could_extract_minus_sign(),
            lambda e: _PARITY[type(e)] * type(e)(-e.args[0]),
        )
        if new == expr:
            return new
        expr = new
    raise ArgumentValueError("apply_parity did not reach a fixed point in 64 passes")  # pragma: no cover


def rational_phi(z):
    """The odd rational test activation ``phi(z) = z / (1 + z^2)`` (exact on Fractions).

    Odd, ``phi(0) = 0``, ``phi'(0) = 1``, nonlinear and analytic, with no continuous parameter
    symmetry in a network; used for exact ranks of ``"odd"`` models.

    >>> from fractions import Fraction
    >>> rational_phi(Fraction(1, 2))
    Fraction(2, 5)
    """
    return z / (1 + z * z)


def _rational_dphi(z):
    d = 1 + z * z
    return (1 - z * z) / (d * d)


def _generic_phi(z):
    return (z + z * z / 2) / (1 + z / 3 + z * z)


def _generic_dphi(z):
    q = 1 + z / 3 + z * z
    return ((1 + z) * q - (z + z * z / 2) * (2 * z + Fraction(1, 3))) / (q * q)


def _identity(z):
    return z


def _one(z):
    return z * 0 + 1


def rational_activation(activation: str) -> tuple[Callable, Callable]:
    """``(phi, phi')`` with exact rational values for the model activation ``activation``.

    ``"odd"``: ``z / (1 + z^2)``; ``"phi"``: ``(z + z^2/2) / (1 + z/3 + z^2)`` (no parity);
    ``"linear"``: the identity. Both nonlinear ones have ``phi(0) = 0`` and ``phi'(0) = 1``.

    >>> from fractions import Fraction
    >>> f, df = rational_activation("phi")
    >>> f(Fraction(1)), df(Fraction(0))
    (Fraction(9, 14), Fraction(1, 1))
    """
    check_choice("activation", activation, ACTIVATIONS)
    return {"odd": (rational_phi, _rational_dphi), "phi": (_generic_phi, _generic_dphi),
            "linear": (_identity, _one)}[activation]


# ---------------------------------------------------------------------------------------------
# models


@dataclass(frozen=True)
class Model:
    """A network with ``L >= 1`` hidden layers and symbolic parameters (module docstring).

    Attributes
    ----------
    n : int
        Input dimension.
    widths : tuple of int
        Hidden widths ``(H_1, ..., H_L)``.
    m : int
        Number of outputs.
    skip : tuple of bool
        ``skip[l-1]``: identity skip on hidden layer ``l`` (a bool given to the constructor applies
        to every layer).
    bias : bool
        Biases on every layer and on the readout.
    activation : {"phi", "odd", "linear"}
    names : tuple of str
        Parameter names in the flat order ``W1`` (row-major), ``b1``, ``W2``, ``b2``, ..., ``V``, ``c``.
    """

    n: int
    widths: tuple
    m: int = 1
    skip: tuple = ()
    bias: bool = False
    activation: str = "phi"
    names: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        names = []
        dims = (self.n,) + tuple(self.widths)
        for l in range(1, len(dims)):
            names += [f"W{l}[{i},{k}]" for i in range(dims[l]) for k in range(dims[l - 1])]
            if self.bias:
                names += [f"b{l}[{i}]" for i in range(dims[l])]
        names += [f"V[{o},{i}]" for o in range(self.m) for i in range(dims[-1])]
        if self.bias:
            names += [f"c[{o}]" for o in range(self.m)]
        object.__setattr__(self, "names", tuple(names))

    # ---- bookkeeping
    @property
    def depth(self) -> int:
        """Number of hidden layers ``L``."""
        return len(self.widths)

    @property
    def dims(self) -> tuple:
        """``(n, H_1, ..., H_L)``."""
        return (self.n,) + tuple(self.widths)

    @property
    def size(self) -> int:
        """Number of parameters ``P``."""
        return len(self.names)

    @property
    def symbols(self) -> tuple:
        """The parameter symbols, in the order of :attr:`names`."""
        return tuple(sp.Symbol(s, real=True) for s in self.names)

    @property
    def inputs(self) -> tuple:
        """Input symbols ``x0..x{n-1}``."""
        return tuple(sp.Symbol(f"x{k}", real=True) for k in range(self.n))

    def has_skip(self, layer: int) -> bool:
        """Whether hidden layer ``layer`` (1-based; ``L + 1`` is the readout: never) has an identity skip."""
        return 1 <= layer <= self.depth and bool(self.skip[layer - 1])

    def index(self, name: str) -> int:
        """Position of the parameter called ``name`` (e.g. ``"W1[0,2]"``)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise ArgumentValueError(f"no parameter {name!r} in this model") from None

    def symbol(self, name: str) -> sp.Symbol:
        """The symbol of parameter ``name``."""
        self.index(name)
        return sp.Symbol(name, real=True)

    def describe(self) -> str:
        """A one-line description, e.g. ``n=3, widths (3, 3), m=1, skips on layers 2, phi``."""
        sk = [str(l) for l in range(1, self.depth + 1) if self.has_skip(l)]
        return (f"n={self.n}, widths {tuple(self.widths)}, m={self.m}, "
                f"{'skips on layers ' + ', '.join(sk) if sk else 'no skips'}"
                f"{', biases' if self.bias else ''}, {self.activation}")

    def _act(self, z):
        return z if self.activation == "linear" else phi(z)

    # ---- symbolic output and Jacobian
    def output(self) -> sp.Matrix:
        """The ``m x 1`` symbolic output ``f(x)``."""
        S = self.symbol
        h = sp.Matrix(self.inputs)
        dims = self.dims
        for l in range(1, len(dims)):
            z = sp.Matrix([sum(S(f"W{l}[{i},{k}]") * h[k] for k in range(dims[l - 1]))
                           + (S(f"b{l}[{i}]") if self.bias else 0) for i in range(dims[l])])
            new = z.applyfunc(self._act)
            if self.has_skip(l):
                new = new + h
            h = new
        return sp.Matrix([sum(S(f"V[{o},{i}]") * h[i] for i in range(dims[-1])) + (S(f"c[{o}]") if self.bias else 0)
                          for o in range(self.m)])

    def jacobian(self) -> sp.Matrix:
        """The ``m x P`` symbolic parameter Jacobian ``J = d f / d theta``."""
        return self.output().jacobian(sp.Matrix(self.symbols))


def _skips(skip, widths, n) -> tuple:
    if isinstance(skip, bool):
        flags = (skip,) * len(widths)
    else:
        try:
            flags = tuple(skip)
        except TypeError:
            raise ArgumentTypeError(f"skip must be a bool or a sequence of bools, got {skip!r}") from None
        if len(flags) != len(widths) or not all(isinstance(s, bool) for s in flags):
            raise ArgumentValueError(f"skip must be a bool or one bool per hidden layer ({len(widths)}), got {skip!r}")
    dims = (n,) + tuple(widths)
    for l, s in enumerate(flags, start=1):
        if s and dims[l] != dims[l - 1]:
            raise ArgumentValueError(
                f"identity skip connections need a skipped layer as wide as its input: hidden layer {l} has width "
                f"{dims[l]}, its input {dims[l - 1]} (n={n}, widths {tuple(widths)})")
    return flags


def network(n: int, widths: Sequence[int], *, m: int = 1, skip=False, bias: bool = False,
            activation: str = "phi") -> Model:
    """A model with any number of hidden layers (module docstring).

    Parameters
    ----------
    n : int >= 1
        Input dimension.
    widths : sequence of int >= 1
        Hidden widths ``(H_1, ..., H_L)``, ``L >= 1``.
    m : int >= 1
        Outputs.
    skip : bool or sequence of bool
        Identity skips: on every hidden layer, or one flag per hidden layer (a skipped layer's width
        must equal its input's).
    bias : bool
    activation : {"phi", "odd", "linear"}

    Raises
    ------
    ArgumentValueError, ArgumentTypeError
        For sizes below 1, a skip on a layer whose width differs from its input's, an unknown
        activation or flags that are not booleans.

    >>> network(2, (2, 3), skip=(True, False)).skip
    (True, False)
    >>> network(2, (3,), skip=True)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: identity skip connections need a skipped layer as wide as its input: hidden layer 1 has width 3, its input 2 (n=2, widths (3,))
    """
    n = check_positive_int("n", n)
    try:
        widths = tuple(widths)
    except TypeError:
        raise ArgumentTypeError(f"widths must be a sequence of positive integers, got {widths!r}") from None
    if not widths:
        raise ArgumentValueError("widths must name at least one hidden layer")
    widths = tuple(check_positive_int(f"widths[{i}]", w) for i, w in enumerate(widths))
    m = check_positive_int("m", m)
    check_choice("activation", activation, ACTIVATIONS)
    if not isinstance(bias, bool):
        raise ArgumentTypeError(f"bias must be a boolean, got {bias!r}")
    return Model(n, widths, m, _skips(skip, widths, n), bias, activation)


def one_hidden_layer(n: int, H: int, *, m: int = 1, skip=False, bias: bool = False,
                     activation: str = "phi") -> Model:
    """``f(x) = V (phi(W1 x + b1) [+ x]) [+ c]`` with ``H`` hidden units.

    >>> one_hidden_layer(3, 2).size
    8
    >>> one_hidden_layer(3, 2, skip=True)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: identity skip connections need a skipped layer as wide as its input: hidden layer 1 has width 2, its input 3 (n=3, widths (2,))
    """
    return network(n, (H,), m=m, skip=skip, bias=bias, activation=activation)


def two_hidden_layers(n: int, H1: int, H2: int, *, m: int = 1, skip=False, bias: bool = False,
                      activation: str = "phi") -> Model:
    """``h1 = phi(W1 x + b1) [+ x]``, ``h2 = phi(W2 h1 + b2) [+ h1]``, ``f = V h2 [+ c]``.

    >>> two_hidden_layers(2, 2, 2, skip=True).size
    10
    """
    return network(n, (H1, H2), m=m, skip=skip, bias=bias, activation=activation)

