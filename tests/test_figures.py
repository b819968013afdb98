"""Rendering is deterministic; figure ids follow the areas (the guards and the per-figure rendering
are in test_figure_guards.py)."""

import hashlib

from degeneracy.figures.registry import FIGURES, load_all, render

load_all()


def test_same_seed_same_image(tmp_path):
    fig = FIGURES["products-lyapunov"]
    digests = []
    for i in range(2):
        paths, _ = render(fig, out=str(tmp_path / str(i)), seed=5, mode="quick")
        with open(paths[1], "rb") as fh:  # the SVG: text, hash-salted, no date
            digests.append(hashlib.sha256(fh.read()).hexdigest())
    assert digests[0] == digests[1]


def test_figure_ids_follow_areas():
    from degeneracy.figures.registry import CROSS_AREA
    from degeneracy.proofs.registry import AREAS

    for fid, f in FIGURES.items():
        assert f.module.split(".")[-1] in AREAS + CROSS_AREA
        assert fid.split("-")[0] == f.module.split(".")[-1]
