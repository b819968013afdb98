"""Singular sets of small networks and their certified null directions.

A singular set is a subset of parameter space on which the network is less than identifiable (Amari,
Park & Ozeki 2006; Wei et al. 2008; Orhan & Pitkow 2018; docs/formulas.md §6). Constructors return a
:class:`SingularSet`, a substitution that puts a generic point of the set in place of the free
parameters of a :class:`~degeneracy.theory.symbolic_networks.Model`:

* :func:`overlap` ``w_j = w_i`` (incoming weights and biases of two units of one layer);
* :func:`sign_flip_overlap` ``w_j = -w_i`` (and ``b_j = -b_i``), a singularity only for an odd
  activation: ``v_i phi(w.x) + v_j phi(-w.x) = (v_i - v_j) phi(w.x)``, so only ``v_i - v_j`` is
  identifiable;
* :func:`eliminate_incoming` ``w_i = 0``, ``b_i = 0`` with ``phi(0) = 0`` (the unit outputs 0);
* :func:`eliminate_outgoing` the unit's outgoing weights are 0;
* :func:`linear_dependence` ``w_c = sum_k a_k w_{u_k}``;
* :func:`generic_point` the whole space (the reference).

For each set, :func:`null_directions` returns explicit vectors ``u`` with ``J(x) u = 0`` for every
input ``x``, ``J`` the symbolic parameter Jacobian of ``f``, each proved by
:func:`certify_null_direction` (sympy: ``J u`` restricted to the set expands to 0, for every ``phi``,
or every odd ``phi`` for ``"odd"`` models); then ``G u = 0`` for the Fisher information /
Gauss-Newton matrix ``G = E[J^T J]`` under any input law. The candidates, for unit ``i`` of hidden
layer ``l`` (``out`` = its outgoing weights, ``in`` = its incoming weights and bias):

* overlap: ``e_{out_i,k} - e_{out_j,k}`` (transfer of an outgoing weight; broken by a skip on
  layer ``l``, which gives the two units different outputs); for the last hidden layer with a
  scalar readout also ``v_j e_{in_i,k} - v_i e_{in_j,k}``;
* sign-flip overlap: ``e_{out_i,k} + e_{out_j,k}`` and, last layer with scalar readout,
  ``v_j e_{in_i,k} - v_i e_{in_j,k}`` (``phi'`` is even);
* outgoing elimination: ``e_{in_i,k}`` (broken when a skip on layer ``l + 1`` carries the unit's
  output past the zero weights);
* incoming elimination: ``e_{out_i,k}``; with a skip on layer ``l`` the rescaling
  ``e_{W_l[i,i]} - phi'(0) sum_k out_{i,k} e_{out_i,k}`` (the unit then outputs its own input); with
  biases the absorption of a constant shift ``phi'(0) db_i`` by the downstream biases, carried on
  through skips;
* linear dependence: ``sum_k a_k e_{out_{u_k},r} - e_{out_c,r}``, null only for linear units;
* linear activation: the ``GL(H_l)`` directions ``dB_l = E B_l``, ``dB_{l+1} = -B_{l+1} E`` of
  every hidden layer (``B_l = W_l [+ I]``).

:func:`null_directions` keeps the candidates that certify; whether they are all the null
directions is decided by :func:`theory.exact_rank.exact_null_dimension`, and
:mod:`theory.singularity_engine` enumerates the sets of every hidden unit of an architecture.

Examples
--------
>>> from degeneracy.theory.symbolic_networks import one_hidden_layer
>>> s = overlap(one_hidden_layer(2, 2), 0, 1)
>>> [label for label, _ in null_directions(s)]
['outgoing V[0,0]-V[0,1]', 'incoming k=0', 'incoming k=1']
>>> odd = one_hidden_layer(2, 2, activation="odd")
>>> [label for label, _ in null_directions(sign_flip_overlap(odd, 0, 1))]
['outgoing V[0,0]+V[0,1]', 'incoming k=0', 'incoming k=1']
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Sequence

import sympy as sp

from degeneracy.errors import ArgumentTypeError, ArgumentValueError
from degeneracy.validation import check_int

from .symbolic_networks import Model, apply_parity, dphi, phi

__all__ = [
    "KINDS",
    "SingularSet",
    "generic_point",
    "overlap",
    "sign_flip_overlap",
    "eliminate_incoming",
    "eliminate_outgoing",
    "linear_dependence",
    "direction",
    "null_directions",
    "certify_null_direction",
]

#: the kinds of singular set (SingularSet.kind)
KINDS = ("generic", "overlap", "sign_flip_overlap", "eliminate_incoming", "eliminate_outgoing", "linear_dependence")


@dataclass(frozen=True)
class SingularSet:
    """A singular set of ``model``: the substitution ``subs`` puts a generic point on it.

    ``kind`` is one of :data:`KINDS`; ``layer`` is the hidden layer (1-based), ``units`` the unit
    indices involved, ``coeffs`` the linear-dependence coefficients, ``assumptions`` facts about
    ``phi`` used by certificates (``phi(0) = 0``).
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
        if self.kind == "generic":
            return "generic point"
        return f"{self.kind} of units {self.units} in hidden layer {self.layer}"


def _check_model(model):
    if not isinstance(model, Model):
        raise ArgumentTypeError(f"model must be a theory.symbolic_networks.Model, got {type(model).__name__}")


def _check_set(s):
    if not isinstance(s, SingularSet):
        raise ArgumentTypeError(f"s must be a SingularSet, got {type(s).__name__}")
    if s.kind not in KINDS:
        raise ArgumentValueError(f"SingularSet.kind must be one of {', '.join(KINDS)}, got {s.kind!r}")


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


def _pair(model, i, j, layer, what):
    _check_model(model)
    layer = _check_layer(model, layer)
    i = _check_unit(model, layer, "i", i)
    j = _check_unit(model, layer, "j", j)
    if i == j:
        raise ArgumentValueError(f"{what} needs two different units, got i = j = {i}")
    return layer, i, j


def overlap(model: Model, i: int, j: int, *, layer: int = 1) -> SingularSet:
    """Overlap ``w_j = w_i`` (and ``b_j = b_i``) of units ``i != j`` of hidden layer ``layer``.

    >>> from degeneracy.theory.symbolic_networks import one_hidden_layer
    >>> overlap(one_hidden_layer(2, 2), 0, 0)
    Traceback (most recent call last):
    ...
    degeneracy.errors.ArgumentValueError: overlap needs two different units, got i = j = 0
    """
    layer, i, j = _pair(model, i, j, layer, "overlap")
    S = model.symbol
    subs = {S(b): S(a) for a, b in zip(_incoming(model, layer, i), _incoming(model, layer, j))}
    return SingularSet(model, "overlap", layer, (i, j), subs)


def sign_flip_overlap(model: Model, i: int, j: int, *, layer: int = 1) -> SingularSet:
    """Sign-flip overlap ``w_j = -w_i`` (and ``b_j = -b_i``) of units ``i != j`` of hidden layer ``layer``.

    Singular for an odd activation (``phi(-z) = -phi(z)``: tanh, erf; a model with
    ``activation="odd"``): the units' outputs are ``phi(z)`` and ``-phi(z)``, so only
    ``v_i - v_j`` is identifiable, and ``n + 1`` directions are null in a one-hidden-layer network
    with scalar readout (``n + 2`` with biases), as at an overlap. For a generic ``phi`` the set is
    regular.

    >>> from degeneracy.theory.symbolic_networks import one_hidden_layer
    >>> s = sign_flip_overlap(one_hidden_layer(2, 2, activation="odd"), 0, 1)
    >>> s.subs
    {W1[1,0]: -W1[0,0], W1[1,1]: -W1[0,1]}
    """
    layer, i, j = _pair(model, i, j, layer, "sign_flip_overlap")
    S = model.symbol
    subs = {S(b): -S(a) for a, b in zip(_incoming(model, layer, i), _incoming(model, layer, j))}
    return SingularSet(model, "sign_flip_overlap", layer, (i, j), subs)


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


def linear_dependence(model: Model, c: int, units: Sequence[int], coeffs: Sequence | None = None, *,
                      layer: int = 1) -> SingularSet:
    """Linear dependence ``w_c = sum_k a_k w_{units[k]}`` (biases likewise) in hidden layer ``layer``.

    ``coeffs`` default to symbols ``a0, a1, ...`` (a generic point of the set).

    >>> from degeneracy.theory.symbolic_networks import one_hidden_layer
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
                f"coeffs must have one coefficient per unit in units ({len(units)}), got {len(coeffs)}")
    S = model.symbol
    inc = [_incoming(model, layer, u) for u in units]
    subs = {S(name): sum(a * S(inc[k][p]) for k, a in enumerate(coeffs))
            for p, name in enumerate(_incoming(model, layer, c))}
    return SingularSet(model, "linear_dependence", layer, (c,) + units, subs, coeffs=coeffs)


# ---------------------------------------------------------------------------------------------
# null directions (candidates from the analysis in the module docstring; each is certified)


def direction(model: Model, entries: dict) -> sp.Matrix:
    """The ``P x 1`` vector with ``entries`` (parameter name -> coefficient), zeros elsewhere.

    >>> from degeneracy.theory.symbolic_networks import one_hidden_layer
    >>> direction(one_hidden_layer(1, 2), {"V[0,0]": 1, "V[0,1]": -1}).T
    Matrix([[0, 0, 1, -1]])
    """
    _check_model(model)
    u = sp.zeros(model.size, 1)
    for name, val in entries.items():
        u[model.index(name)] += val
    return u


def _on_set(s: SingularSet, expr):
    return sp.sympify(expr).xreplace(s.subs)


def _out_weight(m: Model, layer: int, i: int, k: int, S):
    """Symbol of the ``k``-th outgoing weight of unit ``i`` and the name."""
    name = _outgoing(m, layer, i)[k]
    return name, S(name)


def _bias_absorption(m: Model, layer: int, i: int, S) -> dict:
    """``db_i = 1`` and the downstream bias changes that absorb the constant shift ``phi'(0)`` of ``h_{l,i}``."""
    entries = {f"b{layer}[{i}]": 1}
    shift = {i: dphi(0)}  # constant first-order shift of h_l, by unit
    l = layer
    while True:
        if l == m.depth:
            for o in range(m.m):
                entries[f"c[{o}]"] = entries.get(f"c[{o}]", 0) - sum(S(f"V[{o},{u}]") * v for u, v in shift.items())
            return entries
        for k in range(m.dims[l + 1]):
            entries[f"b{l + 1}[{k}]"] = entries.get(f"b{l + 1}[{k}]", 0) - sum(
                S(f"W{l + 1}[{k},{u}]") * v for u, v in shift.items())
        if not m.has_skip(l + 1):
            return entries
        l += 1  # the skip carries the shift itself on to h_{l+1}


def _candidates(s: SingularSet) -> list:
    m, L = s.model, s.layer
    S = lambda name: _on_set(s, s.model.symbol(name))  # noqa: E731
    out = []
    if s.kind in ("overlap", "sign_flip_overlap"):
        i, j = s.units
        sign, op = (-1, "-") if s.kind == "overlap" else (1, "+")
        for a, b in zip(_outgoing(m, L, i), _outgoing(m, L, j)):
            out.append((f"outgoing {a}{op}{b}", direction(m, {a: 1, b: sign})))
        if L == m.depth and m.m == 1:
            vi, vj = S(f"V[0,{i}]"), S(f"V[0,{j}]")
            for k, (a, b) in enumerate(zip(_incoming(m, L, i), _incoming(m, L, j))):
                label = f"incoming k={k}" if k < m.dims[L - 1] else "incoming bias"
                out.append((label, direction(m, {a: vj, b: -vi})))
    elif s.kind == "eliminate_outgoing":
        (i,) = s.units
        for a in _incoming(m, L, i):
            out.append((f"incoming {a}", direction(m, {a: 1})))
    elif s.kind == "eliminate_incoming":
        (i,) = s.units
        for a in _outgoing(m, L, i):
            out.append((f"outgoing {a}", direction(m, {a: 1})))
        if m.has_skip(L):  # the unit now outputs its own input: rescale it, compensate downstream
            entries = {f"W{L}[{i},{i}]": 1}
            for name in _outgoing(m, L, i):
                entries[name] = -dphi(0) * S(name)
            out.append((f"skip rescaling W{L}[{i},{i}]", direction(m, entries)))
        if m.bias:
            out.append((f"bias absorption b{L}[{i}]", direction(m, _bias_absorption(m, L, i, S))))
    elif s.kind == "linear_dependence":
        c, *units = s.units
        outs = [_outgoing(m, L, u) for u in units]
        for p, name in enumerate(_outgoing(m, L, c)):
            entries = {name: -1}
            for k, a in enumerate(s.coeffs):
                entries[outs[k][p]] = a
            out.append((f"outgoing combination {name}", direction(m, entries)))
    if m.activation == "linear":
        out.extend(_gl_directions(s))
    return out


def _gl_directions(s: SingularSet) -> list:
    """``GL(H_l)`` directions of a linear network: ``dB_l = E_kq B_l``, ``db_l = E_kq b_l``, ``dB_{l+1} = -B_{l+1} E_kq``.

    ``B_l = W_l [+ I]`` (the skip), ``B_{L+1} = V``; ``E_kq`` a matrix unit.
    """
    m = s.model
    S = lambda name: _on_set(s, m.symbol(name))  # noqa: E731
    res = []
    for l in range(1, m.depth + 1):
        H, fan_in = m.dims[l], m.dims[l - 1]
        nxt = m.m if l == m.depth else m.dims[l + 1]

        def B_next(r, k):
            if l == m.depth:
                return S(f"V[{r},{k}]")
            return S(f"W{l + 1}[{r},{k}]") + (1 if m.has_skip(l + 1) and r == k else 0)

        for k, q in itertools.product(range(H), range(H)):
            entries = {}
            for c in range(fan_in):  # (E_kq B_l)[k, c] = B_l[q, c]
                name = f"W{l}[{k},{c}]"
                entries[name] = entries.get(name, 0) + S(f"W{l}[{q},{c}]") + (1 if m.has_skip(l) and q == c else 0)
            if m.bias:
                entries[f"b{l}[{k}]"] = entries.get(f"b{l}[{k}]", 0) + S(f"b{l}[{q}]")
            for r in range(nxt):  # (-B_{l+1} E_kq)[r, q] = -B_{l+1}[r, k]
                name = f"V[{r},{q}]" if l == m.depth else f"W{l + 1}[{r},{q}]"
                entries[name] = entries.get(name, 0) - B_next(r, k)
            res.append((f"GL layer {l} E[{k},{q}]", direction(m, entries)))
    return res


def null_directions(s: SingularSet, *, certified_only: bool = True) -> list:
    """Explicit null directions ``(label, u)`` of the Jacobian on the set ``s``.

    Candidates come from the analysis in the module docstring. With ``certified_only`` (default)
    only those that :func:`certify_null_direction` proves are returned, so the list depends on the
    architecture (e.g. a skip removes the outgoing overlap direction).
    """
    _check_set(s)
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
    where the set assumes it, and the parity of ``phi`` and its derivatives for ``"odd"`` models,
    :func:`theory.symbolic_networks.apply_parity`). Returns ``(holds, detail)``.

    >>> from degeneracy.theory.symbolic_networks import one_hidden_layer
    >>> s = eliminate_outgoing(one_hidden_layer(2, 2), 1)
    >>> certify_null_direction(s, direction(s.model, {"W1[1,0]": 1}))[0]
    True
    >>> certify_null_direction(s, direction(s.model, {"W1[0,0]": 1}))[0]
    False
    """
    _check_set(s)
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
        if s.model.activation == "odd":
            r = apply_parity(r)
        if s.assumptions:
            r = r.subs(s.assumptions)
        residuals.append(sp.expand(r))
    holds = all(r == 0 for r in residuals)
    if holds:
        return True, f"J u expands to 0 on {s.describe()} ({len(nz)} nonzero entries of u)"
    return False, f"J u = {next(r for r in residuals if r != 0)} != 0"
