"""The seed essay's Fold experiment (Orhan 2018): gradient size does not explain trainability.

A deep linear network (depth 30, width 64 in ``--full``) learns a linear map; four initial
conditions, each over independent runs:

* **Fold 0**: i.i.d. Gaussian weights of variance ``1/N`` (the "standard" ``1/sqrt(n)`` init);
* **Fold 1**: the same matrices with the upper half of the rows copied onto the lower half
  (:func:`degeneracy.numerics.ensembles.fold`, rank ``N/2``);
* **Fold 2**: folded twice (rank ``N/4``);
* **Ortho**: Haar orthogonal weights.

Fold 0/1/2 of run ``r`` are folds of the SAME Gaussian draw and share the run's target, so
their comparisons are paired; Ortho runs are independent draws (Welch comparisons).

The essay does not state data, target, optimizer, learning rate or epochs. Defaults
(:data:`DEFAULT_TASK`): whitened inputs and the population loss
``0.5 ||W_L...W_1 - T||_F^2`` (one full-batch step = one epoch), target ``T`` Gaussian with
variance ``1/N`` (drawn per run), Adam (``lr = 1e-3``, betas 0.9/0.999) for 300 epochs;
gradient norms before training and after 10 epochs ("a few epochs"). Every statement is also
tested with Adam at ``lr = 1e-4`` and plain gradient descent at ``lr = 1e-4`` (``--full`` and
default), with one check per setting, named by it, so the verdict says where it holds.

The gradient-norm summary of a run is the log of the root mean square over layers ``l = 0..L`` of
the activation-gradient norms ``||dloss/dx_l||`` (Frobenius over units and the whitened batch).
Positive quantities that vary multiplicatively across runs (losses, gradient norms) are compared
on the log scale: the effect checks are one-sided t-tests on log values over independent runs.

**Sequential replication** (:mod:`degeneracy.proofs.replication`). The experiment runs in
batches of :data:`SIZES` ``["runs"]`` runs per condition (batch 0 is the run the Fold figures
draw); every ``fold.*`` claim adds batches until each of its statements is supported or
contradicted at its alpha-spending boundary, or :data:`BATCHES` batches are spent. The batches
are the shared experiment ``"fold.experiment"`` (:func:`degeneracy.proofs.registry.shared`), one
work unit per (batch, optimizer setting) plus one per batch for the initial-condition summaries:
in a run the runner computes every unit once (all :data:`BATCHES` batches, up front, on any
worker) and hands them to the five claims, which then only combine; a claim run alone computes
the batches its looks need (once per process). The report marks the claims ``shared``. The
digits twin is the shared experiment ``"fold.experiment-digits"``, split the same way. Each
statement and setting ends ``supported``, ``contradicted`` or ``inconclusive``, with its effect (a difference of
log values: a log ratio), its confidence interval and the smallest effect the design detects.
Under the negative control every statement's direction is reversed.

**On digits.** Each ``fold.X`` has a real-data twin ``fold.X-digits`` (the same checks, read from
:func:`digits_experiment`): a deep linear network regresses the one-hot labels of PCA-whitened
handwritten digits (:func:`degeneracy.numerics.realdata.fold_experiment_digits`), losses are the
excess over the best linear fit's, and the optimizer settings are :data:`DIGITS_OPTIMIZER_SETTINGS`
(:data:`DIGITS_TASK`). Without scikit-learn these claims are skipped.
"""

from __future__ import annotations

import math

import numpy as np

from degeneracy.errors import NumericalFailure, SkipClaim
from degeneracy.numerics import stats
from degeneracy.numerics.fold import CONDITIONS, GN_PROBES, GN_RTOL, LABELS, fold_experiment, setting_name
from degeneracy.numerics.realdata import fold_experiment_digits

from .context import compute_shared
from .realdata import batch_generator, on_digits
from .registry import CLAIMS, MODES, claim, shared
from .replication import replicate

#: (quick, default, full) sizes of the experiment; ``runs`` is the size of one batch
SIZES = {
    "width": (16, 32, 64),
    "depth": (10, 20, 30),
    "runs": (16, 16, 10),
    "epochs": (150, 300, 300),
    "few": (5, 10, 10),
}
#: (quick, default, full) largest number of batches: the run budget is runs x batches per condition
BATCHES = (4, 4, 5)
#: optimizer settings: the first is the default; the others test robustness
OPTIMIZER_SETTINGS = {
    "quick": (("adam", 1e-3), ("gd", 1e-3)),
    "default": (("adam", 1e-3), ("adam", 1e-4), ("gd", 1e-4)),
    "full": (("adam", 1e-3), ("adam", 1e-4), ("gd", 1e-4)),
}
DEFAULT_TASK = ("whitened inputs, population loss 0.5||W_L...W_1 - T||_F^2 (1 full-batch step = 1 epoch), "
                "T Gaussian variance 1/N per run; default optimizer Adam lr 1e-3 (betas 0.9, 0.999), 300 epochs; "
                "gradient norms at epoch 0 and after 10 epochs; also Adam lr 1e-4 and GD lr 1e-4. "
                "Full: depth 30, width 64, batches of 10 runs (the essay's 10), up to 50; default: depth 20, "
                "width 32, batches of 16 runs, up to 64; quick: depth 10, width 16, batches of 16 runs, up to 64, "
                "150 epochs, Adam 1e-3 and GD 1e-3. Runs are added in batches until every statement is decided "
                "(O'Brien-Fleming alpha spending).")
SHARED = "the Fold experiment (every fold.* claim and the Fold figures read the same runs)"


#: the shared experiments (:func:`degeneracy.proofs.registry.shared`) the fold.* claims read
EXPERIMENT = "fold.experiment"
DIGITS_EXPERIMENT = "fold.experiment-digits"


def _unit(batch: int, setting) -> str:
    return f"batch{int(batch)}-" + ("init" if setting is None else f"{setting[0]}-lr{setting[1]:.0e}")


def _plan(batches, settings):
    """``{unit: (batch, setting or None)}``: per batch, the initial-condition summaries and one unit
    per optimizer setting (training is deterministic given the draw, so the split keeps every number)."""
    def plan(mode):
        out = {}
        for b in range(batches[MODES.index(mode)]):
            out[_unit(b, None)] = (b, None)
            for opt, lr in settings[mode]:
                out[_unit(b, (opt, lr))] = (b, (opt, float(lr)))
        return out
    return plan


def _assemble(name: str, mode: str, seed: int, batch: int, settings) -> dict:
    """Batch ``batch`` of the shared experiment ``name`` in the layout of
    :func:`numerics.fold.fold_experiment`, from its units (a new dict; the stored units are not changed)."""
    exp = dict(compute_shared(name, _unit(batch, None), mode, seed))
    if "skipped" in exp:
        raise SkipClaim(exp["skipped"])
    exp["runs"] = {}
    for opt, lr in settings[mode]:
        sname = setting_name(opt, lr)
        exp["runs"][sname] = compute_shared(name, _unit(batch, (opt, lr)), mode, seed)["runs"][sname]
    return exp


def shared_experiment(ctx, mode: str | None = None, batch: int = 0) -> dict:
    """Batch ``batch`` of the Fold experiment of this run, sized by ``mode`` (default ``ctx.mode``):
    the shared experiment ``"fold.experiment"`` (computed once per run by the runner, one work unit
    per batch and optimizer setting plus one for the initial-condition summaries), read by every
    ``fold.*`` claim and the Fold figures (the same numbers in each). Batch 0 is the experiment the
    figures draw; batch ``k`` draws new independent runs from a stream keyed by ``k``."""
    mode = ctx.mode if mode is None else mode
    return _assemble(EXPERIMENT, mode, int(ctx.seed), int(batch), OPTIMIZER_SETTINGS)


@shared(EXPERIMENT, plan=_plan(BATCHES, OPTIMIZER_SETTINGS))
def _experiment(mode: str, seed: int, params) -> dict:
    batch, setting = params
    i = MODES.index(mode)
    sizes = {k: v[i] for k, v in SIZES.items()}
    # the experiment's stream: (run seed; "FOLD", batch), the same for every claim and figure of the run
    key = (0x464F4C44,) + ((int(batch),) if batch else ())
    return fold_experiment(**sizes, optimizer_settings=() if setting is None else (setting,), seed_entropy=int(seed),
                           spawn_key=key, summaries=setting is None)


#: (quick, default, full) sizes of the digits setting (:func:`digits_experiment`); ``runs`` per batch
DIGITS_SIZES = {
    "width": (16, 32, 48),
    "depth": (10, 20, 30),
    "runs": (8, 16, 10),
    "epochs": (150, 300, 300),
    "few": (5, 10, 10),
}
DIGITS_BATCHES = (4, 4, 5)
#: GD at lr 1e-2 diverges for Fold 1 and Fold 2 on the digits at depth 20; 1e-3 rarely does (measured)
DIGITS_OPTIMIZER_SETTINGS = {m: (("adam", 1e-3), ("gd", 1e-3)) for m in MODES}
DIGITS_TASK = ("digits [numerics.realdata.fold_experiment_digits]: a deep linear network (depth - 1 square layers and "
               "a 10 x N readout) regresses the one-hot labels of the digits PCA-whitened to N components, full "
               "batch (which is exactly the population loss of Sigma_yx = (1/n) Y X^T, Saxe et al. 2013); losses "
               "are the excess over the best linear fit's, (1/2)||W_L...W_1 - Sigma_yx||_F^2; Adam lr 1e-3 and GD "
               "lr 1e-3; quick: depth 10, width 16, 150 epochs, batches of 8 runs up to 32; default: depth 20, "
               "width 32, 300 epochs, batches of 16 up to 64; full: depth 30, width 48, batches of 10 up to 50. "
               "Each run its own stratified train/test split.")
DIGITS_SHARED = ("the Fold experiment on digits (every fold.*-digits claim and the digits Fold figure read the same "
                 "runs)")


def digits_experiment(ctx, mode: str | None = None, batch: int = 0) -> dict:
    """Batch ``batch`` of the Fold experiment on digits of this run (sizes :data:`DIGITS_SIZES` of
    ``mode``, default ``ctx.mode``), in the layout of :func:`numerics.fold.fold_experiment` with
    losses the excess over the best linear fit's: the shared experiment ``"fold.experiment-digits"``
    (one work unit per batch and optimizer setting plus one for the initial-condition summaries),
    read by every ``fold.*-digits`` claim and the digits Fold figure. Raises :class:`SkipClaim`
    without scikit-learn."""
    mode = ctx.mode if mode is None else mode
    return _assemble(DIGITS_EXPERIMENT, mode, int(ctx.seed), int(batch), DIGITS_OPTIMIZER_SETTINGS)


@shared(DIGITS_EXPERIMENT, plan=_plan(DIGITS_BATCHES, DIGITS_OPTIMIZER_SETTINGS))
def _digits_experiment(mode: str, seed: int, params) -> dict:
    batch, setting = params
    i = MODES.index(mode)
    sizes = {k: v[i] for k, v in DIGITS_SIZES.items()}
    try:
        exp = on_digits(fold_experiment_digits, **sizes, optimizer_settings=() if setting is None else (setting,),
                        rng=batch_generator(seed, "fold", batch), summaries=setting is None)
    except SkipClaim as exc:  # a value, not an exception: the runner computes shared units outside the claims
        return {"skipped": str(exc)}
    for c in exp["init"]:
        exp["init"][c]["product_erank"] = exp["init"][c]["hidden_erank"]
    for per in exp["runs"].values():
        for c in CONDITIONS:
            per[c]["total_loss"] = per[c]["loss"]
            per[c]["loss"] = per[c]["loss"] - exp["constant"][:, None]  # the excess: 0 at the best linear fit
    exp["epochs"] = sizes["epochs"]
    return exp


def _rms(delta: np.ndarray) -> np.ndarray:
    """log of the root mean square over layers of the activation-gradient norms, per run (inf if diverged).

    Compared on the log scale: gradient norms of deep Gaussian networks are close to log-normal
    (``Var log ||delta_l||`` grows linearly with depth, ``dynamics.activation-gradients-at-init``),
    so a mean of raw norms is dominated by rare runs."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.log(np.sqrt(np.mean(delta**2, axis=1)))


def _final(run: dict) -> np.ndarray:
    """log of the final training loss per run (inf for diverged runs, which the checks exclude)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return np.log(run["loss"][:, -1])


def _samples(exp: dict) -> dict:
    """Every per-run quantity the fold.* claims test, as flat arrays keyed ``"where|condition|what"``."""
    out = {}
    first = exp["runs"][next(iter(exp["runs"]))]
    E = exp["epochs"]
    for c in CONDITIONS:
        out[f"init|{c}|grad"] = _rms(first[c]["delta0"])
        out[f"init|{c}|gn_near_null"] = np.asarray(exp["init"][c]["gn_near_null"], dtype=float)
        out[f"init|{c}|erank"] = np.asarray(exp["init"][c]["product_erank"], dtype=float)
    d0 = first["fold0"]["delta0"]
    out["init|fold0|log10_ratio"] = np.log10(d0[:, 0] / d0[:, -1])
    for sname, per in exp["runs"].items():
        for c in CONDITIONS:
            out[f"{sname}|{c}|grad_few"] = _rms(per[c]["delta_few"])
            out[f"{sname}|{c}|final"] = _final(per[c])
            out[f"{sname}|{c}|diverged"] = np.asarray(per[c]["diverged"], dtype=bool)
        loss = per["fold0"]["loss"]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            out[f"{sname}|fold0|early"] = np.log(loss[:, 0] / loss[:, E // 10])
            out[f"{sname}|fold0|late"] = np.log(loss[:, E // 2] / loss[:, E])
    return out


class _Source:
    """Where a fold.* claim's runs come from: the synthetic teacher (the essay's setting as read here)
    or the digits (:mod:`degeneracy.proofs.realdata`); sizes ``(quick, default, full)``."""

    def __init__(self, name, sizes, batches, optimizer_settings, shared, samples):
        self.name, self.sizes, self.batches = name, sizes, batches
        self.optimizer_settings, self.shared, self.samples = optimizer_settings, shared, samples


def _synthetic_samples(ctx, index):
    return _samples(shared_experiment(ctx, batch=index))


def _digits_samples(ctx, index):
    return _samples(digits_experiment(ctx, batch=index))


SYNTHETIC = _Source("synthetic", SIZES, BATCHES, OPTIMIZER_SETTINGS, SHARED, _synthetic_samples)
DIGITS = _Source("digits", DIGITS_SIZES, DIGITS_BATCHES, DIGITS_OPTIMIZER_SETTINGS, DIGITS_SHARED, _digits_samples)


def _sequential(ctx, evaluate, src=SYNTHETIC):
    """Run ``evaluate(samples)`` on the shared experiment's batches (see the module docstring)."""
    ctx.share(src.shared)
    i = MODES.index(ctx.mode)

    latest = {}

    def batch(index, rng, size):  # the batches are the shared experiment's; rng is not needed
        return src.samples(ctx, index)

    def remember(s):
        latest["s"] = s
        return evaluate(s)

    checks = replicate(ctx, batch, remember, size=src.sizes["runs"][i], batches=src.batches[i])
    _diverged_note(ctx, latest["s"], src)
    return checks


def _settings(ctx, src=SYNTHETIC):
    return [setting_name(o, lr) for o, lr in src.optimizer_settings[ctx.mode]]


def _effect(name, a, b, direction, *, paired, control):
    """Effect check; under the negative control the claimed direction is reversed (it must not be supported)."""
    if control:
        direction = "less" if direction == "greater" else "greater"
    f = stats.paired_difference_check if paired else stats.difference_check
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b) if paired else None
    if paired and not np.all(ok):
        a, b = a[ok], b[ok]
    elif not paired:
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size < 2 or b.size < 2:
        raise NumericalFailure(f"{name}: fewer than 2 non-diverged runs")
    return f(name, a, b, direction)


def _diverged_note(ctx, s, src=SYNTHETIC):
    for sname in _settings(ctx, src):
        for c in CONDITIONS:
            d = s[f"{sname}|{c}|diverged"]
            if d.any():
                ctx.note(f"{sname}: {int(d.sum())} of {d.size} {LABELS[c]} runs diverged (loss inf/NaN); excluded, "
                         "which favours that condition")


def _versus_fold0(ctx, cond: str, direction: str, src=SYNTHETIC):
    """Checks of ``cond`` against Fold 0: gradient norm at init, then per optimizer setting the gradient
    norm after a few epochs and the final loss, all in ``direction``. Fold k runs are folds of the
    same draws as Fold 0 (paired); Ortho runs are independent draws (Welch)."""
    paired = cond != "ortho"
    vs = f"{LABELS[cond]} {'>' if direction == 'greater' else '<'} {LABELS['fold0']}"
    few = src.sizes["few"][MODES.index(ctx.mode)]

    def evaluate(s):
        yield _effect(f"init: gradient norm {vs}", s[f"init|{cond}|grad"], s["init|fold0|grad"],
                      direction, paired=paired, control=ctx.control)
        for sname in _settings(ctx, src):
            yield _effect(f"{sname}: gradient norm after {few} epochs {vs}", s[f"{sname}|{cond}|grad_few"],
                          s[f"{sname}|fold0|grad_few"], direction, paired=paired, control=ctx.control)
            yield _effect(f"{sname}: final loss {vs}", s[f"{sname}|{cond}|final"], s[f"{sname}|fold0|final"],
                          direction, paired=paired, control=ctx.control)

    return _sequential(ctx, evaluate, src)


_COMMON = dict(source="Orhan 2018 (the seed essay), Fold experiment; docs/formulas.md §3", kind="empirical",
               shares=(EXPERIMENT,))


@claim("fold.fold0-plateau",
       title="With standard Gaussian initialization (Fold 0) a deep linear network's loss falls fast and then "
             "plateaus far above what orthogonal initialization reaches, while its activation gradients neither "
             "vanish nor explode at initialization.",
       formula="per setting: Fold 0 decrease of log loss over the first 10% of epochs > over the last 50% (paired; "
               "exponential convergence would give the opposite); final log loss Fold 0 > Ortho (Welch); at init: "
               "mean log10(||delta_0|| / ||delta_L||) > -1 and < 1 (within a factor 10, stated criterion). "
               + DEFAULT_TASK,
       **_COMMON)
def fold0_plateau(ctx, src=SYNTHETIC):
    def evaluate(s):
        ratio = s["init|fold0|log10_ratio"]
        se = float(ratio.std(ddof=1) / math.sqrt(ratio.size))
        if ctx.control:  # the vanishing-gradient story: the input-side gradient is < 1/10 of the output-side one
            yield stats.bound_check("init: log10 ||delta_0||/||delta_L|| < -1 (vanishing)", float(ratio.mean()), se,
                                    -1.0, "le", df=ratio.size - 1)
            yield stats.bound_check("init: log10 ||delta_0||/||delta_L|| > 1 (exploding)", float(ratio.mean()), se,
                                    1.0, "ge", df=ratio.size - 1)
        else:
            yield stats.bound_check("init: log10 ||delta_0||/||delta_L|| > -1 (no vanishing)", float(ratio.mean()), se,
                                    -1.0, "ge", df=ratio.size - 1)
            yield stats.bound_check("init: log10 ||delta_0||/||delta_L|| < 1 (no explosion)", float(ratio.mean()), se,
                                    1.0, "le", df=ratio.size - 1)
        for sname in _settings(ctx, src):
            yield _effect(f"{sname}: Fold 0 log-loss drop over the first 10% > over the last 50%",
                          s[f"{sname}|fold0|early"], s[f"{sname}|fold0|late"], "greater", paired=True,
                          control=ctx.control)
            yield _effect(f"{sname}: final loss Fold 0 > Ortho", s[f"{sname}|fold0|final"], s[f"{sname}|ortho|final"],
                          "greater", paired=False, control=ctx.control)

    yield from _sequential(ctx, evaluate, src)


@claim("fold.fold1-larger-gradients-worse-loss",
       title="Folding each initial matrix once (Fold 1) makes the activation-gradient norms larger yet the "
             "training loss worse than Fold 0.",
       formula="paired over runs: log RMS_l ||delta_l|| Fold 1 > Fold 0 at init and after a few epochs; final loss "
               "Fold 1 > Fold 0; one check per optimizer setting. " + DEFAULT_TASK,
       **_COMMON)
def fold1_larger_gradients(ctx, src=SYNTHETIC):
    yield from _versus_fold0(ctx, "fold1", "greater", src)


@claim("fold.ortho-smaller-gradients-better-loss",
       title="Orthogonal initialization (Ortho) has smaller activation-gradient norms than Fold 0 yet trains to a "
             "much lower loss.",
       formula="Welch over runs: log RMS_l ||delta_l|| Ortho < Fold 0 at init and after a few epochs; final loss "
               "Ortho < Fold 0; one check per optimizer setting. " + DEFAULT_TASK,
       **_COMMON)
def ortho_smaller_gradients(ctx, src=SYNTHETIC):
    yield from _versus_fold0(ctx, "ortho", "less", src)


@claim("fold.gradient-norm-not-predictive",
       title="Across Ortho, Fold 0, Fold 1 and Fold 2 the initial gradient norm increases while the final loss also "
             "increases: larger gradients go with worse training, the opposite of what the vanishing-gradient "
             "explanation predicts.",
       formula="at init log RMS_l ||delta_l||: Ortho < Fold 0 < Fold 1 < Fold 2; per setting final loss: "
               "Ortho < Fold 0 < Fold 1 < Fold 2 (Fold pairs paired, Ortho Welch). " + DEFAULT_TASK,
       **_COMMON)
def gradient_norm_not_predictive(ctx, src=SYNTHETIC):
    order = ("ortho", "fold0", "fold1", "fold2")

    def evaluate(s):
        for lo, hi in zip(order, order[1:]):
            yield _effect(f"init: gradient norm {LABELS[hi]} > {LABELS[lo]}", s[f"init|{hi}|grad"],
                          s[f"init|{lo}|grad"], "greater", paired=lo != "ortho", control=ctx.control)
        for sname in _settings(ctx, src):
            for lo, hi in zip(order, order[1:]):
                yield _effect(f"{sname}: final loss {LABELS[hi]} > {LABELS[lo]}", s[f"{sname}|{hi}|final"],
                              s[f"{sname}|{lo}|final"], "greater", paired=lo != "ortho", control=ctx.control)

    yield from _sequential(ctx, evaluate, src)


@claim("fold.effective-dimension",
       title="Degeneracy at initialization is ordered Fold 1 > Fold 0 > Ortho (Gauss-Newton near-null fraction up, "
             "effective rank of the end-to-end product down) and predicts the loss ordering.",
       formula=f"Gauss-Newton spectrum on {GN_PROBES} whitened probe inputs, near-null = eigenvalue <= {GN_RTOL:g} x max; "
               "effective rank (Roy-Vetterli) of the product's singular values (graded QR, numerics.products); per "
               "setting final loss Fold 1 > Fold 0 > Ortho. " + DEFAULT_TASK,
       **_COMMON)
def effective_dimension(ctx, src=SYNTHETIC):
    def evaluate(s):
        yield _effect("init: GN near-null fraction Fold 1 > Fold 0", s["init|fold1|gn_near_null"],
                      s["init|fold0|gn_near_null"], "greater", paired=True, control=ctx.control)
        yield _effect("init: GN near-null fraction Fold 0 > Ortho", s["init|fold0|gn_near_null"],
                      s["init|ortho|gn_near_null"], "greater", paired=False, control=ctx.control)
        yield _effect("init: product effective rank Fold 1 < Fold 0", s["init|fold1|erank"], s["init|fold0|erank"],
                      "less", paired=True, control=ctx.control)
        yield _effect("init: product effective rank Fold 0 < Ortho", s["init|fold0|erank"], s["init|ortho|erank"],
                      "less", paired=False, control=ctx.control)
        for sname in _settings(ctx, src):
            yield _effect(f"{sname}: final loss Fold 1 > Fold 0", s[f"{sname}|fold1|final"], s[f"{sname}|fold0|final"],
                          "greater", paired=True, control=ctx.control)
            yield _effect(f"{sname}: final loss Fold 0 > Ortho", s[f"{sname}|fold0|final"], s[f"{sname}|ortho|final"],
                          "greater", paired=False, control=ctx.control)

    yield from _sequential(ctx, evaluate, src)


# ----------------------------------------------------------------------------- the same statements on digits

_DIGITS_NOTE = (" Here a deep linear network regresses the one-hot labels of PCA-whitened handwritten digits; losses "
                "are the excess over the best linear fit's.")


def _digits_claim(cid: str, fn):
    """Register ``cid + "-digits"``: the statement of ``cid`` on the digits (:data:`DIGITS_TASK`)."""
    c = CLAIMS[cid]

    def digits_fn(ctx):
        yield from fn(ctx, DIGITS)

    digits_fn.__name__ = digits_fn.__qualname__ = f"{fn.__name__}_digits"
    digits_fn.__doc__ = f"The claim {cid} on the digits (see :func:`{fn.__name__}`)."
    formula = c.formula.replace(DEFAULT_TASK, DIGITS_TASK)
    if fn is fold0_plateau:
        formula = formula.replace("Fold 0 decrease of log loss", "Fold 0 decrease of log excess loss")
    return claim(cid + "-digits", title="[digits] " + c.title + _DIGITS_NOTE, source=c.source.replace(
        "Fold experiment", "Fold experiment (on digits here)"), kind=c.kind, formula=formula,
        shares=(DIGITS_EXPERIMENT,))(digits_fn)


fold0_plateau_digits = _digits_claim("fold.fold0-plateau", fold0_plateau)
fold1_larger_gradients_digits = _digits_claim("fold.fold1-larger-gradients-worse-loss", fold1_larger_gradients)
ortho_smaller_gradients_digits = _digits_claim("fold.ortho-smaller-gradients-better-loss", ortho_smaller_gradients)
gradient_norm_not_predictive_digits = _digits_claim("fold.gradient-norm-not-predictive", gradient_norm_not_predictive)
effective_dimension_digits = _digits_claim("fold.effective-dimension", effective_dimension)
