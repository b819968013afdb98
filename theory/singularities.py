"""Singular manifolds of small networks: exact null directions, exact ranks, skip connections.

Models (column vectors, scalar or vector readout)::

    one hidden layer   h = phi(W1 x + b1) [+ x],                       f = V h [+ c]
    two hidden layers  h1 = phi(W1 x + b1) [+ x],  h2 = phi(W2 h1 + b2) [+ h1],  f = V h2 [+ c]

``[+ x]`` is the identity skip connection of Orhan & Pitkow (2018), ``x_{l+1} = phi(W x_l) + x_l``
(it needs equal widths); ``b``, ``c`` are the optional biases. The activation is the undefined
sympy function ``phi`` (with derivatives ``dphi``, ``d2phi``) wherever an argument does not depend on
its form, so a certificate proved here holds for every smooth activation.

Singular sets (Amari, Park & Ozeki 2006; Wei et al. 2008; Orhan & Pitkow 2018; docs/formulas.md §6),
as constructors returning a :class:`SingularSet` (a substitution that puts a generic point on the set):
:func:`overlap` (``w_j = w_i``), :func:`eliminate_incoming` (``w_i = 0``, ``b_i = 0``, with
``phi(0) = 0``), :func:`eliminate_outgoing` (the unit's outgoing weights are zero) and
:func:`linear_dependence` (``w_c = a w_a + b w_b``).

For each set, :func:`null_directions` returns explicit vectors ``u`` with ``J(x) u = 0`` for every
input ``x``, where ``J`` is the symbolic parameter Jacobian of ``f`` (a *certificate*,
:func:`certify_null_direction`); then ``G u = 0`` for the Fisher information / Gauss-Newton matrix
``G = E[J^T J]`` under any input law. :func:`exact_null_dimension` proves that there are no others at
a generic point: it evaluates ``J`` in exact rational arithmetic (Fractions) at a rational point of
the set for the rational activation ``phi(z) = z / (1 + z^2)`` (``phi(0) = 0``, ``phi'(0) = 1``, no
continuous symmetry) on more input samples than parameters; the sampled rank is a lower bound for the
rank of ``G``, the certified null vectors give the upper bound; if they meet, the rank is exact,
otherwise :class:`~theory.errors.CertificationError` is raised.

Findings (computed by :func:`degeneracy_table` and stored in :data:`DEGENERACY_TABLE`;
``n = H = H1 = H2 = 3``, scalar readout and no biases unless stated; entries are the exact null
dimension of the Fisher information at a generic point of the set, for the rational activation; the
certified null vectors hold for every ``phi``)

=============================================  ======  =======  ======  =======
singular set                                   1L      1L+skip  2L      2L+skip
=============================================  ======  =======  ======  =======
generic point (P = 12, 12, 21, 21)             0       0        0       0
overlap, last hidden layer                     n+1=4   n=3      n+1=4   n=3
overlap, first of two layers                   --      --       H2=3    0
incoming elimination, last layer               1       1        1       1
incoming elimination, first of two             --      --       H2=3    0
outgoing elimination, last layer               n=3     n=3      H1=3    H1=3
outgoing elimination, first of two             --      --       n=3     0
linear dependence w_c = a w_a + b w_b          0       0        0       0
overlap, vector readout (m=2)                  m=2     0        --      --
incoming elimination, vector readout (m=2)     m=2     1        --      --
overlap, with biases                           n+2=5   n+1=4    --      --
incoming elimination, with biases              2       2        --      --
linear network f = V W x (m=4), generic        H^2=9   9        --      --
linear network, linear dependence              10      9        --      --
=============================================  ======  =======  ======  =======

* **A skip does not remove the degeneracies of the last hidden layer**, the one that feeds the linear
  readout. At an overlap there, ``d f / d w_i = v_i phi'(w.x) x`` and ``d f / d w_j = v_j phi'(w.x) x``
  stay proportional, with or without ``+ x``: the ``n`` directions ``v_j e_{w_i} - v_i e_{w_j}`` survive;
  only the outgoing direction ``e_{v_i} - e_{v_j}`` is broken (``h_i - h_j = x_i - x_j != 0``). An
  outgoing elimination ``v_i = 0`` there keeps all ``n`` incoming directions null (the unit's output is
  multiplied by zero whatever the skip carries). An incoming elimination keeps ONE null direction
  but a different one: without skip ``e_{v_i}`` (``h_i = phi(0) = 0``); with skip ``h_i = x_i`` and
  ``d f/d w_ii = v_i phi'(0) x_i`` is proportional to ``d f / d v_i = x_i``, so
  ``e_{w_ii} - v_i phi'(0) e_{v_i}`` is null.
* **In a hidden layer followed by another hidden layer, the skip removes every degeneracy**: overlap
  (``H2`` outgoing directions without skip), incoming elimination (``H2``) and outgoing elimination
  (``n`` incoming directions) all go to null dimension 0, because the skip carries the unit's own input
  ``x_i`` past the next layer to the readout. This is the precise content of the caveat in the issue:
  one hidden layer + linear readout keeps the w-direction degeneracy of an overlap, two hidden layers
  lose it (in the first layer).
* The w-direction null of an overlap needs a scalar outgoing weight: with a vector readout (``m > 1``)
  or in the first of two layers it is absent even without skips (the ``n + 1`` count is special to a
  scalar readout), and then the skip removes the overlap degeneracy completely (``m = 2``: 2 -> 0).
* With biases, a unit with zero incoming weights outputs a constant; the shift ``phi'(0) db_i`` is
  absorbed by the downstream bias (``e_{b_i} - phi'(0) v_i e_c``), a null direction that no skip
  removes (the skip carries ``x_i``, not the constant). In the first of two layers with skip it is the
  only survivor (``e_{b1_i} - phi'(0) (sum_k W2_ki e_{b2_k} + v_i e_c)``).
* **Linear dependence of incoming weights** ``w_c = a w_a + b w_b`` is not a singularity for a
  nonlinear activation (``phi(a z_a + b z_b)`` is not a combination of ``phi(z_a)``, ``phi(z_b)``): null
  dimension 0, exactly. It is one when the units act linearly (``phi`` affine on the data, e.g. ReLU
  units active on every input). A linear one-hidden-layer network ``f = V W x`` always has the
  ``H^2`` null directions of ``GL(H)``; linear dependence adds ``m - H`` more (``m`` outputs), the
  combinations ``e_o (a e_{v_a} + b e_{v_b} - e_{v_c})`` of outgoing weights modulo ``GL(H)``; with the
  skip (``f = V (W + I) x``) ``W + I`` stays invertible and the extra directions are gone.

Fukumizu & Amari (2000): :func:`critical_line_hessian_certificate` proves that embedding a critical
point of an ``(H-1)``-unit network into ``H`` units by splitting a unit (``w_a = w_b = w*``,
``v_a = lambda v*``, ``v_b = (1 - lambda) v*``) gives critical points for every ``lambda`` and that the
Hessian of the loss in the separating coordinate ``zeta = w_a - w_b`` is ``lambda (1 - lambda) A`` with
``A = v* E[l'(y, f*(x)) phi''(w*.x) x x^T]`` (:func:`critical_line_classification`).

Examples
--------
>>> m = one_hidden_layer(2, 2)
>>> s = overlap(m, 0, 1)
>>> [label for label, _ in null_directions(s)]
['outgoing V[0,0]-V[0,1]', 'incoming k=0', 'incoming k=1']
>>> all(certify_null_direction(s, u)[0] for _, u in null_directions(s))
True
>>> exact_null_dimension(s)
3
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable, Sequence

import numpy as np
import sympy as sp

from degeneracy.errors import ArgumentTypeError, ArgumentValueError, CertificationError
from degeneracy.validation import check_choice, check_int, check_positive_int

__all__ = [
    "phi",
    "dphi",
    "d2phi",
    "Model",
    "one_hidden_layer",
    "two_hidden_layers",
    "SingularSet",
    "generic_point",
    "overlap",
    "eliminate_incoming",
    "eliminate_outgoing",
    "linear_dependence",
    "null_directions",
    "certify_null_direction",
    "exact_jacobian",
    "exact_rank",
    "exact_null_dimension",
    "rational_phi",
    "degeneracy_table",
    "DEGENERACY_TABLE",
    "critical_line_gradient_certificate",
    "critical_line_hessian_certificate",
    "critical_line_hessian",
    "critical_line_classification",
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


def rational_phi(z):
    """The rational test activation ``phi(z) = z / (1 + z^2)`` (exact on Fractions).

    Odd, ``phi(0) = 0``, ``phi'(0) = 1``, nonlinear and analytic, with no continuous parameter
    symmetry in a network; used for exact ranks.

    >>> rational_phi(Fraction(1, 2))
    Fraction(2, 5)
    """
    return z / (1 + z * z)


def _rational_dphi(z):
    d = 1 + z * z
    return (1 - z * z) / (d * d)


# ---------------------------------------------------------------------------------------------
# models

ACTIVATIONS = ("phi", "linear")


@dataclass(frozen=True)
class Model:
    """A one- or two-hidden-layer network with symbolic parameters.

    Attributes
    ----------
    n : input dimension; widths : hidden widths ``(H,)`` or ``(H1, H2)``; m : outputs;
    skip : identity skip connections on every hidden layer; bias : biases on every layer;
    activation : ``"phi"`` (undefined) or ``"linear"``.
    """

    n: int
    widths: tuple
    m: int = 1
    skip: bool = False
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
        """Number of hidden layers (1 or 2)."""
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

    def _act(self, z):
        return z if self.activation == "linear" else phi(z)

    # ---- symbolic output and Jacobian
    def output(self) -> sp.Matrix:
        """The ``m x 1`` symbolic output ``f(x)``."""
        S = self.symbol
        h = sp.Matrix(self.inputs)
        dims = self.dims
        for l in range(1, len(dims)):
            z = sp.Matrix(
                [
                    sum(S(f"W{l}[{i},{k}]") * h[k] for k in range(dims[l - 1]))
                    + (S(f"b{l}[{i}]") if self.bias else 0)
                    for i in range(dims[l])
                ]
            )
            new = z.applyfunc(self._act)
            if self.skip:
                new = new + h
            h = new
        f = sp.Matrix(
            [
                sum(S(f"V[{o},{i}]") * h[i] for i in range(dims[-1])) + (S(f"c[{o}]") if self.bias else 0)
                for o in range(self.m)
            ]
        )
        return f

    def jacobian(self) -> sp.Matrix:
        """The ``m x P`` symbolic parameter Jacobian ``J = d f / d theta``."""
        return self.output().jacobian(sp.Matrix(self.symbols))


def _make(n, widths, m, skip, bias, activation) -> Model:
    n = check_positive_int("n", n)
    widths = tuple(check_positive_int(f"widths[{i}]", w) for i, w in enumerate(widths))
    m = check_positive_int("m", m)
    check_choice("activation", activation, ACTIVATIONS)
    if not isinstance(skip, bool) or not isinstance(bias, bool):
        raise ArgumentTypeError(f"skip and bias must be booleans, got skip={skip!r}, bias={bias!r}")
    if skip and any(w != n for w in widths):
        raise ArgumentValueError(
            f"identity skip connections need every hidden width equal to the input dimension n={n}, "
            f"got widths {widths}"
        )
    return Model(n, widths, m, skip, bias, activation)


def one_hidden_layer(
    n: int, H: int, *, m: int = 1, skip: bool = False, bias: bool = False, activation: str = "phi"
) -> Model:
    """``f(x) = V (phi(W1 x + b1) [+ x]) [+ c]`` with ``H`` hidden units.

    >>> one_hidden_layer(3, 2).size
    8
    >>> one_hidden_layer(3, 2, skip=True)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: identity skip connections need every hidden width equal to the input dimension n=3, got widths (2,)
    """
    return _make(n, (H,), m, skip, bias, activation)


def two_hidden_layers(
    n: int, H1: int, H2: int, *, m: int = 1, skip: bool = False, bias: bool = False, activation: str = "phi"
) -> Model:
    """``h1 = phi(W1 x + b1) [+ x]``, ``h2 = phi(W2 h1 + b2) [+ h1]``, ``f = V h2 [+ c]``.

    >>> two_hidden_layers(2, 2, 2, skip=True).size
    10
    """
    return _make(n, (H1, H2), m, skip, bias, activation)


# ---------------------------------------------------------------------------------------------
# singular sets


@dataclass(frozen=True)
class SingularSet:
    """A singular set of ``model``: the substitution ``subs`` puts a generic point on it.

    ``kind`` is one of ``"generic"``, ``"overlap"``, ``"eliminate_incoming"``,
    ``"eliminate_outgoing"``, ``"linear_dependence"``; ``layer`` is the hidden layer (1-based),
    ``units`` the unit indices involved, ``coeffs`` the linear-dependence coefficients,
    ``assumptions`` facts about phi used by certificates (``phi(0) = 0``).
    """

    model: Model
    kind: str
    layer: int
    units: tuple
    subs: dict
    coeffs: tuple = ()
    assumptions: dict = field(default_factory=dict)

    def describe(self) -> str:
        """A one-line description."""
        return f"{self.kind} of units {self.units} in hidden layer {self.layer}"


def _check_model(model):
    if not isinstance(model, Model):
        raise ArgumentTypeError(f"model must be a theory.singularities.Model, got {type(model).__name__}")


def _check_layer(model: Model, layer) -> int:
    return check_int("layer", layer, minimum=1, maximum=model.depth)


def _check_unit(model: Model, layer: int, name: str, i) -> int:
    return check_int(name, i, minimum=0, maximum=model.dims[layer] - 1)


def _incoming(model: Model, layer: int, i: int) -> list:
    names = [f"W{layer}[{i},{k}]" for k in range(model.dims[layer - 1])]
    if model.bias:
        names.append(f"b{layer}[{i}]")
    return names


def _outgoing(model: Model, layer: int, i: int) -> list:
    if layer == model.depth:
        return [f"V[{o},{i}]" for o in range(model.m)]
    return [f"W{layer + 1}[{k},{i}]" for k in range(model.dims[layer + 1])]


def generic_point(model: Model) -> SingularSet:
    """The whole parameter space (no constraint): the reference for "generic points"."""
    _check_model(model)
    return SingularSet(model, "generic", 1, (), {})


def overlap(model: Model, i: int, j: int, *, layer: int = 1) -> SingularSet:
    """Overlap ``w_j = w_i`` (and ``b_j = b_i``) of units ``i != j`` of hidden layer ``layer``.

    >>> overlap(one_hidden_layer(2, 2), 0, 0)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: overlap needs two different units, got i = j = 0
    """
    _check_model(model)
    layer = _check_layer(model, layer)
    i = _check_unit(model, layer, "i", i)
    j = _check_unit(model, layer, "j", j)
    if i == j:
        raise ArgumentValueError(f"overlap needs two different units, got i = j = {i}")
    S = model.symbol
    subs = {S(b): S(a) for a, b in zip(_incoming(model, layer, i), _incoming(model, layer, j))}
    return SingularSet(model, "overlap", layer, (i, j), subs)


def eliminate_incoming(model: Model, i: int, *, layer: int = 1) -> SingularSet:
    """Incoming elimination: ``w_i = 0`` (and ``b_i = 0``), with ``phi(0) = 0``: unit ``i`` outputs 0."""
    _check_model(model)
    layer = _check_layer(model, layer)
    i = _check_unit(model, layer, "i", i)
    subs = {model.symbol(a): sp.Integer(0) for a in _incoming(model, layer, i)}
    return SingularSet(model, "eliminate_incoming", layer, (i,), subs, assumptions={phi(0): 0})


def eliminate_outgoing(model: Model, i: int, *, layer: int | None = None) -> SingularSet:
    """Outgoing elimination: the outgoing weights of unit ``i`` of ``layer`` (default last) are 0."""
    _check_model(model)
    layer = model.depth if layer is None else _check_layer(model, layer)
    i = _check_unit(model, layer, "i", i)
    subs = {model.symbol(a): sp.Integer(0) for a in _outgoing(model, layer, i)}
    return SingularSet(model, "eliminate_outgoing", layer, (i,), subs)


def linear_dependence(
    model: Model, c: int, units: Sequence[int], coeffs: Sequence | None = None, *, layer: int = 1
) -> SingularSet:
    """Linear dependence ``w_c = sum_k a_k w_{units[k]}`` (biases likewise) in hidden layer ``layer``.

    ``coeffs`` default to symbols ``a0, a1, ...`` (a generic point of the set).

    >>> linear_dependence(one_hidden_layer(2, 3), 2, (0, 1), (1,))
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: coeffs must have one coefficient per unit in units (2), got 1
    """
    _check_model(model)
    layer = _check_layer(model, layer)
    c = _check_unit(model, layer, "c", c)
    try:
        units = tuple(units)
    except TypeError:
        raise ArgumentTypeError(f"units must be a sequence of unit indices, got {units!r}") from None
    if not units:
        raise ArgumentValueError("units must name at least one unit")
    units = tuple(_check_unit(model, layer, f"units[{k}]", u) for k, u in enumerate(units))
    if c in units or len(set(units)) != len(units):
        raise ArgumentValueError(f"units must be distinct and must not contain c={c}, got {units}")
    if coeffs is None:
        coeffs = tuple(sp.Symbol(f"a{k}", real=True) for k in range(len(units)))
    else:
        coeffs = tuple(sp.sympify(a) for a in coeffs)
        if len(coeffs) != len(units):
            raise ArgumentValueError(
                f"coeffs must have one coefficient per unit in units ({len(units)}), got {len(coeffs)}"
            )
    S = model.symbol
    inc = [_incoming(model, layer, u) for u in units]
    subs = {}
    for p, name in enumerate(_incoming(model, layer, c)):
        subs[S(name)] = sum(a * S(inc[k][p]) for k, a in enumerate(coeffs))
    return SingularSet(model, "linear_dependence", layer, (c,) + units, subs, coeffs=coeffs)


# ---------------------------------------------------------------------------------------------
# null directions (candidates derived by hand; each is certified symbolically)


def _vec(model: Model, entries: dict) -> sp.Matrix:
    u = sp.zeros(model.size, 1)
    for name, val in entries.items():
        u[model.index(name)] += val
    return u


def _on_set(s: SingularSet, expr):
    return sp.sympify(expr).xreplace(s.subs)


def _candidates(s: SingularSet) -> list:
    m, L = s.model, s.layer
    S = lambda name: _on_set(s, s.model.symbol(name))  # noqa: E731
    out = []
    if s.kind == "overlap":
        i, j = s.units
        for a, b in zip(_outgoing(m, L, i), _outgoing(m, L, j)):
            out.append((f"outgoing {a}-{b}", _vec(m, {a: 1, b: -1})))
        if L == m.depth and m.m == 1:
            vi, vj = S(f"V[0,{i}]"), S(f"V[0,{j}]")
            for k, (a, b) in enumerate(zip(_incoming(m, L, i), _incoming(m, L, j))):
                label = f"incoming k={k}" if k < m.dims[L - 1] else "incoming bias"
                out.append((label, _vec(m, {a: vj, b: -vi})))
    elif s.kind == "eliminate_outgoing":
        (i,) = s.units
        for a in _incoming(m, L, i):
            out.append((f"incoming {a}", _vec(m, {a: 1})))
    elif s.kind == "eliminate_incoming":
        (i,) = s.units
        for a in _outgoing(m, L, i):
            out.append((f"outgoing {a}", _vec(m, {a: 1})))
        if m.skip and L == m.depth:
            entries = {f"W{L}[{i},{i}]": 1}
            for o in range(m.m):
                entries[f"V[{o},{i}]"] = -dphi(0) * S(f"V[{o},{i}]")
            out.append((f"skip-mixing W{L}[{i},{i}]/V[:,{i}]", _vec(m, entries)))
        if m.bias:  # the unit's constant output shift phi'(0) db_i is absorbed by downstream biases
            entries = {f"b{L}[{i}]": 1}
            if L == m.depth:
                for o in range(m.m):
                    entries[f"c[{o}]"] = -dphi(0) * S(f"V[{o},{i}]")
            else:
                for k in range(m.dims[L + 1]):
                    entries[f"b{L + 1}[{k}]"] = -dphi(0) * S(f"W{L + 1}[{k},{i}]")
                if m.skip:  # the shift also reaches the readout through the skip of layer L + 1
                    for o in range(m.m):
                        entries[f"c[{o}]"] = -dphi(0) * S(f"V[{o},{i}]")
            out.append((f"bias absorption b{L}[{i}]", _vec(m, entries)))
    elif s.kind == "linear_dependence":
        c, *units = s.units
        outs_c = _outgoing(m, L, c)
        outs = [_outgoing(m, L, u) for u in units]
        for p, name in enumerate(outs_c):
            entries = {name: -1}
            for k, a in enumerate(s.coeffs):
                entries[outs[k][p]] = a
            out.append((f"outgoing combination {name}", _vec(m, entries)))
    if m.activation == "linear" and m.depth == 1:
        out.extend(_gl_directions(s))
    return out


def _gl_directions(s: SingularSet) -> list:
    """``GL(H)`` directions of a linear one-hidden-layer net: ``dV = -V E_kl``, ``dW = E_kl A``.

    ``A = W1`` (plain) or ``W1 + I`` (skip); ``E_kl`` is a matrix unit.
    """
    m = s.model
    H, n = m.widths[0], m.n
    S = lambda name: _on_set(s, m.symbol(name))  # noqa: E731
    res = []
    for k, l in itertools.product(range(H), range(H)):
        entries = {}
        for o in range(m.m):  # (-V E_kl)[o, l] = -V[o, k]
            entries[f"V[{o},{l}]"] = -S(f"V[{o},{k}]")
        for q in range(n):  # (E_kl A)[k, q] = A[l, q]
            a = S(f"W1[{l},{q}]") + (1 if (m.skip and l == q) else 0)
            entries[f"W1[{k},{q}]"] = entries.get(f"W1[{k},{q}]", 0) + a
        if m.bias:
            entries[f"b1[{k}]"] = S(f"b1[{l}]")
        res.append((f"GL E[{k},{l}]", _vec(m, entries)))
    return res


def null_directions(s: SingularSet, *, certified_only: bool = True) -> list:
    """Explicit null directions ``(label, u)`` of the Jacobian on the set ``s``.

    Candidates come from the analysis in the module docstring (outgoing differences at an overlap,
    ``v_j e_{w_i} - v_i e_{w_j}`` for a scalar readout, incoming weights of a unit with zero outgoing
    weights, outgoing weights of a unit with zero output, outgoing combinations for linear
    dependence, ``GL(H)`` for linear nets, and a skip-specific mixing direction). With
    ``certified_only`` (default) only those that :func:`certify_null_direction` proves are returned,
    so the list depends on the architecture (e.g. a skip removes the outgoing overlap direction).
    """
    if not isinstance(s, SingularSet):
        raise ArgumentTypeError(f"s must be a SingularSet, got {type(s).__name__}")
    cands = _candidates(s)
    if not certified_only:
        return cands
    return [(lab, u) for lab, u in cands if certify_null_direction(s, u)[0]]


_JAC_CACHE: dict = {}


def _symbolic_jacobian(model: Model) -> sp.Matrix:
    if model not in _JAC_CACHE:
        _JAC_CACHE[model] = model.jacobian()
    return _JAC_CACHE[model]


def certify_null_direction(s: SingularSet, u) -> tuple[bool, str]:
    """Prove ``J(x) u = 0`` identically on the set ``s`` (all inputs ``x``, all activations ``phi``).

    The symbolic Jacobian (undefined ``phi``) is restricted to the set, multiplied by ``u`` and
    expanded; the certificate holds iff every component is identically 0 (using ``phi(0) = 0``
    where the set assumes it). Returns ``(holds, detail)``.

    >>> s = eliminate_outgoing(one_hidden_layer(2, 2), 1)
    >>> certify_null_direction(s, _vec(s.model, {"W1[1,0]": 1}))[0]
    True
    >>> certify_null_direction(s, _vec(s.model, {"W1[0,0]": 1}))[0]
    False
    """
    if not isinstance(s, SingularSet):
        raise ArgumentTypeError(f"s must be a SingularSet, got {type(s).__name__}")
    u = sp.Matrix(u)
    if u.shape != (s.model.size, 1):
        raise ArgumentValueError(f"u must have shape ({s.model.size}, 1), got {u.shape}")
    if all(e == 0 for e in u):
        return False, "the zero vector is not a null direction"
    J = _symbolic_jacobian(s.model)
    nz = [p for p in range(s.model.size) if u[p] != 0]
    residuals = []
    for o in range(s.model.m):
        r = sum(J[o, p].xreplace(s.subs) * _on_set(s, u[p]) for p in nz)
        if s.assumptions:
            r = r.subs(s.assumptions)
        residuals.append(sp.expand(r))
    holds = all(r == 0 for r in residuals)
    if holds:
        return True, f"J u expands to 0 on {s.describe()} ({len(nz)} nonzero entries of u)"
    return False, f"J u = {residuals[0]} != 0"


# ---------------------------------------------------------------------------------------------
# exact ranks in rational arithmetic


def _rationals(rnd: random.Random, k: int, den: int = 7, span: int = 13) -> list:
    out = []
    while len(out) < k:
        v = Fraction(rnd.randint(-span, span), rnd.randint(1, den))
        if v != 0:
            out.append(v)
    return out


def _point_values(s: SingularSet, rnd: random.Random) -> dict:
    """Rational values of every parameter at a pseudo-random point of the set."""
    m = s.model
    syms = m.symbols
    free = sorted(
        set().union(*[sp.sympify(v).free_symbols for v in s.subs.values()] or [set()])
        | {x for x in syms if x not in s.subs},
        key=lambda x: x.name,
    )
    vals = dict(zip(free, _rationals(rnd, len(free))))
    out = {}
    for x in syms:
        if x in s.subs:
            e = sp.sympify(s.subs[x]).xreplace({k: sp.Rational(v.numerator, v.denominator) for k, v in vals.items()})
            r = sp.Rational(e)
            out[x.name] = Fraction(int(r.p), int(r.q))
        else:
            out[x.name] = vals[x]
    return out, vals


def exact_jacobian(
    model: Model,
    values: dict,
    X: np.ndarray,
    *,
    act: Callable = rational_phi,
    dact: Callable = _rational_dphi,
) -> np.ndarray:
    """Per-example Jacobian ``(B * m, P)`` by a hand-written backward pass, exact on Fractions.

    ``values`` maps parameter names to numbers (Fractions for exact arithmetic, floats otherwise);
    ``X`` has shape ``(B, n)``. Rows are ordered example-major (``b * m + o``). Independent of the
    symbolic Jacobian (used to cross-check it).
    """
    _check_model(model)
    X = np.asarray(X, dtype=object)
    if X.ndim != 2 or X.shape[1] != model.n:
        raise ArgumentValueError(f"X must have shape (B, {model.n}), got {X.shape}")
    missing = [k for k in model.names if k not in values]
    if missing:
        raise ArgumentValueError(f"values misses parameters {missing[:3]}{'...' if len(missing) > 3 else ''}")
    dims = model.dims
    L = model.depth
    lin = model.activation == "linear"
    a_ = (lambda z: z) if lin else act
    da_ = (lambda z: z * 0 + 1) if lin else dact
    Ws = [np.array([[values[f"W{l}[{i},{k}]"] for k in range(dims[l - 1])] for i in range(dims[l])], dtype=object)
          for l in range(1, L + 1)]
    bs = [np.array([values[f"b{l}[{i}]"] if model.bias else 0 for i in range(dims[l])], dtype=object)
          for l in range(1, L + 1)]
    V = np.array([[values[f"V[{o},{i}]"] for i in range(dims[-1])] for o in range(model.m)], dtype=object)
    B = X.shape[0]
    hs, zs = [X.T], []
    for l in range(L):
        z = Ws[l].dot(hs[-1]) + bs[l][:, None]
        zs.append(z)
        h = np.vectorize(a_, otypes=[object])(z)
        if model.skip:
            h = h + hs[-1]
        hs.append(h)
    rows = np.empty((B, model.m, model.size), dtype=object)
    for o in range(model.m):
        g = np.repeat(V[o][:, None], B, axis=1)  # df_o / dh_L, (H_L, B)
        grads = {}
        for l in range(L - 1, -1, -1):
            dz = g * np.vectorize(da_, otypes=[object])(zs[l])
            grads[l] = (dz, hs[l])
            g_prev = Ws[l].T.dot(dz)
            if model.skip:
                g_prev = g_prev + g
            g = g_prev
        cols = []
        for l in range(L):
            dz, hin = grads[l]
            cols.append((dz[:, None, :] * hin[None, :, :]).reshape(-1, B))
            if model.bias:
                cols.append(dz)
        vpart = np.zeros((model.m, dims[-1], B), dtype=object)
        vpart[o] = hs[-1]
        cols.append(vpart.reshape(-1, B))
        if model.bias:
            cpart = np.zeros((model.m, B), dtype=object)
            cpart[o] = 1
            cols.append(cpart)
        rows[:, o, :] = np.concatenate(cols, axis=0).T
    return rows.reshape(B * model.m, model.size)


_PRIME = (1 << 61) - 1


def exact_rank(M) -> int:
    """Exact rank of a matrix of Fractions/ints (rows scaled to integers, then rank modulo the
    Mersenne prime ``2^61 - 1``; the modular rank is a lower bound of the rational rank, equal to it
    unless the prime divides a maximal nonzero minor). Used together with an upper bound.

    >>> exact_rank([[Fraction(1, 2), 1], [1, 2]])
    1
    """
    rows = []
    for row in M:
        row = [Fraction(v) for v in row]
        den = math.lcm(*[v.denominator for v in row]) if row else 1
        rows.append([int(v * den) % _PRIME for v in row])
    rank, ncols = 0, len(rows[0]) if rows else 0
    for col in range(ncols):
        piv = next((r for r in range(rank, len(rows)) if rows[r][col]), None)
        if piv is None:
            continue
        rows[rank], rows[piv] = rows[piv], rows[rank]
        inv = pow(rows[rank][col], _PRIME - 2, _PRIME)
        pr = [(v * inv) % _PRIME for v in rows[rank]]
        rows[rank] = pr
        for r in range(len(rows)):
            if r != rank and rows[r][col]:
                f = rows[r][col]
                rows[r] = [(a - f * b) % _PRIME for a, b in zip(rows[r], pr)]
        rank += 1
    return rank


def exact_null_dimension(s: SingularSet, *, seed: int = 0, extra_samples: int = 6) -> int:
    """Exact null dimension of the Fisher information at a generic point of the set ``s``.

    Lower bound: ``P - rank J_sample`` at a rational point of the set, with the rational activation
    :func:`rational_phi` and ``P + extra_samples`` rational inputs. Upper bound: the number of
    linearly independent certified null vectors at that point. Equal bounds give the exact
    dimension; otherwise :class:`CertificationError` (an uncertified null direction exists).
    """
    if not isinstance(s, SingularSet):
        raise ArgumentTypeError(f"s must be a SingularSet, got {type(s).__name__}")
    m = s.model
    rnd = random.Random(seed)
    values, freevals = _point_values(s, rnd)
    B = m.size + check_int("extra_samples", extra_samples, minimum=0)
    X = np.array(_rationals(rnd, B * m.n, den=5, span=9), dtype=object).reshape(B, m.n)
    J = exact_jacobian(m, values, X)
    sampled = m.size - exact_rank(J.tolist())
    nulls = null_directions(s)
    if nulls:
        sub = {sp.Symbol(k.name, real=True): sp.Rational(v.numerator, v.denominator) for k, v in freevals.items()}
        sub[dphi(0)] = 1  # rational_phi'(0) = 1
        cols = []
        for _, u in nulls:
            col = []
            for e in u:
                r = sp.Rational(_on_set(s, e).xreplace(sub))
                col.append(Fraction(int(r.p), int(r.q)))
            cols.append(col)
        certified = exact_rank(cols)
    else:
        certified = 0
    if sampled != certified:
        raise CertificationError(
            f"{s.describe()}: sampled null dimension {sampled} != certified {certified}; "
            "an uncertified null direction exists (or the sample is degenerate)"
        )
    return certified


# ---------------------------------------------------------------------------------------------
# the table of the module docstring


def degeneracy_table(n: int = 3) -> dict:
    """Exact null dimensions at generic points of each singular set, plain and skip architectures.

    Returns ``{(set label, architecture): null dimension}`` (``None`` where the set does not exist);
    ``n = H = H1 = H2``, scalar readout, no biases. Takes a few seconds.
    """
    n = check_int("n", n, minimum=3)
    archs = {
        "1L": lambda: one_hidden_layer(n, n),
        "1L+skip": lambda: one_hidden_layer(n, n, skip=True),
        "2L": lambda: two_hidden_layers(n, n, n),
        "2L+skip": lambda: two_hidden_layers(n, n, n, skip=True),
    }
    table = {}
    for a, make in archs.items():
        mdl = make()
        last = mdl.depth
        rows = {
            "generic": generic_point(mdl),
            "overlap, last hidden layer": overlap(mdl, 0, 1, layer=last),
            "incoming elimination, last layer": eliminate_incoming(mdl, 0, layer=last),
            "outgoing elimination, last layer": eliminate_outgoing(mdl, 0, layer=last),
            "linear dependence (nonlinear phi)": linear_dependence(mdl, 2, (0, 1), layer=last),
        }
        if last == 2:
            rows["overlap, first of two layers"] = overlap(mdl, 0, 1, layer=1)
            rows["incoming elimination, first of two"] = eliminate_incoming(mdl, 0, layer=1)
            rows["outgoing elimination, first of two"] = eliminate_outgoing(mdl, 0, layer=1)
        for label, s in rows.items():
            table[(label, a)] = exact_null_dimension(s)
    for a, skip in (("1L", False), ("1L+skip", True)):
        vec = one_hidden_layer(n, n, m=2, skip=skip)
        table[("overlap, vector readout (m=2)", a)] = exact_null_dimension(overlap(vec, 0, 1))
        table[("incoming elimination, vector readout (m=2)", a)] = exact_null_dimension(
            eliminate_incoming(vec, 0)
        )
        bia = one_hidden_layer(n, n, skip=skip, bias=True)
        table[("overlap, with biases", a)] = exact_null_dimension(overlap(bia, 0, 1))
        table[("incoming elimination, with biases", a)] = exact_null_dimension(eliminate_incoming(bia, 0))
        lin = one_hidden_layer(n, n, m=n + 1, skip=skip, activation="linear")
        table[("linear network, generic (m=n+1)", a)] = exact_null_dimension(generic_point(lin))
        table[("linear dependence (phi linear, m=n+1)", a)] = exact_null_dimension(
            linear_dependence(lin, 2, (0, 1))
        )
    return table


#: The values quoted in the module docstring (``n = 3``); checked against
#: :func:`degeneracy_table` by the tests and by ``singularities.skip-breaks``.
DEGENERACY_TABLE = {
    ("generic", "1L"): 0, ("generic", "1L+skip"): 0, ("generic", "2L"): 0, ("generic", "2L+skip"): 0,
    ("overlap, last hidden layer", "1L"): 4, ("overlap, last hidden layer", "1L+skip"): 3,
    ("overlap, last hidden layer", "2L"): 4, ("overlap, last hidden layer", "2L+skip"): 3,
    ("overlap, first of two layers", "2L"): 3, ("overlap, first of two layers", "2L+skip"): 0,
    ("incoming elimination, last layer", "1L"): 1, ("incoming elimination, last layer", "1L+skip"): 1,
    ("incoming elimination, last layer", "2L"): 1, ("incoming elimination, last layer", "2L+skip"): 1,
    ("incoming elimination, first of two", "2L"): 3, ("incoming elimination, first of two", "2L+skip"): 0,
    ("outgoing elimination, last layer", "1L"): 3, ("outgoing elimination, last layer", "1L+skip"): 3,
    ("outgoing elimination, last layer", "2L"): 3, ("outgoing elimination, last layer", "2L+skip"): 3,
    ("outgoing elimination, first of two", "2L"): 3, ("outgoing elimination, first of two", "2L+skip"): 0,
    ("linear dependence (nonlinear phi)", "1L"): 0, ("linear dependence (nonlinear phi)", "1L+skip"): 0,
    ("linear dependence (nonlinear phi)", "2L"): 0, ("linear dependence (nonlinear phi)", "2L+skip"): 0,
    ("overlap, vector readout (m=2)", "1L"): 2, ("overlap, vector readout (m=2)", "1L+skip"): 0,
    ("incoming elimination, vector readout (m=2)", "1L"): 2,
    ("incoming elimination, vector readout (m=2)", "1L+skip"): 1,
    ("overlap, with biases", "1L"): 5, ("overlap, with biases", "1L+skip"): 4,
    ("incoming elimination, with biases", "1L"): 2, ("incoming elimination, with biases", "1L+skip"): 2,
    ("linear network, generic (m=n+1)", "1L"): 9, ("linear network, generic (m=n+1)", "1L+skip"): 9,
    ("linear dependence (phi linear, m=n+1)", "1L"): 10,
    ("linear dependence (phi linear, m=n+1)", "1L+skip"): 9,
}


# ---------------------------------------------------------------------------------------------
# Fukumizu & Amari (2000): critical lines from embedding an (H-1)-unit critical point


class d2ell(sp.Function):
    """``d^2 l / d f^2`` of the undefined per-example loss ``l(f, y)``."""


class dell(sp.Function):
    """``d l / d f`` of the undefined per-example loss ``l(f, y)``."""

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise NotImplementedError("only derivatives in f are used")
        return d2ell(*self.args)


class ell(sp.Function):
    """The undefined per-example loss ``l(f, y)`` (e.g. ``(f - y)^2 / 2``)."""

    def fdiff(self, argindex=1):
        if argindex != 1:
            raise NotImplementedError("only derivatives in f are used")
        return dell(*self.args)


def _split_unit(n: int):
    n = check_positive_int("n", n)
    x = sp.Matrix(sp.symbols(f"x0:{n}", real=True))
    w = sp.Matrix(sp.symbols(f"w0:{n}", real=True))
    zeta = sp.Matrix(sp.symbols(f"zeta0:{n}", real=True))
    lam, v, y, g = sp.symbols("lambda v y g", real=True)
    return n, x, w, zeta, lam, v, y, g


def critical_line_gradient_certificate(n: int = 2) -> tuple[bool, str]:
    """Prove that splitting a unit maps critical points of the ``(H-1)``-unit net to critical lines.

    With ``f* = g + v phi(w.x)`` (``g``: the other ``H - 2`` units, untouched) and
    ``f = g + v_a phi(w_a.x) + v_b phi(w_b.x)`` at ``w_a = w_b = w``, ``v_a = lambda v``,
    ``v_b = (1 - lambda) v``, the per-example loss gradient satisfies, for every ``x, y`` and loss
    ``l``: ``d l/d v_a = d l/d v_b = d l*/d v``, ``d l/d w_a = lambda d l*/d w``,
    ``d l/d w_b = (1 - lambda) d l*/d w``, and ``d l / d g = d l* / d g``. Taking expectations,
    a critical point of the ``(H-1)``-unit loss gives a critical point for every ``lambda``
    (Fukumizu & Amari 2000, Theorem 1).

    >>> critical_line_gradient_certificate(2)[0]
    True
    """
    n, x, w, _, lam, v, y, g = _split_unit(n)
    va, vb = sp.symbols("v_a v_b", real=True)
    wa = sp.Matrix(sp.symbols(f"wa0:{n}", real=True))
    wb = sp.Matrix(sp.symbols(f"wb0:{n}", real=True))
    f = g + va * phi((wa.T * x)[0]) + vb * phi((wb.T * x)[0])
    fstar = g + v * phi((w.T * x)[0])
    loss, lstar = ell(f, y), ell(fstar, y)
    emb = {va: lam * v, vb: (1 - lam) * v}
    emb.update({wa[k]: w[k] for k in range(n)})
    emb.update({wb[k]: w[k] for k in range(n)})
    pairs = [(sp.diff(loss, va), sp.diff(lstar, v)), (sp.diff(loss, vb), sp.diff(lstar, v)),
             (sp.diff(loss, g), sp.diff(lstar, g))]
    for k in range(n):
        pairs.append((sp.diff(loss, wa[k]), lam * sp.diff(lstar, w[k])))
        pairs.append((sp.diff(loss, wb[k]), (1 - lam) * sp.diff(lstar, w[k])))
    res = [sp.expand(a.xreplace(emb) - b) for a, b in pairs]
    holds = all(r == 0 for r in res)
    return holds, (f"{len(pairs)} gradient identities expand to 0" if holds else f"residual {res}")


def critical_line_hessian(n: int = 2) -> tuple[sp.Matrix, sp.Matrix]:
    """The per-example Hessian of ``l(f(x), y)`` in ``zeta = w_a - w_b`` at ``zeta = 0`` and the
    predicted ``lambda (1 - lambda) v l'(f*, y) phi''(w.x) x x^T`` (coordinates
    ``w_a = w + (1 - lambda) zeta``, ``w_b = w - lambda zeta``, so ``lambda w_a + (1 - lambda) w_b = w``).

    Its expectation is ``lambda (1 - lambda) A``, ``A = v E[l'(f*(x), y) phi''(w.x) x x^T]``
    (Fukumizu & Amari 2000, Theorem 3; our derivation: the first-order change of ``f`` in ``zeta``
    vanishes, so only ``l' d^2 f / d zeta^2`` contributes).
    """
    n, x, w, zeta, lam, v, y, g = _split_unit(n)
    za = ((w + (1 - lam) * zeta).T * x)[0]
    zb = ((w - lam * zeta).T * x)[0]
    f = g + lam * v * phi(za) + (1 - lam) * v * phi(zb)
    at0 = {z: 0 for z in zeta}
    H = sp.hessian(ell(f, y), list(zeta)).xreplace(at0)
    fstar = g + v * phi((w.T * x)[0])
    pred = lam * (1 - lam) * v * dell(fstar, y) * d2phi((w.T * x)[0]) * (x * x.T)
    return H, pred


def critical_line_hessian_certificate(n: int = 2, *, wrong_factor=None) -> tuple[bool, str]:
    """Prove the ``lambda (1 - lambda) A`` law and the block structure of the Hessian on the line.

    Checks, identically in ``x, y, phi, l``: (i) the per-example Hessian in ``zeta`` at ``zeta = 0``
    equals ``lambda (1 - lambda) v l' phi''(w.x) x x^T``; (ii) the gradient in ``zeta`` vanishes on
    the whole line; (iii) the mixed second derivatives between ``zeta`` and ``(v, lambda, w, g)``
    vanish, so the Hessian is block diagonal: the ``(H-1)``-unit Hessian, a zero along the line
    (``lambda``), and ``lambda (1 - lambda) A``. ``wrong_factor`` replaces ``lambda (1 - lambda)`` (a
    negative control; the certificate must then fail).

    >>> critical_line_hessian_certificate(2)[0]
    True
    >>> lam = sp.Symbol("lambda", real=True)
    >>> critical_line_hessian_certificate(2, wrong_factor=lam ** 2)[0]
    False
    """
    n, x, w, zeta, lam, v, y, g = _split_unit(n)
    H, pred = critical_line_hessian(n)
    if wrong_factor is not None:
        pred = pred / (lam * (1 - lam)) * sp.sympify(wrong_factor)
    ok_h = all(sp.expand(e) == 0 for e in (H - pred))
    za = ((w + (1 - lam) * zeta).T * x)[0]
    zb = ((w - lam * zeta).T * x)[0]
    loss = ell(g + lam * v * phi(za) + (1 - lam) * v * phi(zb), y)
    at0 = {z: 0 for z in zeta}
    grads = [sp.diff(loss, z).xreplace(at0) for z in zeta]
    ok_g = all(sp.expand(e) == 0 for e in grads)
    mixed = [sp.diff(loss, z, c).xreplace(at0) for z in zeta for c in [v, lam, g, *w]]
    ok_m = all(sp.expand(e) == 0 for e in mixed)
    holds = ok_h and ok_g and ok_m
    detail = (f"Hessian law {'holds' if ok_h else 'FAILS'}; zeta-gradient on the line "
              f"{'vanishes' if ok_g else 'does NOT vanish'}; {len(mixed)} mixed terms "
              f"{'vanish' if ok_m else 'do NOT vanish'} (n = {n})")
    return holds, detail


def critical_line_classification(A, lam) -> str:
    """Classify the point ``lambda`` of a critical line, given ``A`` (symmetric ``n x n``).

    Assumes the ``(H-1)``-unit critical point is a strict local minimum (positive definite Hessian).
    Then the point is a ``"minimum"`` (non-strict: the line is flat) when ``lambda (1 - lambda) A``
    is positive definite, a ``"saddle"`` when it has a negative eigenvalue, and ``"degenerate"``
    (higher orders decide) otherwise (e.g. ``lambda`` in {0, 1}). With ``A`` positive definite the
    segment ``0 < lambda < 1`` is minima and the rest saddles; ``A`` negative definite the reverse;
    ``A`` indefinite: saddles everywhere except ``lambda`` in {0, 1} (Fukumizu & Amari 2000, Thm 3).

    >>> critical_line_classification([[1.0, 0.0], [0.0, 2.0]], 0.5)
    'minimum'
    >>> critical_line_classification([[1.0, 0.0], [0.0, 2.0]], 1.5)
    'saddle'
    >>> critical_line_classification([[1.0, 0.0], [0.0, -2.0]], 0.5)
    'saddle'
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ArgumentValueError(f"A must be a square matrix, got shape {A.shape}")
    if not np.all(np.isfinite(A)):
        raise ArgumentValueError("A must contain only finite numbers (found NaN or inf)")
    lam = float(lam)
    if not np.isfinite(lam):
        raise ArgumentValueError(f"lam must be a finite real number, got {lam!r}")
    ev = np.linalg.eigvalsh(0.5 * (A + A.T)) * lam * (1 - lam)
    tol = 64 * np.finfo(float).eps * max(1.0, float(np.max(np.abs(A)))) * max(1.0, abs(lam * (1 - lam)))
    if np.any(ev < -tol):
        return "saddle"
    if np.all(ev > tol):
        return "minimum"
    return "degenerate"
