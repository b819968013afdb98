"""The documents the code cites exist and hold the sections it cites (issue 10, item 8).

Sources in docstrings, claim sources and the README cite papers, or the project's own documents:
``docs/formulas.md §N`` (a numbered section), ``docs/formulas.md, "Conventions"`` (a named section)
and ``docs/performance.md``. These tests scan every tracked text file of the checkout, and every
registered claim's, certificate's and figure's texts, for such references and fail on one that
points nowhere. They also fail when any file cites the lead's private notes (the shared reference
sheet or design note), which users do not have.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
TEXT_SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".rst", ".json"}
#: files users do not have (assembled so that this file does not cite them itself)
PRIVATE = re.compile(r"\b(?:" + "REFERENCE" + "|" + "DESIGN" + r")\.md\b")
#: ``docs/NAME`` with an optional section: ``§N`` or a quoted name, possibly after a comma or a line
#: break (docstrings and comments wrap)
DOC_REF = re.compile(r"docs/(?P<file>[\w.-]+\.md)(?:[\s,#]*(?:§\s*(?P<num>\d+)|\"(?P<name>[^\"\n]+)\"))?")
HEADING = re.compile(r"^#{1,6}\s+(?:§\s*(?P<num>\d+)\s+)?(?P<title>.+?)\s*$", re.M)


def _text_files() -> list[Path]:
    if (ROOT / ".git").exists() and shutil.which("git"):
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], check=True, capture_output=True).stdout
        paths = [ROOT / p for p in out.decode().split("\0") if p]
        # files added in this working tree but not yet committed count too
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--others", "--exclude-standard"],
                             check=True, capture_output=True).stdout
        paths += [ROOT / p for p in out.decode().split("\0") if p]
    else:
        paths = [p for p in ROOT.rglob("*") if not any(part.startswith(".") or part.endswith(".egg-info")
                                                       or part in ("__pycache__", "build", "dist")
                                                       for part in p.relative_to(ROOT).parts)]
    ci = ROOT / ".ci" / "run"
    return sorted({p for p in paths if p.is_file() and (p.suffix in TEXT_SUFFIXES or p == ci)})


def _sections(path: Path) -> tuple[set[int], set[str]]:
    """Numbered sections (``## §3 ...``) and heading titles of a Markdown document."""
    nums, titles = set(), set()
    for m in HEADING.finditer(path.read_text(encoding="utf-8")):
        if m["num"]:
            nums.add(int(m["num"]))
        titles.add(m["title"].strip().lower())
    return nums, titles


def _registered_texts() -> list[tuple[str, str]]:
    """``(label, text)`` of every claim's, certificate's and figure's source, title and formula."""
    from degeneracy.figures.registry import FIGURES
    from degeneracy.figures.registry import load_all as load_figures
    from degeneracy.proofs.registry import CERTIFICATES, CLAIMS, load_all

    load_all()
    load_figures()
    out = []
    for c in CLAIMS.values():
        for field in ("title", "source", "formula"):
            out.append((f"claim {c.id} {field}", str(getattr(c, field, "") or "")))
    for c in CERTIFICATES.values():
        for field in ("statement", "source"):
            out.append((f"certificate {c.id} {field}", str(getattr(c, field, "") or "")))
    for f in FIGURES.values():
        out.append((f"figure {f.id} title", f.title))
    return out


def _references() -> list[tuple[str, re.Match]]:
    refs = []
    for path in _text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        rel = path.relative_to(ROOT)
        for m in DOC_REF.finditer(text):
            refs.append((f"{rel}:{text.count(chr(10), 0, m.start()) + 1}", m))
    for label, text in _registered_texts():
        refs += [(label, m) for m in DOC_REF.finditer(text)]
    return refs


def test_formulas_has_the_sections_the_code_numbers():
    nums, titles = _sections(DOCS / "formulas.md")
    assert nums == {1, 2, 3, 4, 5, 6}, nums
    assert "conventions" in titles


def test_the_code_cites_the_documents():
    """Guard against the scan silently finding nothing (e.g. a changed citation style)."""
    refs = _references()
    files = {m["file"] for _, m in refs}
    assert {"formulas.md", "performance.md"} <= files, files
    assert any(m["num"] for _, m in refs) and any(m["name"] for _, m in refs)


def test_every_reference_points_to_an_existing_section():
    bad = []
    cache = {}
    for where, m in _references():
        path = DOCS / m["file"]
        if not path.is_file():
            bad.append(f"{where}: {m[0]!r}: no file docs/{m['file']}")
            continue
        nums, titles = cache.setdefault(path, _sections(path))
        if m["num"] and int(m["num"]) not in nums:
            bad.append(f"{where}: {m[0]!r}: docs/{m['file']} has no section §{m['num']}")
        if m["name"] and m["name"].strip().lower() not in titles:
            bad.append(f"{where}: {m[0]!r}: docs/{m['file']} has no section {m['name']!r}")
    assert not bad, "\n".join(bad)


def test_no_file_cites_private_notes():
    bad = []
    for path in _text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for m in PRIVATE.finditer(text):
            bad.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}: {m[0]}")
    for label, text in _registered_texts():
        bad += [f"{label}: {m[0]}" for m in PRIVATE.finditer(text)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("text, expected", [
    ('see docs/formulas.md §4.', ("formulas.md", "4", None)),
    ('(docs/formulas.md, "Conventions"): an', ("formulas.md", None, "Conventions")),
    ("docs/formulas.md\n    §1)", ("formulas.md", "1", None)),
    ("# quotes (docs/performance.md)", ("performance.md", None, None)),
])
def test_reference_pattern(text, expected):
    m = DOC_REF.search(text)
    assert m and (m["file"], m["num"], m["name"]) == expected
