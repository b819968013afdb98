"""Saxe et al.'s mode equations derived by sympy from the squared loss of a deep linear chain.

The derivation, for any number ``n`` of weight matrices (Saxe, McClelland & Ganguli 2013,
arXiv:1312.6120, sec. 2-3; docs/formulas.md §2):

1. **Loss.** ``l = (1/2) tr[(W_n ... W_1 - Sigma)^T (W_n ... W_1 - Sigma)]`` with
   non-commuting rectangular matrix symbols ``W_j`` (``d_j x d_{j-1}``) and ``Sigma`` (the
   input-output correlation of whitened data).
2. **Gradient flow.** sympy's matrix calculus differentiates the trace:
   ``tau dW_j/dt = -dl/dW_j = -(W_n...W_{j+1})^T (W_n...W_1 - Sigma) (W_{j-1}...W_1)^T``
   (checked against this closed form term by term).
3. **Decoupled-mode ansatz.** ``Sigma = U S V^T`` (``S`` diagonal), ``W_j = O_j D_j O_{j-1}^T``
   with orthogonal frames ``O_0 = V``, ``O_n = U`` (``O^T O = O O^T = I``) and diagonal ``D_j``.
   Substituting it and projecting, ``O_j^T (dl/dW_j) O_{j-1}`` is expanded into words in the
   symbols; adjacent ``O_k^T O_k`` and ``O_k O_k^T`` cancel, after which every word is a product
   of diagonal matrices only. So the projected flow is diagonal (the ansatz is invariant: the frames
   stay fixed) and, mode by mode (``D_j = diag(a_j^alpha)``, ``S = diag(s_alpha)``), it is

   ``tau da_j/dt = (prod_{k != j} a_k) (s - prod_k a_k)``   (Saxe et al. 2013, sec. 2 and sec. 3).
4. **Conserved quantities.** ``d/dt (a_{j+1}^2 - a_j^2) = 0`` for every mode, the scalar shadow of
   ``d/dt (W_{j+1}^T W_{j+1} - W_j W_j^T) = 0`` (Arora, Cohen & Hazan 2018; Du, Hu & Lee 2018), which
   is checked on the matrix level too, from the derived gradients (non-commuting symbols).
5. **Balanced modes.** With ``a_j = u^{1/n}`` for every ``j`` the mode strength ``u = prod_k a_k``
   obeys ``tau du/dt = n u^{2 - 2/n} (s - u)``: for ``n = 2`` this is Saxe et al.'s (sec. 2),
   ``tau du/dt = 2 u (s - u)``.

Every step is computed, not typed in: :func:`derive_mode_equations` returns what sympy finds and
:func:`certify_mode_equations` compares it with the statements above (``degeneracy prove``,
``dynamics.mode-equations-derived``). The cost grows gently with ``n`` (about 1-3 s for
``n <= 8``).

Examples
--------
>>> eq = derive_mode_equations(2)
>>> eq.rhs
(a2*(-a1*a2 + s), a1*(-a1*a2 + s))
>>> eq.balanced
2*u*(s - u)
>>> certify_mode_equations(3)[0]
True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from degeneracy.errors import CertificationError
from degeneracy.validation import check_int

__all__ = ["ModeEquations", "chain_loss", "derive_gradient_flow", "derive_mode_equations",
           "certify_mode_equations", "MAX_WEIGHTS"]

#: the largest depth the derivation accepts (its cost grows like n^2; n = 8 takes a few seconds)
MAX_WEIGHTS = 12


@dataclass(frozen=True)
class ModeEquations:
    """What :func:`derive_mode_equations` derives for ``n`` weight matrices.

    Attributes
    ----------
    n_weights : int
    gradients : tuple of sympy matrix expressions
        ``dl/dW_j`` as sympy differentiates the trace loss (non-commuting ``MatrixSymbol``s).
    strengths : tuple of sympy.Symbol
        ``a_1 .. a_n``: the strengths of one mode in each layer.
    s : sympy.Symbol
        The mode's singular value of ``Sigma``.
    rhs : tuple of sympy expressions
        ``tau da_j/dt`` on the ansatz (one mode).
    conserved : tuple of sympy expressions
        ``a_{j+1}^2 - a_j^2``, ``j = 1..n-1``.
    conserved_rates : tuple of sympy expressions
        ``tau d/dt (a_{j+1}^2 - a_j^2)`` along ``rhs``, simplified (zeros).
    matrix_conserved_rates : tuple of sympy matrix expressions
        ``tau d/dt (W_{j+1}^T W_{j+1} - W_j W_j^T)`` along the derived matrix flow, expanded (zeros).
    balanced : sympy expression
        ``tau du/dt`` for the balanced mode ``a_j = u^{1/n}``, in terms of the symbol ``u``.
    """

    n_weights: int
    gradients: tuple
    strengths: tuple
    s: sp.Symbol
    rhs: tuple
    conserved: tuple
    conserved_rates: tuple
    matrix_conserved_rates: tuple
    balanced: sp.Expr


def _chain(ws):
    return ws[0] if len(ws) == 1 else sp.MatMul(*reversed(ws))


def chain_loss(n_weights: int, *, square: bool = False):
    """The squared loss of a depth-``n`` linear chain as a sympy trace of matrix symbols.

    Returns ``(loss, W, Sigma)`` with ``W = [W_1, ..., W_n]`` (``W_j`` of shape ``d_j x d_{j-1}``,
    symbolic integer sizes; all ``d x d`` with ``square=True``) and ``Sigma`` ``d_n x d_0``.

    >>> loss, W, Sigma = chain_loss(2)
    >>> loss
    Trace((-Sigma.T + W1.T*W2.T)*(-Sigma + W2*W1))/2
    """
    n = check_int("n_weights", n_weights, minimum=1, maximum=MAX_WEIGHTS)
    if square:
        d = sp.Symbol("d", positive=True, integer=True)
        dims = [d] * (n + 1)
    else:
        dims = list(sp.symbols(f"d0:{n + 1}", positive=True, integer=True))
    W = [sp.MatrixSymbol(f"W{j + 1}", dims[j + 1], dims[j]) for j in range(n)]
    Sigma = sp.MatrixSymbol("Sigma", dims[n], dims[0])
    R = _chain(W) - Sigma
    return sp.Trace(R.T * R) / 2, W, Sigma


@functools.lru_cache(maxsize=32)
def _gradient_flow(n: int, square: bool) -> tuple:
    loss, W, Sigma = chain_loss(n)
    G = tuple(loss.diff(w) for w in W)
    if not square:
        return G, tuple(W), Sigma
    # the square chain is the rectangular one with every size set to d (derived once)
    d = sp.Symbol("d", positive=True, integer=True)
    same = {x: d for x in sp.symbols(f"d0:{n + 1}", positive=True, integer=True)}
    return tuple(g.xreplace(same) for g in G), tuple(w.xreplace(same) for w in W), Sigma.xreplace(same)


def derive_gradient_flow(n_weights: int, *, square: bool = False) -> tuple:
    """``dl/dW_j`` for ``j = 1..n``, derived by sympy's matrix calculus from :func:`chain_loss`.

    Returns ``(gradients, W, Sigma)``. The layer-gradient formula
    ``(W_n...W_{j+1})^T (W_n...W_1 - Sigma) (W_{j-1}...W_1)^T`` (docs/formulas.md §2) is a
    consequence, checked by :func:`certify_mode_equations`.

    >>> G, W, Sigma = derive_gradient_flow(1)
    >>> G[0]
    -Sigma + W1
    """
    n = check_int("n_weights", n_weights, minimum=1, maximum=MAX_WEIGHTS)
    return _gradient_flow(n, bool(square))  # sympy expressions are immutable: the cache is safe


def _words(expr):
    """Expand a matrix expression into ``(coefficient, [factors])`` words, transposes pushed inside."""
    for term in sp.Add.make_args(sp.expand(expr.doit())):
        coeff, mats = term.as_coeff_mmul()
        factors = list(mats.args) if isinstance(mats, sp.MatMul) else [mats]
        flat = []
        for f in factors:
            if isinstance(f, sp.Transpose) and isinstance(f.arg, sp.MatMul):
                flat += [x.T for x in reversed(f.arg.args)]
            else:
                flat.append(f)
        yield coeff, flat


def _cancel_frames(word, frames):
    """Remove adjacent ``O^T O`` and ``O O^T`` pairs of orthogonal frames (a stack pass)."""
    out = []
    for f in word:
        if out:
            p = out[-1]
            if (isinstance(p, sp.Transpose) and p.arg in frames and f == p.arg) or (
                    p in frames and isinstance(f, sp.Transpose) and f.arg == p):
                out.pop()
                continue
        out.append(f)
    return out


def derive_mode_equations(n_weights: int) -> ModeEquations:
    """Derive the mode equations, conserved quantities and balanced reduction (module docstring).

    Raises :class:`CertificationError` if a word of the projected flow keeps an orthogonal frame
    after the cancellations (the ansatz would then not be invariant).

    Parameters
    ----------
    n_weights : int in [1, MAX_WEIGHTS]
        Number of weight matrices ``n`` (Saxe et al.'s ``N_l - 1``).

    Examples
    --------
    >>> derive_mode_equations(3).rhs[1]
    a1*a3*(-a1*a2*a3 + s)
    """
    n = check_int("n_weights", n_weights, minimum=1, maximum=MAX_WEIGHTS)
    return _mode_equations(n)


@functools.lru_cache(maxsize=32)
def _mode_equations(n: int) -> ModeEquations:
    """The derivation (cached: sympy expressions are immutable)."""
    G, W, Sigma = derive_gradient_flow(n, square=True)
    d = W[0].shape[0]
    O = [sp.MatrixSymbol(f"O{j}", d, d) for j in range(n + 1)]
    D = [sp.MatrixSymbol(f"D{j + 1}", d, d) for j in range(n)]
    S = sp.MatrixSymbol("S", d, d)
    a = sp.symbols(f"a1:{n + 1}", real=True)
    s = sp.Symbol("s", real=True)
    diag = {D[j]: a[j] for j in range(n)}
    diag[S] = s
    ansatz = {W[j]: O[j + 1] * D[j] * O[j].T for j in range(n)}
    ansatz[Sigma] = O[n] * S * O[0].T
    frames = set(O)
    rhs = []
    for j in range(n):
        projected = O[j + 1].T * (-G[j]).xreplace(ansatz) * O[j]
        total = sp.Integer(0)
        for coeff, word in _words(projected):
            word = [x.arg if isinstance(x, sp.Transpose) and x.arg in diag else x for x in word]  # D^T = D
            word = _cancel_frames(word, frames)
            if not all(x in diag for x in word):
                raise CertificationError(f"layer {j + 1}: the projected flow keeps the word {word}: the decoupled "
                                         "ansatz is not invariant")
            total += coeff * sp.Mul(*[diag[x] for x in word])  # products of diagonals, mode by mode
        rhs.append(sp.factor(total))
    rhs = tuple(rhs)
    conserved = tuple(a[j + 1] ** 2 - a[j] ** 2 for j in range(n - 1))
    rates = tuple(sp.simplify(2 * a[j + 1] * rhs[j + 1] - 2 * a[j] * rhs[j]) for j in range(n - 1))
    # the matrix conservation law along the derived (general, rectangular) flow
    Gr, Wr, _ = derive_gradient_flow(n)
    mrates = []
    for j in range(n - 1):
        dWj, dWk = -Gr[j], -Gr[j + 1]
        e = (dWk.T * Wr[j + 1] + Wr[j + 1].T * dWk) - (dWj * Wr[j].T + Wr[j] * dWj.T)
        mrates.append(sp.expand(e.doit()))
    # balanced reduction: a_j = u^(1/n), du/dt = sum_j (prod_{k != j} a_k) da_j/dt
    u = sp.Symbol("u", positive=True)
    prod_all = sp.Mul(*a)
    du = sum(sp.diff(prod_all, a[j]) * rhs[j] for j in range(n))
    balanced = sp.factor(sp.powsimp(du.subs({aj: u ** sp.Rational(1, n) for aj in a}), force=True))
    return ModeEquations(n, G, a, s, rhs, conserved, rates, tuple(mrates), balanced)


def _is_zero_matrix(e) -> bool:
    return e == 0 or isinstance(e, sp.ZeroMatrix)


def certify_mode_equations(n_weights: int, *, wrong: bool = False) -> tuple[bool, str]:
    """Compare :func:`derive_mode_equations` with Saxe et al.'s statements (module docstring).

    Checks: (i) the derived ``dl/dW_j`` equals ``(W_n..W_{j+1})^T (W_n..W_1 - Sigma)
    (W_{j-1}..W_1)^T`` for rectangular symbols; (ii) ``tau da_j/dt = (prod_{k != j} a_k)(s - prod_k
    a_k)``; (iii) ``a_{j+1}^2 - a_j^2`` and ``W_{j+1}^T W_{j+1} - W_j W_j^T`` are conserved; (iv) the
    balanced mode obeys ``tau du/dt = n u^{2-2/n} (s - u)``. ``wrong=True`` compares (iv) with the
    tempting ``tau du/dt = 2 u (s - u)`` at every depth (a negative control: it must fail for
    ``n != 2``). Returns ``(holds, detail)``.

    >>> certify_mode_equations(2)[0], certify_mode_equations(3, wrong=True)[0]
    (True, False)
    """
    eq = derive_mode_equations(n_weights)
    n, a, s = eq.n_weights, eq.strengths, eq.s
    G, W, Sigma = derive_gradient_flow(n)
    P = _chain(W)
    grads_ok = True
    for j in range(n):
        above = _chain(W[j + 1:]) if j + 1 < n else None
        below = _chain(W[:j]) if j > 0 else None
        want = P - Sigma
        if above is not None:
            want = above.T * want
        if below is not None:
            want = want * below.T
        grads_ok &= _is_zero_matrix(sp.expand((G[j] - want).doit()))
    prod_all = sp.Mul(*a)
    rhs_ok = all(sp.expand(eq.rhs[j] - prod_all / a[j] * (s - prod_all)) == 0 for j in range(n))
    cons_ok = all(r == 0 for r in eq.conserved_rates)
    mat_ok = all(_is_zero_matrix(r) for r in eq.matrix_conserved_rates)
    u = sp.Symbol("u", positive=True)
    target = 2 * u * (s - u) if wrong else n * u ** (2 - sp.Rational(2, n)) * (s - u)
    bal_ok = sp.simplify(eq.balanced - target) == 0
    holds = grads_ok and rhs_ok and cons_ok and mat_ok and bal_ok
    detail = (f"n = {n}: derived dl/dW_j = layer-gradient formula: {grads_ok}; tau da_j/dt = "
              f"prod_(k!=j) a_k (s - prod a_k): {rhs_ok} ({eq.rhs[0]}); a_(j+1)^2 - a_j^2 conserved: {cons_ok}; "
              f"W_(j+1)^T W_(j+1) - W_j W_j^T conserved: {mat_ok}; balanced tau du/dt = {eq.balanced}"
              f"{' (control: compared with 2u(s-u))' if wrong else ''}: {bal_ok}")
    return holds, detail
