"""The exact finite-``n``, finite-depth second moment of products of Gaussian matrices
(docs/formulas.md §1).

``E[(1/n) tr (P^T P)^2]`` for ``P = W_L ... W_1`` with i.i.d. ``n x n`` Gaussian factors follows
from Wick's theorem as a 2 x 2 linear recursion in the depth; this module gives it in exact
``Fraction`` arithmetic, its closed form, and the recursion as sympy objects for certificates.
Its ``n -> inf`` limit is ``L + 1``, the Fuss-Catalan ``m_2``.
"""

from __future__ import annotations

from fractions import Fraction

from degeneracy.validation import check_choice, check_positive_int

from .lyapunov import FIELDS

__all__ = ["second_moment", "second_moment_recursion", "second_moment_closed_form"]


def _wick_coefficients(n: int, field: str) -> tuple[tuple[Fraction, Fraction], tuple[Fraction, Fraction]]:
    """Rows of the 2 x 2 map (tr A^2, (tr A)^2) -> (E tr (B A)^2, E (tr B A)^2), ``B = W^* W``."""
    inv = Fraction(1, n)
    if field == "real":
        return (1 + inv, inv), (2 * inv, Fraction(1))
    return (Fraction(1), inv), (inv, Fraction(1))


def second_moment(n: int, depth: int, *, field: str = "real") -> Fraction:
    """Exact ``E[(1/n) tr (P^T P)^2]`` for ``P`` a product of ``depth`` i.i.d. ``n x n``
    Gaussian matrices with entries of variance ``1/n`` (complex: ``E|w|^2 = 1/n``, ``P^*``).

    Derivation (Wick / Isserlis; docs/formulas.md §1). For a fixed Hermitian ``A`` and
    ``B = W^* W``, ``E B_ij B_kl = delta_ij delta_kl + (1/n) delta_il delta_jk``
    ``[+ (1/n) delta_ik delta_jl, real]``, so

    * real:    ``E tr(BABA) = (1 + 1/n) tr A^2 + (1/n) (tr A)^2``,
      ``E (tr BA)^2 = (2/n) tr A^2 + (tr A)^2``;
    * complex: ``E tr(BABA) = tr A^2 + (1/n) (tr A)^2``,
      ``E (tr BA)^2 = (1/n) tr A^2 + (tr A)^2``.

    With ``A = P_{l-1} P_{l-1}^*`` this is a linear recursion for
    ``v_l = (E tr A_l^2, E (tr A_l)^2)``, ``v_0 = (n, n^2)``, computed here by exact
    ``Fraction`` matrix powers (:func:`second_moment_recursion` gives it in sympy). Closed
    forms (:func:`second_moment_closed_form`):

    * real:    ``[(n + 2)(1 + 2/n)^L - (n - 1)(1 - 1/n)^L] / 3``,
    * complex: ``[(n + 1)(1 + 1/n)^L - (n - 1)(1 - 1/n)^L] / 2``,

    both ``-> L + 1`` (the Fuss-Catalan ``m_2``) as ``n -> inf``; ``n = 1`` gives
    ``E g^4 = 3`` per real factor, ``E |z|^4 = 2`` per complex one.

    Examples
    --------
    >>> second_moment(1, 3), second_moment(1, 3, field="complex")
    (Fraction(27, 1), Fraction(8, 1))
    >>> second_moment(4, 1)   # real Wishart: 2 + 1/n
    Fraction(9, 4)
    >>> second_moment(10, 2, field="complex")  # 3 + 1/n^2
    Fraction(301, 100)
    """
    n = check_positive_int("n", n)
    depth = check_positive_int("depth", depth)
    field = check_choice("field", field, FIELDS)
    (a, b), (c, d) = _wick_coefficients(n, field)
    # matrix power by repeated squaring, in Fractions
    result = ((Fraction(1), Fraction(0)), (Fraction(0), Fraction(1)))
    base = ((a, b), (c, d))

    def mul(p, q):
        return (
            (p[0][0] * q[0][0] + p[0][1] * q[1][0], p[0][0] * q[0][1] + p[0][1] * q[1][1]),
            (p[1][0] * q[0][0] + p[1][1] * q[1][0], p[1][0] * q[0][1] + p[1][1] * q[1][1]),
        )

    e = depth
    while e:
        if e & 1:
            result = mul(result, base)
        base = mul(base, base)
        e >>= 1
    t2 = result[0][0] * n + result[0][1] * n * n
    return t2 / n


def second_moment_closed_form(n: int, depth: int, *, field: str = "real") -> Fraction:
    """The closed form of :func:`second_moment` (eigen-decomposition of the 2 x 2 map).

    Eigenvalues ``1 + 2/n, 1 - 1/n`` (real) and ``1 +- 1/n`` (complex).

    >>> all(second_moment_closed_form(n, L) == second_moment(n, L) for n in (1, 3) for L in (1, 5))
    True
    """
    n = check_positive_int("n", n)
    depth = check_positive_int("depth", depth)
    field = check_choice("field", field, FIELDS)
    up = Fraction(n + 2, n) if field == "real" else Fraction(n + 1, n)
    down = Fraction(n - 1, n)
    if field == "real":
        return ((n + 2) * up**depth - (n - 1) * down**depth) / 3
    return ((n + 1) * up**depth - (n - 1) * down**depth) / 2


def second_moment_recursion(field: str = "real"):
    """The Wick recursion of :func:`second_moment` as sympy objects, for certificates.

    Returns ``(M, v0, n)``: a sympy 2 x 2 ``Matrix`` in the positive integer symbol ``n``
    with ``v_l = M v_{l-1}``, ``v_l = (E tr A_l^2, E (tr A_l)^2)``, ``A_l = P_l P_l^*``, the
    initial vector ``v0 = (n, n^2)`` and the symbol. The moment is
    ``(M^L v0)[0] / n``.

    >>> import sympy as sp
    >>> M, v0, n = second_moment_recursion("complex")
    >>> sp.simplify((M**2 * v0)[0] / n - (n + 1) / 2 * (1 + 1 / n)**2 + (n - 1) / 2 * (1 - 1 / n)**2)
    0
    """
    import sympy as sp

    field = check_choice("field", field, FIELDS)
    n = sp.symbols("n", positive=True, integer=True)
    if field == "real":
        M = sp.Matrix([[1 + 1 / n, 1 / n], [2 / n, 1]])
    else:
        M = sp.Matrix([[1, 1 / n], [1 / n, 1]])
    return M, sp.Matrix([n, n**2]), n
