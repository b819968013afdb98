"""The toolkit installs like a library (issue 10, item 7).

One module-scoped fixture builds a wheel from a copy of the checkout's files that git does not
ignore (what a clean clone holds, plus new files not yet committed), installs it with ``--no-deps``
into a fresh virtual environment, and only then gives that environment the test interpreter's
dependencies (numpy, scipy, ...) through one ``.pth`` line: nothing is downloaded. A ``.pth`` line
only appends a folder to ``sys.path``; the ``.pth`` files *in* that folder are not processed (only
``site.addsitedir`` does that), so the outer editable install's ``__editable__`` finder is never
activated inside the new environment. ``test_no_editable_leak`` verifies it instead of trusting it.

Every command then runs from a temporary folder that holds decoy ``theory/`` and ``figures/``
packages of its own (importable, but their ``products``, ``registry`` and ``style`` modules raise),
with ``HOME`` and ``XDG_CACHE_HOME`` pointed into the temporary tree. The tests check that the wheel
holds one top-level import name, that the CLI verifies, draws and resumes there, and that nothing is
written into the environment's site-packages.

The module takes about 15 s on the 2-core machine at load average 2-3 (about 50 s at load 11):
wheel build, install, a handful of CLI runs. It is in the default suite, so CI runs it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: what a wheel build needs from the checkout (tests/ and the images are not part of the package)
BUILD_INPUTS = ("pyproject.toml", "README.md", "degeneracy", "theory", "numerics", "proofs", "figures")
#: the fast figure drawn from the installed package (about 1.5 s in quick mode)
FIGURE = "products-naive-breakdown"
CLAIMS = "products.orthogonal*"


def _tracked_files() -> list[str]:
    """The checkout's files under BUILD_INPUTS that git does not ignore (else a filtered walk)."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        files = []
        for extra in ((), ("--others", "--exclude-standard")):   # tracked, then new files not ignored
            out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", *extra, "--", *BUILD_INPUTS],
                                 check=True, capture_output=True).stdout.decode()
            files += [p for p in out.split("\0") if p and (ROOT / p).is_file()]
        return files
    files = []
    for top in BUILD_INPUTS:
        path = ROOT / top
        if path.is_file():
            files.append(top)
            continue
        for p in sorted(path.rglob("*")):
            rel = p.relative_to(ROOT)
            if p.is_file() and not any(part.startswith(".") or part == "__pycache__" or part.endswith(".egg-info")
                                       for part in rel.parts):
                files.append(str(rel))
    return files


def _outer_site_dirs() -> list[str]:
    """The test interpreter's site-packages folders (where numpy, scipy, ... are installed)."""
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    dirs += [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    out = []
    for d in dirs:
        d = os.path.realpath(d)
        if os.path.isdir(d) and d not in out and not d.startswith(str(ROOT)):
            out.append(d)
    return out


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


class Installed:
    """The fresh environment: its interpreter, console script, site-packages and a clean ``env``."""

    def __init__(self, base: Path):
        self.base = base
        self.venv = base / "venv"
        self.python = str(self.venv / "bin" / "python")
        self.script = str(self.venv / "bin" / "degeneracy")
        self.work = base / "research"           # the user's folder, with decoy packages
        self.home = base / "home"
        self.cache = base / "xdg-cache"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("PYTHON", "DEGENERACY_", "VIRTUAL_ENV", "XDG_", "PIP_"))}
        self.env.update(HOME=str(self.home), XDG_CACHE_HOME=str(self.cache), PYTHONNOUSERSITE="1",
                        OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
                        PATH=f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")

    def run(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(list(args), cwd=str(cwd or self.work), env=self.env, capture_output=True,
                              text=True, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\n"
                                 f"stderr:\n{proc.stderr}")
        return proc

    def py(self, code: str, **kw) -> subprocess.CompletedProcess:
        return self.run(self.python, "-c", code, **kw)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the checkout's source files (no build isolation: offline)."""
    if importlib.util.find_spec("setuptools") is None:
        pytest.fail("building the wheel needs setuptools in the test environment (pip install -e '.[test]')")
    base = tmp_path_factory.mktemp("build")
    src = base / "src"
    for rel in _tracked_files():
        dest = src / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest)
    dist = base / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--quiet", "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (
        "pip wheel failed (setuptools < 70.1 needs the `wheel` package, part of the test extra):\n"
        + proc.stdout + proc.stderr)
    (whl,) = dist.glob("degeneracy-*.whl")
    return whl


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Installed:
    inst = Installed(tmp_path_factory.mktemp("install"))
    inst.home.mkdir()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(inst.venv)], check=True, timeout=120)
    # install first, with the outer pip driving the new interpreter, while the new environment still sees
    # nothing of the outer one (so pip cannot mistake the outer editable install for this one)
    subprocess.run([sys.executable, "-m", "pip", "--python", inst.python, "install", "--no-deps", "--no-index",
                    "--no-cache-dir", "--quiet", str(wheel)], check=True, timeout=300, env=inst.env)
    purelib = inst.py("import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=inst.base).stdout.strip()
    inst.site = Path(purelib)
    # then the dependencies: one .pth line per outer site folder, appended after the environment's own
    (inst.site / "outer_dependencies.pth").write_text("".join(d + "\n" for d in _outer_site_dirs()))
    inst.work.mkdir()
    for decoy in ("theory", "figures"):
        (inst.work / decoy).mkdir()
        (inst.work / decoy / "__init__.py").write_text("DECOY = True\n")
        for module in ("products", "registry", "style"):
            (inst.work / decoy / f"{module}.py").write_text(
                f"raise ImportError('the decoy {decoy}/{module}.py of the working folder was imported')\n")
    inst.site_before = _listing(inst.site)
    inst.work_before = _listing(inst.work)
    return inst


@pytest.mark.skipif(not ((ROOT / ".git").exists() and shutil.which("git")), reason="not a git checkout")
def test_build_artifacts_are_not_tracked():
    out = subprocess.run(["git", "-C", str(ROOT), "ls-files"], check=True, capture_output=True, text=True).stdout
    bad = [p for p in out.splitlines() if any(part.endswith(".egg-info") or part in ("build", "dist", "__pycache__")
                                              for part in p.split("/"))]
    assert not bad, bad
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "--no-index",
                              "degeneracy.egg-info/PKG-INFO"])
    assert ignored.returncode == 0, "*.egg-info/ should be in .gitignore"


def test_wheel_has_one_import_name(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        (info,) = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
        top_level = zf.read(f"{info}/top_level.txt").decode().split()
        record = zf.read(f"{info}/RECORD").decode().splitlines()
        metadata = zf.read(f"{info}/METADATA").decode()
    assert top_level == ["degeneracy"]
    tops = {line.split(",")[0].split("/")[0] for line in record if line}
    assert tops == {"degeneracy", info}, tops
    for layer in ("theory", "numerics", "proofs", "figures"):
        assert f"degeneracy/{layer}/__init__.py" in names
    assert not any(n.endswith((".png", ".svg")) for n in names)   # the README's images stay in the checkout
    assert "Requires-Dist: hypothesis" in metadata               # numerics.strategies needs it


FINDERS = ("import sys\n"
           "kinds = [f if isinstance(f, type) else type(f) for f in sys.meta_path]\n"
           "finders = [k.__module__ + '.' + k.__qualname__ for k in kinds]\n")


def test_no_editable_leak(installed):
    outer = _outer_site_dirs()
    code = FINDERS + (
        "import json, importlib.metadata as md, degeneracy, numpy\n"
        "print(json.dumps({'file': degeneracy.__file__, 'numpy': numpy.__file__, 'finders': finders,\n"
        "  'version': degeneracy.__version__, 'dist': str(md.distribution('degeneracy').locate_file(''))}))\n")
    info = json.loads(installed.py(code).stdout)
    site_dir = installed.site.resolve()
    assert Path(info["file"]).resolve().is_relative_to(site_dir), info["file"]
    assert Path(info["dist"]).resolve() == site_dir, info["dist"]
    assert any(Path(info["numpy"]).resolve().is_relative_to(d) for d in outer), info["numpy"]
    assert not any("editable" in f.lower() for f in info["finders"]), info["finders"]
    assert info["version"]
    # not vacuous: where the test interpreter has an editable install, processing its folder's .pth
    # files (what a .pth line does NOT do) activates its finder, which the check above would see
    editable = [d for d in outer if any(Path(d).glob("__editable__*degeneracy*.pth"))]
    if editable:
        proc = installed.py(f"import site; site.addsitedir({editable[0]!r})\n" + FINDERS + "print(finders)")
        assert "editable" in proc.stdout.lower(), proc.stdout


def test_import_ignores_the_users_folders(installed):
    code = (
        "import sys, degeneracy\n"
        "import degeneracy.theory.products, degeneracy.numerics.products, degeneracy.proofs.registry\n"
        "import degeneracy.figures.registry, degeneracy.cli, degeneracy.execution, degeneracy.cache\n"
        "from degeneracy.proofs.registry import load_all; load_all()\n"
        "from degeneracy.figures.registry import load_all as load_figures; load_figures()\n"
        "law = degeneracy.fuss_catalan(3); assert abs(law.mean() - 1) < 1e-12\n"
        "bare = sorted(m for m in sys.modules if m.split('.')[0] in ('theory', 'numerics', 'proofs', 'figures'))\n"
        "assert not bare, bare\n"
        "import theory, figures\n"
        "assert theory.DECOY and figures.DECOY   # the user's own folders stay theirs\n")
    installed.run(installed.python, "-B", "-c", code)   # -B: the decoy's import leaves no __pycache__


def test_strategies_import(installed):
    installed.py("import degeneracy.numerics.strategies as s, hypothesis; print(s.__name__)")


def test_verify_from_a_research_folder(installed):
    report = installed.base / "report.json"
    proc = installed.run(installed.python, "-m", "degeneracy", "verify", "--quick", "--only", CLAIMS,
                         "--workers", "1", "--no-progress", "--json", str(report))
    data = json.loads(report.read_text())
    assert data["claims"] and all(c["verdict"] == "pass" for c in data["claims"]), proc.stdout
    assert all(c["id"].startswith("products.orthogonal") for c in data["claims"])


def test_figures_write_only_under_out(installed):
    out = installed.base / "figure-out"
    installed.run(installed.script, "figures", "--out", str(out), "--only", FIGURE, "--quick",
                  "--workers", "1", "--no-progress")
    assert sorted(p.name for p in out.iterdir()) == [f"{FIGURE}.png", f"{FIGURE}.svg"]
    assert _listing(installed.work) == installed.work_before


def test_resume_caches_under_the_user_cache_dir(installed):
    args = (installed.script, "verify", "--quick", "--only", CLAIMS, "--workers", "1", "--no-progress", "--resume")
    installed.run(*args)
    entries = list((installed.cache / "degeneracy").rglob("*.entry"))
    assert entries, sorted(_listing(installed.cache))
    again = installed.run(*args)
    assert "from the cache" in again.stdout, again.stdout
    assert _listing(installed.work) == installed.work_before


def test_readme_generator_refuses_outside_a_checkout(installed):
    proc = installed.run(installed.python, "-m", "degeneracy.readme", check=False)
    assert proc.returncode == 2 and "checkout" in proc.stderr, proc.stderr


def test_nothing_written_into_site_packages(installed):
    # runs last in this module (pytest keeps file order): every command above has run by now
    installed.run(installed.script, "list")
    added = _listing(installed.site) - installed.site_before
    removed = installed.site_before - _listing(installed.site)
    assert not added and not removed, (sorted(added), sorted(removed))
