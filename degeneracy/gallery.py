"""The figure gallery: one HTML page with every figure, its caption, the claims it illustrates with
their verdicts, and the command that reproduces it (``degeneracy figures --html``).

The page sits beside the images it shows (``<out>/gallery.html``) and links the vector files
(SVG, PDF) when they were written. The verdicts are those of the same mode and seed: read from a
``degeneracy verify --json`` report when one is given (its mode and seed must match), otherwise
computed by running the illustrated claims. The page has no timestamp: same inputs, same bytes.
"""

from __future__ import annotations

import html
import json
import os
from typing import Iterable

from degeneracy.errors import ArgumentValueError

__all__ = ["GALLERY", "reproduce_command", "verdicts_from_report", "run_verdicts", "gallery_html", "write_gallery"]

#: file name of the gallery inside the output folder
GALLERY = "gallery.html"

_BADGE = {"pass": "#1a7f37", "fail": "#cf222e", "error": "#8250df", "skipped": "#6e7781"}


def reproduce_command(fig_id: str, *, mode: str, seed: int, out: str, formats: Iterable[str] = ("png", "svg")) -> str:
    """The shell command that renders ``fig_id`` again, byte for byte.

    >>> reproduce_command("products-lyapunov", mode="quick", seed=0, out="figs")
    'degeneracy figures --only products-lyapunov --quick --seed 0 --out figs'
    """
    flag = {"quick": " --quick", "full": " --full"}.get(mode, "")
    fmt = "" if tuple(formats) == ("png", "svg") else " --format " + ",".join(formats)
    return f"degeneracy figures --only {fig_id}{flag} --seed {seed} --out {out}{fmt}"


def verdicts_from_report(path: str, *, mode: str, seed: int) -> dict:
    """``{claim id: (verdict, one-line detail)}`` from a ``degeneracy verify --json`` report of the same run."""
    with open(path, encoding="utf-8") as fh:
        rep = json.load(fh)
    if rep.get("mode") != mode or rep.get("seed") != seed:
        raise ArgumentValueError(f"report {path} is for mode {rep.get('mode')!r}, seed {rep.get('seed')!r}; the figures "
                                 f"are for mode {mode!r}, seed {seed!r}")
    out = {}
    for c in rep.get("claims", []):
        checks = c.get("checks", [])
        failed = [k.get("name", "") for k in checks if k.get("passed") is False]
        detail = f"{len(checks) - len(failed)} of {len(checks)} checks passed" + (
            f"; failed: {'; '.join(failed[:3])}" if failed else "")
        out[c["id"]] = (c.get("verdict", "?"), detail)
    return out


def run_verdicts(claim_ids: Iterable[str], *, mode: str, seed: int, workers: int = 1, executor=None) -> dict:
    """Run the claims ``claim_ids`` (same mode and seed as the figures) and return their verdicts."""
    from degeneracy.execution import run_claims
    from degeneracy.proofs.registry import get_claim, load_all

    load_all()
    claims = [get_claim(c) for c in sorted(set(claim_ids))]
    out = {}
    for r in run_claims(claims, mode, seed, workers=workers, executor=executor):
        failed = [c.name for c in r.checks if c.passed is False]
        detail = f"{len(r.checks) - len(failed)} of {len(r.checks)} checks passed" + (
            f"; failed: {'; '.join(failed[:3])}" if failed else "")
        if r.verdict == "error":
            detail = f"error: {r.message}"
        out[r.id] = (r.verdict, detail)
    return out


def gallery_html(figures, *, mode: str, seed: int, out: str, verdicts: dict, formats=("png", "svg")) -> str:
    """The gallery page for ``figures`` (registry entries) as a string.

    >>> from degeneracy.figures.registry import FIGURES, load_all
    >>> load_all()
    >>> page = gallery_html([FIGURES["products-lyapunov"]], mode="quick", seed=0, out="f",
    ...                     verdicts={"products.lyapunov-real": ("pass", "3 of 3 checks passed")})
    >>> "products-lyapunov.png" in page and "pass" in page
    True
    """
    from degeneracy.proofs.registry import CLAIMS, load_all

    load_all()
    esc = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>degeneracy figures</title>",
             "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
             "line-height:1.45;color:#1f2328}figure{margin:2.5em 0;border-top:1px solid #d0d7de;padding-top:1em}"
             "img{max-width:100%;height:auto}figcaption{margin:.6em 0}code{background:#f6f8fa;padding:.1em .3em}"
             ".badge{color:#fff;border-radius:.3em;padding:.05em .4em;font-size:.85em}"
             "ul{margin:.3em 0}</style></head><body>",
             "<h1>degeneracy: figures</h1>",
             f"<p>Mode <b>{esc(mode)}</b>, seed <b>{seed}</b>. Each figure shows the settings of the claims it "
             "illustrates; their verdicts below are for the same mode and seed. Vector files: "
             + (", ".join(esc(f.upper()) for f in formats if f != "png") or "none") + ".</p>",
             "<ul>" + "".join(f'<li><a href="#{esc(f.id)}">{esc(f.id)}</a></li>' for f in figures) + "</ul>"]
    for f in figures:
        links = " · ".join(f'<a href="{esc(f.id)}.{fmt}">{fmt.upper()}</a>' for fmt in formats)
        parts.append(f'<figure id="{esc(f.id)}"><h2>{esc(f.title)}</h2>')
        parts.append(f'<a href="{esc(f.id)}.png"><img src="{esc(f.id)}.png" alt="{esc(f.id)}"></a>')
        parts.append(f"<figcaption><code>{esc(f.id)}</code> ({links}). {esc(f.caption)}</figcaption>")
        if f.claims:
            parts.append("<p>Illustrates:</p><ul>")
            for cid in f.claims:
                verdict, detail = verdicts.get(cid, ("not run", ""))
                color = _BADGE.get(verdict, "#6e7781")
                title = CLAIMS[cid].title if cid in CLAIMS else ""
                parts.append(f'<li><code>{esc(cid)}</code> <span class="badge" style="background:{color}">'
                             f"{esc(verdict)}</span> {esc(title)}" + (f" <i>({esc(detail)})</i>" if detail else "")
                             + "</li>")
            parts.append("</ul>")
        parts.append(f"<p>Reproduce: <code>{esc(reproduce_command(f.id, mode=mode, seed=seed, out=out, formats=formats))}"
                     "</code></p></figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_gallery(figures, *, out: str, mode: str, seed: int, verdicts: dict, formats=("png", "svg")) -> str:
    """Write ``<out>/gallery.html`` (atomically); returns its path."""
    from degeneracy.proofs.report import write_atomic

    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, GALLERY)
    write_atomic(path, gallery_html(figures, mode=mode, seed=seed, out=out, verdicts=verdicts, formats=formats))
    return path
