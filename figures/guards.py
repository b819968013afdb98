"""Guards against the defects a referee sends a figure back for, read from matplotlib's artist tree.

:func:`problems` lays the figure out, draws it once (Agg) and returns a list of sentences, one per
defect found (empty when the figure passes). It looks at artists, never at pixels:

* **legend over data** -- a legend's frame intersects a data artist of any axes: a line drawn
  in data coordinates (its segments, and its markers with their size), an error bar, a filled
  band, a scatter point, a histogram bar or step outline; an axes holding an image, a 2-D
  histogram or filled contours counts as covered everywhere. Reference lines (``axhline``,
  ``axvline``) and the grid are not data.
* **text over data** -- a text inside an axes (a note, a clipping marker) meets a data line,
  error bar, band, scatter point or bar of that axes, as a legend would.
* **clipped data** -- a finite data point of a line, error bar, band, scatter or bar lies outside
  the axis limits (or is non-positive on a log axis, where matplotlib drops it silently), and the
  axes carries no marker saying so (:func:`degeneracy.figures.style.mark_clipped`).
* **unlabelled axis** -- an axis with tick labels but no label (an axis sharing its limits with a
  labelled sibling whose tick labels are hidden, or under a figure-level ``supxlabel`` /
  ``supylabel``, counts as labelled); a colour bar without a label. Axes without ticks (pictures)
  are exempt.
* **floored histogram** -- the first or last non-empty bin of a histogram is a spike: at least
  3 times every one of its 3 inner neighbours and at least a fifth of the tallest bin (what
  ``np.maximum(x, floor)`` binned from the floor produces); or all of a histogram of >= 10 bins
  sits in one bin.
* **overlapping text** -- two visible texts (titles, axis and tick labels, annotations, legends)
  overlap by more than a few pixels.
* **unreadable text** -- a text smaller than :data:`~degeneracy.figures.style.MIN_FONT_PX` pixels
  once the image is scaled to :data:`~degeneracy.figures.style.README_WIDTH_PX` pixels.

The test suite runs every registered figure through :func:`problems` at quick size, and a
deliberately broken figure (legend over the data, a floored histogram) through it as a negative
control.

Examples
--------
>>> import numpy as np
>>> from degeneracy.figures.style import new_figure
>>> fig, ax = new_figure()
>>> _ = ax.plot(np.linspace(0, 1, 50), np.linspace(0, 1, 50), label="data")
>>> _ = ax.legend(loc="center")
>>> [p.split(":")[0] for p in problems(fig)]
['legend over data', 'unlabelled axis', 'unlabelled axis']
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection, PathCollection, PolyCollection, QuadMesh
from matplotlib.contour import ContourSet
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon, Rectangle
from matplotlib.path import Path
from matplotlib.transforms import Bbox

from .style import CLIP_GID, MIN_FONT_PX, README_WIDTH_PX, STYLE, finalize

__all__ = ["problems", "histogram_heights", "is_spike"]

_TEXT_OVERLAP_PX2 = 6.0  # overlaps smaller than this many square pixels are rendering slack


def _is_colorbar(ax) -> bool:
    return ax.get_label() == "<colorbar>"


def _label(ax) -> str:
    title = ax.get_title() or ax.get_title(loc="left") or ax.get_title(loc="right")
    return f"axes {ax.figure.axes.index(ax)}" + (f" ({title.splitlines()[0][:40]!r})" if title else "")


def _finite_rows(xy: np.ndarray) -> np.ndarray:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return xy[np.all(np.isfinite(xy), axis=1)]


def _data_lines(ax):
    return [ln for ln in ax.lines if ln.get_visible() and ln.get_transform() is ax.transData]


def _data_collections(ax):
    out = []
    for c in ax.collections:
        if not c.get_visible():
            continue
        if isinstance(c, PathCollection) and c.get_offset_transform() is ax.transData:
            out.append(c)
        elif isinstance(c, (LineCollection, PolyCollection)) and c.get_transform() is ax.transData:
            out.append(c)
    return out


def _data_patches(ax):
    return [p for p in ax.patches if p.get_visible() and isinstance(p, (Rectangle, Polygon))
            and p.get_data_transform() is ax.transData]


def _covering(ax) -> bool:
    """An image, a 2-D histogram or filled contours fills the axes."""
    return any(isinstance(a, (AxesImage, QuadMesh, ContourSet)) and a.get_visible()
               for a in list(ax.images) + list(ax.collections))


def _segments_hit(xy_disp: np.ndarray, box: Bbox) -> bool:
    """Does the polyline through the display points (NaN rows split it) meet ``box``?"""
    ok = np.all(np.isfinite(xy_disp), axis=1)
    start = 0
    while start < len(ok):
        while start < len(ok) and not ok[start]:
            start += 1
        stop = start
        while stop < len(ok) and ok[stop]:
            stop += 1
        seg = xy_disp[start:stop]
        if len(seg) >= 2 and Path(seg).intersects_bbox(box, filled=False):
            return True
        if len(seg) == 1 and box.contains(*seg[0]):
            return True
        start = stop
    return False


def _line_hits(ln: Line2D, ax, box: Bbox, px_per_pt: float) -> bool:
    xy = ax.transData.transform(np.asarray(ln.get_xydata(), dtype=float))
    if ln.get_linestyle() not in ("None", "none", "", " ") and _segments_hit(xy, box):
        return True
    if ln.get_marker() not in (None, "None", "none", "", " "):
        r = 0.5 * ln.get_markersize() * px_per_pt
        pts = _finite_rows(xy)
        grown = Bbox.from_extents(box.x0 - r, box.y0 - r, box.x1 + r, box.y1 + r)
        if pts.size and np.any((pts[:, 0] > grown.x0) & (pts[:, 0] < grown.x1)
                               & (pts[:, 1] > grown.y0) & (pts[:, 1] < grown.y1)):
            return True
    return False


def _collection_hits(c, ax, box: Bbox, px_per_pt: float) -> bool:
    if isinstance(c, PathCollection):
        pts = _finite_rows(ax.transData.transform(np.asarray(c.get_offsets(), dtype=float)))
        sizes = c.get_sizes()
        r = 0.5 * np.sqrt(float(np.max(sizes))) * px_per_pt if len(sizes) else 0.0
        return bool(pts.size and np.any((pts[:, 0] > box.x0 - r) & (pts[:, 0] < box.x1 + r)
                                        & (pts[:, 1] > box.y0 - r) & (pts[:, 1] < box.y1 + r)))
    filled = isinstance(c, PolyCollection)
    for p in c.get_paths():
        v = ax.transData.transform(np.asarray(p.vertices, dtype=float))
        if filled:
            v = _finite_rows(v)
            if len(v) >= 3 and Path(np.vstack([v, v[:1]])).intersects_bbox(box, filled=True):
                return True
        elif _segments_hit(v, box):
            return True
    return False


def _patch_hits(p, box: Bbox) -> bool:
    path = p.get_path().transformed(p.get_transform())
    v = _finite_rows(path.vertices)
    if len(v) < 2:
        return False
    if p.get_fill():
        return Path(np.vstack([v, v[:1]])).intersects_bbox(box, filled=True)
    return _segments_hit(v, box)


def _shrink(box: Bbox, px: float) -> Bbox:
    return Bbox.from_extents(box.x0 + px, box.y0 + px, box.x1 - px, box.y1 - px)


def _legends(fig):
    out = [lg for lg in getattr(fig, "legends", []) if lg.get_visible()]
    for ax in fig.axes:
        lg = ax.get_legend()
        if lg is not None and lg.get_visible():
            out.append(lg)
    return out


def _legend_problems(fig, renderer, px_per_pt) -> list[str]:
    out = []
    for lg in _legends(fig):
        frame = _shrink(lg.get_window_extent(renderer), 1.0)
        for ax in fig.axes:
            if _is_colorbar(ax) or not ax.get_visible():
                continue
            box = Bbox.intersection(frame, ax.bbox)
            if box is None or box.width <= 0 or box.height <= 0:
                continue
            hit = "an image or mesh" if _covering(ax) else _data_hit(ax, box, px_per_pt)
            if hit is not None:
                out.append(f"legend over data: a legend covers {hit} in {_label(ax)}")
    return out


def _data_hit(ax, box: Bbox, px_per_pt: float) -> str | None:
    """The first data artist (line, collection, bar) of ``ax`` that meets the display box, named."""
    for ln in _data_lines(ax):
        if _line_hits(ln, ax, box, px_per_pt):
            return f"line {ln.get_label()!r}"
    for c in _data_collections(ax):
        if _collection_hits(c, ax, box, px_per_pt):
            return f"{type(c).__name__} {c.get_label()!r}"
    for p in _data_patches(ax):
        if _patch_hits(p, box):
            return "a histogram bar or patch"
    return None


def _annotation_problems(fig, renderer, px_per_pt) -> list[str]:
    """A text placed inside an axes (a note, a clipping marker) that covers its data lines or bars
    (a picture under the text, an image or mesh, is not counted)."""
    out = []
    for ax in fig.axes:
        if _is_colorbar(ax) or not ax.get_visible():
            continue
        for t in ax.texts:
            if not t.get_visible() or not t.get_text().strip():
                continue
            box = Bbox.intersection(_shrink(t.get_window_extent(renderer), 1.0), ax.bbox)
            if box is None or box.width <= 0 or box.height <= 0:
                continue
            hit = _data_hit(ax, box, px_per_pt)
            if hit is not None:
                out.append(f"text over data: {t.get_text()[:40]!r} covers {hit} in {_label(ax)}")
    return out


def _points_of(ax):
    """Finite data points (data coordinates) of the clip-checked artists of ``ax``, as (name, (k, 2))."""
    for ln in _data_lines(ax):
        yield f"line {ln.get_label()!r}", np.asarray(ln.get_xydata(), dtype=float)
    for c in _data_collections(ax):
        if isinstance(c, PathCollection):
            yield f"scatter {c.get_label()!r}", np.asarray(c.get_offsets(), dtype=float)
        else:
            paths = c.get_paths()
            if paths:
                yield (f"{type(c).__name__} {c.get_label()!r}",
                       np.vstack([np.asarray(p.vertices, dtype=float) for p in paths]))
    for p in _data_patches(ax):
        if isinstance(p, Rectangle):
            if p.get_height() == 0 or p.get_width() == 0:
                continue
            x0, y0 = p.get_xy()
            yield "a histogram bar", np.array([[x0, y0], [x0 + p.get_width(), y0 + p.get_height()]], dtype=float)
        else:
            yield "a patch", np.asarray(p.get_xy(), dtype=float)


def _has_clip_marker(ax) -> bool:
    return any(a.get_gid() == CLIP_GID and a.get_visible() for a in ax.get_children())


def _clip_problems(fig) -> list[str]:
    out = []
    for ax in fig.axes:
        if _is_colorbar(ax) or not ax.get_visible() or _has_clip_marker(ax):
            continue
        xlo, xhi = sorted(ax.get_xlim())
        ylo, yhi = sorted(ax.get_ylim())
        tx, ty = (xhi - xlo) * 1e-6, (yhi - ylo) * 1e-6
        for name, xy in _points_of(ax):
            xy = xy.reshape(-1, 2)
            fin = np.all(np.isfinite(xy), axis=1)
            xy = xy[fin]
            if not xy.size:
                continue
            bad = (xy[:, 0] < xlo - tx) | (xy[:, 0] > xhi + tx) | (xy[:, 1] < ylo - ty) | (xy[:, 1] > yhi + ty)
            if ax.get_xscale() == "log":
                bad |= xy[:, 0] <= 0
            if ax.get_yscale() == "log":
                bad |= xy[:, 1] <= 0
            if np.any(bad):
                out.append(f"clipped data: {int(bad.sum())} point(s) of {name} in {_label(ax)} lie outside the axis "
                           f"limits (or are non-positive on a log axis) and no marker says so")
                break
    return out


def _ticks_shown(axis) -> bool:
    return any(t.get_visible() and t.get_text() for t in axis.get_ticklabels())


def _sibling_labelled(ax, which: str) -> bool:
    group = ax.get_shared_x_axes() if which == "x" else ax.get_shared_y_axes()
    for sib in group.get_siblings(ax):
        if sib is not ax and (sib.get_xlabel() if which == "x" else sib.get_ylabel()):
            return True
    return False


def _label_problems(fig) -> list[str]:
    out = []
    sup = {"x": getattr(fig, "_supxlabel", None), "y": getattr(fig, "_supylabel", None)}
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        if _is_colorbar(ax):
            if not (ax.get_ylabel() or ax.get_xlabel()):
                out.append(f"unlabelled axis: a colour bar has no label ({_label(ax)})")
            continue
        for which, axis, label in (("x", ax.xaxis, ax.get_xlabel()), ("y", ax.yaxis, ax.get_ylabel())):
            if label or not axis.get_visible():
                continue
            s = sup[which]
            if s is not None and s.get_text():
                continue
            shown = _ticks_shown(axis)
            if not shown and (_sibling_labelled(ax, which) or not len(axis.get_ticklocs())):
                continue
            if not shown and not any(True for _ in _points_of(ax)) and not _covering(ax):
                continue
            out.append(f"unlabelled axis: the {which} axis of {_label(ax)} has no label")
    return out


def histogram_heights(artist) -> np.ndarray | None:
    """Bin heights of a histogram artist: a step outline (``Polygon``) or a bar container; else None.

    >>> import numpy as np
    >>> from degeneracy.figures.style import new_figure
    >>> fig, ax = new_figure()
    >>> _, _, (poly,) = ax.hist([0.1, 0.2, 0.2, 0.9], bins=4, range=(0, 1), histtype="step")
    >>> histogram_heights(poly).tolist()
    [3.0, 0.0, 0.0, 1.0]
    """
    from matplotlib.container import BarContainer

    if isinstance(artist, BarContainer):
        return np.array([r.get_height() for r in artist.patches], dtype=float)
    if isinstance(artist, Polygon):
        v = np.asarray(artist.get_xy(), dtype=float)
        if len(v) >= 4 and np.isclose(v[0, 1], 0.0):
            # step outline: (x0, 0), (x0, h0), (x1, h0), (x1, h1), ..., (xn, h_{n-1}), (xn, 0) [, closing point]
            if len(v) % 2 == 1 and np.allclose(v[-1], v[0]):
                v = v[:-1]
            h = v[1:-1:2, 1]
            if len(h) >= 3 and np.allclose(v[1:-1:2, 0], v[:-2:2, 0]):
                return h
    return None


def is_spike(h) -> bool:
    """Is the first or last non-empty bin of heights ``h`` an isolated spike (a floor), or all mass in one bin?

    >>> is_spike([9, 0, 0, 0, 1, 2, 3, 2, 1]), is_spike([1, 2, 5, 9, 5, 2, 1])
    (True, False)
    """
    h = np.asarray(h, dtype=float)
    nz = np.flatnonzero(h > 0)
    if nz.size == 0:
        return False
    if nz.size == 1:
        return h.size >= 10
    top = h.max()
    for i, step in ((nz[0], 1), (nz[-1], -1)):
        nb = h[i + step:i + 4 * step:step] if step > 0 else h[max(i - 3, 0):i]
        if nb.size and h[i] >= 0.2 * top and h[i] >= 3.0 * nb.max():
            return True
    return False


def _histogram_problems(fig) -> list[str]:
    out = []
    for ax in fig.axes:
        arts = list(ax.containers) + [p for p in _data_patches(ax) if isinstance(p, Polygon)]
        for a in arts:
            h = histogram_heights(a)
            if h is not None and is_spike(h):
                label = a.get_label() if hasattr(a, "get_label") else ""
                out.append(f"floored histogram: {label!r} in {_label(ax)} has an isolated spike in its edge bin "
                           f"(a floor or a clip piling values up)")
    return out


def _texts(fig, renderer):
    """(name, bbox) of every visible, non-empty text and legend of ``fig`` in display pixels."""
    items = []
    seen = set()

    def add(t, name, owner=None):
        if t is not None and id(t) not in seen and t.get_visible() and t.get_text().strip():
            seen.add(id(t))
            bb = t.get_window_extent(renderer)
            if bb.width > 0 and bb.height > 0:
                items.append((name, bb, t, owner))

    for t in fig.texts:
        add(t, "figure text")
    for key in ("_suptitle", "_supxlabel", "_supylabel"):
        add(getattr(fig, key, None), key.strip("_"))
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        lab = _label(ax)
        for loc in ("center", "left", "right"):
            t = {"center": ax.title, "left": getattr(ax, "_left_title", None),
                 "right": getattr(ax, "_right_title", None)}[loc]
            add(t, f"title of {lab}", ax)
        add(ax.xaxis.label, f"x label of {lab}", ax)
        add(ax.yaxis.label, f"y label of {lab}", ax)
        add(ax.xaxis.get_offset_text(), f"x offset text of {lab}", ax)
        add(ax.yaxis.get_offset_text(), f"y offset text of {lab}", ax)
        for axis, w in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = tick.get_loc()
                if tick.get_visible() and loc is not None and lo - 1e-9 * (hi - lo) <= loc <= hi + 1e-9 * (hi - lo):
                    for t in (tick.label1, tick.label2):
                        if t.get_visible():
                            add(t, f"{w} tick label of {lab}", ax)
        for t in ax.texts:
            add(t, f"text of {lab}", ax)
    return items


def _text_problems(fig, renderer, px_per_pt) -> list[str]:
    out = []
    items = _texts(fig, renderer)
    boxes = [(name, bb) for name, bb, _, _ in items]
    for lg in _legends(fig):
        boxes.append(("a legend", lg.get_window_extent(renderer)))
    if len(boxes) > 1:
        b = np.array([[bb.x0, bb.y0, bb.x1, bb.y1] for _, bb in boxes])
        w = np.clip(np.minimum(b[:, None, 2], b[None, :, 2]) - np.maximum(b[:, None, 0], b[None, :, 0]), 0, None)
        h = np.clip(np.minimum(b[:, None, 3], b[None, :, 3]) - np.maximum(b[:, None, 1], b[None, :, 1]), 0, None)
        area = w * h
        fig_box = fig.bbox
        for i, j in zip(*np.nonzero(np.triu(area > _TEXT_OVERLAP_PX2, 1))):
            out.append(f"overlapping text: {boxes[i][0]} and {boxes[j][0]} overlap")
        for name, bb in boxes:
            if bb.x0 < fig_box.x0 - 1 or bb.x1 > fig_box.x1 + 1 or bb.y0 < fig_box.y0 - 1 or bb.y1 > fig_box.y1 + 1:
                out.append(f"overlapping text: {name} runs off the figure")
    width_in = fig.get_size_inches()[0]
    dpi = float(STYLE["savefig.dpi"])
    scale = min(1.0, README_WIDTH_PX / (width_in * dpi)) * dpi / 72.0  # pixels per point in the README
    small = {}
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.axison and not _is_colorbar(ax)]
    for name, bb, t, owner in items:
        if owner is not None and t in owner.texts:
            continue  # an annotation inside its own panel
        for ax in panels:
            if ax is owner:
                continue
            inter = Bbox.intersection(bb, ax.bbox)
            if inter is not None and inter.width * inter.height > _TEXT_OVERLAP_PX2:
                out.append(f"overlapping text: {name} runs into the plotting area of {_label(ax)}")
                break
    for name, _, t, _ in items:
        px = t.get_fontsize() * scale
        if px < MIN_FONT_PX:
            small.setdefault(round(t.get_fontsize(), 1), name)
    for lg in _legends(fig):
        for t in lg.get_texts():
            if t.get_visible() and t.get_fontsize() * scale < MIN_FONT_PX:
                small.setdefault(round(t.get_fontsize(), 1), "legend text")
    for size, name in sorted(small.items()):
        out.append(f"unreadable text: {name} at {size} pt is {size * scale:.1f} px high at the README's "
                   f"{README_WIDTH_PX} px width (minimum {MIN_FONT_PX} px)")
    return out


def problems(fig) -> list[str]:
    """Every defect the guards find in ``fig`` (laid out with :func:`~degeneracy.figures.style.finalize`
    and drawn once); an empty list when it passes. See the module docstring for the rules."""
    finalize(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    px_per_pt = fig.dpi / 72.0
    return (_legend_problems(fig, renderer, px_per_pt) + _annotation_problems(fig, renderer, px_per_pt)
            + _clip_problems(fig) + _label_problems(fig)
            + _histogram_problems(fig) + _text_problems(fig, renderer, px_per_pt))
