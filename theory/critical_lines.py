"""Critical lines of Fukumizu & Amari (2000): embedding an (H-1)-unit critical point into H units.

Splitting one unit ``(v*, w*)`` of a critical point of the ``(H-1)``-unit network into two units
with ``w_a = w_b = w*``, ``v_a = lambda v*``, ``v_b = (1 - lambda) v*`` gives a critical point for
every ``lambda`` (:func:`critical_line_gradient_certificate`), and the Hessian of the loss in the
separating coordinate ``zeta = w_a - w_b`` is ``lambda (1 - lambda) A`` with
``A = v* E[l'(y, f*(x)) phi''(w*.x) x x^T]``, decoupled from every other direction
(:func:`critical_line_hessian_certificate`); so one part of the line is minima and the rest saddles
(:func:`critical_line_classification`; Fukumizu & Amari 2000, Neural Networks 13, Thms 1 and 3;
docs/formulas.md §6). The loss ``l`` and the activation ``phi`` are undefined sympy functions: the
certificates hold for every smooth loss and activation.

Examples
--------
>>> critical_line_gradient_certificate(2)[0]
True
>>> critical_line_classification([[1.0, 0.0], [0.0, 2.0]], 0.5)
'minimum'
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from degeneracy.errors import ArgumentValueError
from degeneracy.validation import check_positive_int

from .symbolic_networks import d2phi, phi

__all__ = [
    "ell",
    "dell",
    "d2ell",
    "critical_line_gradient_certificate",
    "critical_line_hessian_certificate",
    "critical_line_hessian",
    "critical_line_classification",
]


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
