"""A result cache for long runs: finished claims (and finished units of split claims) are kept on
disk so an interrupted run resumes.

Each finished claim is stored in one file ``<dir>/<key[:2]>/<key>.entry``. The **key** is the
SHA-256 of everything the claim's numbers depend on:

* the claim id, mode, run seed, family-wise alpha and the negative-control flag;
* the claim's settings for the mode;
* the toolkit version and the versions of Python, numpy, scipy, sympy and mpmath;
* a hash of the source the claim runs: every ``.py`` file of ``theory/``, ``numerics/`` and
  ``proofs/`` except the *other* claim areas' modules (editing ``proofs/dynamics.py`` does not
  invalidate the cached products claims; editing ``numerics/`` or the claim's own module does).

An entry is a one-line JSON header (format, key, payload length and SHA-256, a readable
description) followed by the pickled :class:`proofs.runner.ClaimResult`. Writes are atomic
(temporary file in the same folder, ``fsync``, ``os.replace``), so concurrent writers of the same
key never produce a mixed file: a reader sees one complete entry or none. On reading, a wrong
header, length, checksum or key, or a payload that does not unpickle into the expected claim, is
treated as a miss (the claim is recomputed and its entry overwritten): a corrupted or partial entry is
never trusted.

The payload is a pickle: the cache directory must be as trusted as the code itself (it is the
user's own; do not point ``--cache-dir`` at a folder others can write).

Examples
--------
>>> import tempfile
>>> from degeneracy.proofs.runner import run_claim
>>> cache = ResultCache(tempfile.mkdtemp())
>>> key = cache.key("products.naive-breakdown", "quick", 0, 1e-3)
>>> cache.get(key) is None
True
>>> r = run_claim("products.naive-breakdown", "quick", 0)
>>> cache.put(key, r)
>>> cache.get(key).as_dict() == r.as_dict()
True
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pickle

from degeneracy.errors import ArgumentValueError
from degeneracy.proofs.registry import AREAS, Claim, get_claim
from degeneracy.proofs.report import write_atomic

__all__ = ["FORMAT", "ResultCache", "default_cache_dir", "source_hash"]

#: bump when the entry layout changes (old entries then simply miss)
FORMAT = 1
_MAGIC = "degeneracy-cache"


def default_cache_dir() -> str:
    """``$DEGENERACY_CACHE`` if set, else the user cache directory of ``degeneracy``
    (:func:`platformdirs.user_cache_dir`: ``$XDG_CACHE_HOME/degeneracy`` or ``~/.cache/degeneracy``
    on Linux, ``~/Library/Caches/degeneracy`` on macOS)."""
    env = os.environ.get("DEGENERACY_CACHE")
    if env:
        return os.path.abspath(os.path.expanduser(env))
    import platformdirs

    return platformdirs.user_cache_dir("degeneracy", appauthor=False)


@functools.lru_cache(maxsize=None)
def _file_hashes() -> tuple[tuple[str, str], ...]:
    """``(relative path, sha256)`` of every ``.py`` file of the theory, numerics and proofs layers,
    found through the installed packages (an editable or a regular install alike)."""
    import importlib

    out = []
    for pkg in ("theory", "numerics", "proofs"):
        mod = importlib.import_module(f"degeneracy.{pkg}")
        for folder in mod.__path__:
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
                for name in sorted(filenames):
                    if name.endswith(".py"):
                        path = os.path.join(dirpath, name)
                        rel = os.path.relpath(path, folder).replace(os.sep, "/")
                        with open(path, "rb") as fh:
                            out.append((f"{pkg}/{rel}", hashlib.sha256(fh.read()).hexdigest()))
    return tuple(out)


def source_hash(module: str = "") -> str:
    """SHA-256 of the toolkit source a claim of ``module`` runs.

    Every ``.py`` file of ``theory/``, ``numerics/`` and ``proofs/``, except the claim-area modules
    ``proofs/<area>.py`` other than ``module`` itself. Computed once per process.

    >>> source_hash("degeneracy.proofs.products") == source_hash("degeneracy.proofs.products") != source_hash("degeneracy.proofs.fold")
    True
    """
    own = module.rsplit(".", 1)[-1] if module else ""
    skip = {f"proofs/{a}.py" for a in AREAS if a != own}
    h = hashlib.sha256()
    for rel, digest in _file_hashes():
        if rel not in skip:
            h.update(f"{rel}\0{digest}\n".encode())
    return h.hexdigest()


def _versions() -> dict:
    from degeneracy.proofs.report import versions

    return versions()


class ResultCache:
    """Claim results on disk, keyed by everything they depend on (see the module docstring).

    Parameters
    ----------
    directory : str, optional
        The cache folder (created on first write); default :func:`default_cache_dir`.
    """

    def __init__(self, directory: str | None = None):
        self.directory = os.path.abspath(os.path.expanduser(directory or default_cache_dir()))
        #: entries found damaged by :meth:`get` in this process (treated as misses)
        self.rejected = 0

    def __repr__(self) -> str:
        return f"ResultCache({self.directory!r})"

    # ------------------------------------------------------------------ keys
    def describe(self, claim: str | Claim, mode: str, seed: int, alpha: float, control: bool = False) -> dict:
        """The inputs of the key of ``claim`` (JSON-serializable)."""
        c = get_claim(claim) if isinstance(claim, str) else claim
        return {
            "format": FORMAT,
            "id": c.id,
            "mode": str(mode),
            "seed": int(seed),
            "alpha": float(alpha).hex(),
            "control": bool(control),
            "settings": repr(sorted(c.settings_for(mode).items())),
            "versions": _versions(),
            "source": source_hash(c.module),
        }

    def key(self, claim: str | Claim, mode: str, seed: int, alpha: float, control: bool = False) -> str:
        """The cache key (hex SHA-256) of ``claim`` run with these arguments."""
        text = json.dumps(self.describe(claim, mode, seed, alpha, control), sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def unit_key(self, claim_key: str, unit: str) -> str:
        """The cache key of work unit ``unit`` of the split claim whose key is ``claim_key``
        (a unit's numbers depend on everything the claim's do, and on its name)."""
        return hashlib.sha256(f"{claim_key}/unit/{unit}".encode("utf-8")).hexdigest()

    def path(self, key: str) -> str:
        """The file of ``key``."""
        if len(key) != 64 or any(ch not in "0123456789abcdef" for ch in key):
            raise ArgumentValueError(f"key must be a 64-character hex SHA-256, got {key!r}")
        return os.path.join(self.directory, key[:2], key + ".entry")

    # ------------------------------------------------------------------ read / write
    def put(self, key: str, result) -> None:
        """Store ``result`` (a :class:`proofs.runner.ClaimResult`, or the
        :class:`proofs.runner.UnitResult` of a unit of a split claim) under ``key``, atomically."""
        payload = pickle.dumps(result, protocol=4)
        header = {
            "magic": _MAGIC,
            "format": FORMAT,
            "key": key,
            "id": result.id,
            "verdict": getattr(result, "verdict", ""),  # "" for a unit of a split claim
            "length": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
        }
        write_atomic(self.path(key), json.dumps(header, sort_keys=True).encode("utf-8") + b"\n" + payload)

    def _read(self, key: str):
        path = self.path(key)
        try:
            with open(path, "rb") as fh:
                blob = fh.read()
        except FileNotFoundError:
            return None, False
        try:
            line, payload = blob.split(b"\n", 1)
            header = json.loads(line.decode("utf-8"))
            ok = (isinstance(header, dict) and header.get("magic") == _MAGIC and header.get("format") == FORMAT
                  and header.get("key") == key and header.get("length") == len(payload)
                  and header.get("sha256") == hashlib.sha256(payload).hexdigest())
            if not ok:
                return None, True
            result = pickle.loads(payload)
            if getattr(result, "id", None) != header.get("id") or not hasattr(result, "as_dict"):
                return None, True
            return result, False
        except Exception:  # any damage is a miss, never a crash
            return None, True

    def get(self, key: str):
        """The stored result of ``key``, or ``None`` when absent or damaged (a damaged entry is
        counted in :attr:`rejected`; the caller recomputes the claim and overwrites it)."""
        result, damaged = self._read(key)
        if damaged:
            # not removed here: a concurrent writer may just have replaced it with a good entry;
            # the recomputed result overwrites it (atomically) anyway
            self.rejected += 1
        return result

    # ------------------------------------------------------------------ timings
    def _timings_path(self, mode: str) -> str:
        return os.path.join(self.directory, f"timings-{mode}.json")

    def timings(self, mode: str) -> dict:
        """Seconds per claim id measured by earlier runs of ``mode`` (empty when unknown or unreadable).

        Only a scheduling hint (longest claims are submitted first); never part of a result.
        """
        try:
            with open(self._timings_path(mode), encoding="utf-8") as fh:
                d = json.load(fh)
            return {str(k): float(v) for k, v in d.items() if isinstance(v, (int, float)) and v >= 0}
        except Exception:
            return {}

    def record_timings(self, mode: str, seconds: dict) -> None:
        """Merge ``{claim id: seconds}`` into the timings of ``mode`` (atomic write)."""
        merged = self.timings(mode)
        merged.update({str(k): round(float(v), 3) for k, v in seconds.items()})
        write_atomic(self._timings_path(mode), json.dumps(merged, indent=1, sort_keys=True))

    def clear(self) -> int:
        """Remove every entry; returns how many were removed."""
        n = 0
        if not os.path.isdir(self.directory):
            return 0
        for dirpath, _dirs, files in os.walk(self.directory):
            for name in files:
                if name.endswith(".entry"):
                    try:
                        os.unlink(os.path.join(dirpath, name))
                        n += 1
                    except OSError:
                        pass
        return n
