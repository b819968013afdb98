"""The Fold experiment of the seed essay (Orhan 2018) as one numerical run.

A deep linear network learns a linear map from four initial conditions, each over independent
runs: **Fold 0** (i.i.d. Gaussian weights of variance ``1/N``), **Fold 1** and **Fold 2** (the same
matrices folded once or twice, :func:`degeneracy.numerics.ensembles.fold`, rank ``N/2^k``) and
**Ortho** (Haar orthogonal). Fold 0/1/2 of run ``r`` are folds of the SAME Gaussian draw and share
the run's target (paired comparisons); Ortho runs are independent draws.

:func:`fold_experiment` trains all four conditions as ONE stack of ``4R`` networks on the whitened
population loss ``0.5 ||W_L...W_1 - T||_F^2`` (one full-batch step = one epoch) and records, per
condition: the Gauss-Newton spectrum and end-to-end product at initialization, and per optimizer
setting the loss curves and activation-gradient norms. It is cached per process, so every claim and
figure of a run that asks for the same sizes and seed reads the same runs.

Examples
--------
>>> exp = fold_experiment(width=16, depth=3, runs=2, epochs=5, few=2, optimizer_settings=(("adam", 1e-3),),
...                       seed_entropy=0, spawn_key=())
>>> sorted(exp["runs"]["adam lr=1e-3"]), exp["runs"]["adam lr=1e-3"]["fold0"]["loss"].shape
(['fold0', 'fold1', 'fold2', 'ortho'], (2, 6))
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from degeneracy.numerics import ensembles
from degeneracy.numerics.graded_svd import product_log_singular_values
from degeneracy.numerics.measures import effective_rank, gauss_newton_spectrum, near_null_fraction
from degeneracy.numerics.networks import NetworkStack, init_network
from degeneracy.numerics.training import PopulationTask, train

__all__ = ["CONDITIONS", "LABELS", "GN_PROBES", "GN_RTOL", "setting_name", "fold_experiment"]

CONDITIONS = ("fold0", "fold1", "fold2", "ortho")
LABELS = {"fold0": "Fold 0", "fold1": "Fold 1", "fold2": "Fold 2", "ortho": "Ortho"}
GN_PROBES = 4          # whitened probe inputs for the Gauss-Newton spectrum
GN_RTOL = 1e-3         # near-null: eigenvalue below 1e-3 x the largest


def setting_name(opt: str, lr: float) -> str:
    """The label of an optimizer setting, e.g. ``"adam lr=1e-3"``.

    >>> setting_name("gd", 1e-4)
    'gd lr=1e-4'
    """
    return f"{opt} lr={lr:.0e}".replace("e-0", "e-")


@lru_cache(maxsize=4)
def fold_experiment(*, width: int, depth: int, runs: int, epochs: int, few: int, optimizer_settings: tuple,
                    seed_entropy: int, spawn_key: tuple, summaries: bool = True) -> dict:
    """Run (or fetch from the per-process cache) the whole Fold experiment.

    Parameters
    ----------
    width, depth : int
        ``N`` units per layer, ``L`` weight matrices (``N x N``).
    runs : int
        ``R`` independent runs per condition.
    epochs, few : int
        Training steps, and the step at which the "after a few epochs" gradients are recorded.
    optimizer_settings : tuple of (str, float)
        ``(optimizer, learning rate)`` pairs, e.g. ``(("adam", 1e-3), ("gd", 1e-4))``.
    seed_entropy, spawn_key
        The :class:`numpy.random.SeedSequence` of the experiment.
    summaries : bool
        Compute the initial-condition summaries ``init`` (default); ``False`` leaves ``init`` empty
        (a work unit that trains some optimizer settings only: training is deterministic given the
        draw, so each setting's numbers are the same whichever other settings run beside it).

    Returns
    -------
    dict
        ``N, L, R, epochs, few``; ``init[condition]``: Gauss-Newton spectrum ``gn_spectrum``, its
        near-null fraction (below ``GN_RTOL`` x the largest), the effective rank and log singular
        values of the end-to-end product; ``runs[setting][condition]``: ``loss`` ``(R, epochs + 1)``,
        ``diverged`` ``(R,)``, activation-gradient norms ``delta0``, ``delta_few``, ``delta_end``
        ``(R, L + 1)``.
    """
    N, L, R = width, depth, runs
    ss = np.random.SeedSequence(seed_entropy, spawn_key=spawn_key)
    s_target, s_gauss, s_ortho, s_probe = ss.spawn(4)
    T = ensembles.gaussian(N, size=R, rng=np.random.Generator(np.random.SFC64(s_target)))
    gauss_seeds = s_gauss.spawn(R)
    ortho_seeds = s_ortho.spawn(R)
    widths = [N] * (L + 1)
    nets = {
        "fold0": init_network(widths, R, init="gaussian", rng=list(gauss_seeds)),
        "fold1": init_network(widths, R, init="gaussian", fold=1, rng=list(gauss_seeds)),
        "fold2": init_network(widths, R, init="gaussian", fold=2, rng=list(gauss_seeds)),
        "ortho": init_network(widths, R, init="orthogonal", rng=list(ortho_seeds)),
    }
    probe = np.random.Generator(np.random.SFC64(s_probe)).standard_normal((N, GN_PROBES))
    out = {"N": N, "L": L, "R": R, "epochs": epochs, "few": few, "init": {}, "runs": {}}
    for c, net in (nets.items() if summaries else ()):
        lam = gauss_newton_spectrum(net, probe)
        logsv = product_log_singular_values(np.stack(net.weights))  # factors[l] = W_{l+1}: (L, R, N, N) -> (R, N)
        sv = np.exp(logsv - logsv[:, :1])
        out["init"][c] = {
            "gn_spectrum": lam,
            "gn_near_null": near_null_fraction(np.clip(lam, 0, None), rtol=GN_RTOL),
            "product_erank": effective_rank(sv),
            "product_logsv": logsv,
        }
    # all four conditions as ONE stack of 4R networks
    stacked = NetworkStack([np.concatenate([nets[c].weights[l] for c in CONDITIONS]) for l in range(L)])
    Tst = np.concatenate([T] * len(CONDITIONS))
    for opt, lr in optimizer_settings:
        res = train(stacked, PopulationTask(Tst), optimizer=opt, lr=lr, steps=epochs, record_at=(0, few, epochs))
        name = setting_name(opt, lr)
        per = {}
        for k, c in enumerate(CONDITIONS):
            sl = slice(k * R, (k + 1) * R)
            per[c] = {
                "loss": res.loss[sl],
                "diverged": res.diverged[sl],
                "delta0": res.records[0].delta[sl],
                "delta_few": res.records[few].delta[sl],
                "delta_end": res.records[epochs].delta[sl],
            }
        out["runs"][name] = per
    return out
