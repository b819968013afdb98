"""Keep the README's claim, proof and figure tables in step with the registries.

``python -m degeneracy.readme`` rewrites the block between ``<!-- claims:start -->`` and
``<!-- claims:end -->`` (and the figures and singularities blocks) in README.md; the test suite
fails when the README is stale.
"""

from __future__ import annotations

import os
import re
import sys

from degeneracy.errors import ArgumentValueError

__all__ = ["claim_table", "figure_table", "singularity_table", "render", "README"]

#: the checkout's README (this module is a development tool: it runs from a checkout, i.e. an
#: editable install, where the package folder sits beside README.md)
README = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _area_order(item_id: str):
    """Sort key: the essay's order of areas (proofs.registry.AREAS), then the id."""
    from degeneracy.proofs.registry import AREAS

    area = item_id.replace("-", ".").split(".")[0]
    return (AREAS.index(area) if area in AREAS else len(AREAS), item_id)


def claim_table() -> str:
    """Markdown table of every registered claim: id, statement, source, kind."""
    from degeneracy.proofs.registry import CLAIMS, load_all

    load_all()
    rows = ["| id | statement | source | kind |", "|---|---|---|---|"]
    for cid in sorted(CLAIMS, key=_area_order):
        c = CLAIMS[cid]
        rows.append(f"| `{cid}` | {_cell(c.title)} | {_cell(c.source)} | {c.kind} |")
    return "\n".join(rows)


def figure_table() -> str:
    """Markdown list of every registered figure with its committed PNG, its caption and its claims."""
    from degeneracy.figures.registry import FIGURES, load_all

    load_all()
    out = []
    for fid in sorted(FIGURES, key=_area_order):
        f = FIGURES[fid]
        claims = ", ".join(f"`{c}`" for c in f.claims)
        caption = f"\n\n{_cell(f.caption)}" if f.caption else ""
        illustrates = f" Illustrates {claims}." if claims else ""
        out.append(f"**{_cell(f.title)}** (`{fid}`)\n\n![{fid}](figures/images/{fid}.png){caption}{illustrates}\n")
    return "\n".join(out)


def singularity_table() -> str:
    """The exact null dimensions of singular sets with and without skips (theory.singularity_engine)."""
    from degeneracy.theory.singularity_engine import markdown_table

    return markdown_table()


def render(text: str) -> str:
    """``text`` with every generated block replaced by the current tables."""
    for name, body in (("claims", claim_table()), ("figures", figure_table()),
                       ("singularities", singularity_table())):
        pat = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        if not pat.search(text):
            raise ArgumentValueError(f"README.md has no <!-- {name}:start --> ... <!-- {name}:end --> block")
        text = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main() -> int:
    if not os.path.isfile(README):
        print("degeneracy.readme: error: no README.md beside the package; run it from a checkout "
              "(pip install -e .)", file=sys.stderr)
        return 2
    with open(README, encoding="utf-8") as fh:
        old = fh.read()
    new = render(old)
    if new != old:
        with open(README, "w", encoding="utf-8") as fh:
            fh.write(new)
        print("README.md tables updated")
    else:
        print("README.md tables are current")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
