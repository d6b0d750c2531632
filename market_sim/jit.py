"""numba's set-up for every kernel module: import ``njit`` from here, not from numba.

Importing this module (the first kernel module of a process does) does two things once,
before any kernel is called:

1. **Drops cached kernels whose dependencies changed.** numba's on-disk cache checks only
   the file that defines a kernel; a kernel that calls a jitted helper, or reads a
   constant, from another module would keep running stale machine code after that module
   is edited (a silently wrong result). :func:`drop_stale_caches` hashes each kernel
   module's source with the sources of every ``market_sim`` module it imports,
   transitively, keeps the hashes in ``market_sim/__pycache__/kernel-sources.json``, and
   deletes the cache files (``__pycache__/<module>.*.nbi``, ``*.nbc``) of each module whose
   hash changed. Only the default in-tree cache is handled (not ``NUMBA_CACHE_DIR``); a
   file-system error leaves the caches alone.
2. **Initialises numba's CPU target** with ``scipy.linalg`` deferred
   (:mod:`market_sim.deferred`): numba's check that BLAS is available then loads only
   ``scipy.linalg.cython_blas``, not scipy.linalg's package (0.1-0.2 s of every process
   that runs a kernel; the kernels use no BLAS). Done here, before the first call, because
   the first kernel call of a run may come from any module (the startups' entry kernel,
   when a model is built).

:data:`KERNEL_MODULES` lists the modules that define kernels; a test checks that it names
every module of the package that uses numba's jit, and :mod:`market_sim.runs.jit_cache`
reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from numba import njit

from market_sim.deferred import deferred

__all__ = ["KERNEL_MODULES", "drop_stale_caches", "njit"]

PACKAGE = Path(__file__).resolve().parent

KERNEL_MODULES = (
    "market_sim.agents.chipmaker_kernel",
    "market_sim.agents.fleet_kernel",
    "market_sim.agents.startup_kernels",
    "market_sim.agents.startup_rows",
    "market_sim.agents.vendor_accounts",
    "market_sim.market.draws",
    "market_sim.market.kernels_allocate",
    "market_sim.market.kernels_auction",
    "market_sim.market.kernels_batch",
    "market_sim.market.kernels_buckets",
    "market_sim.market.kernels_cross",
    "market_sim.market.kernels_queue",
    "market_sim.market.kernels_select",
    "market_sim.market.kernels_sum",
    "market_sim.model.book",
    "market_sim.model.choice_kernel",
    "market_sim.model.close_kernels",
    "market_sim.model.pricing_kernel",
    "market_sim.model.production_kernel",
    "market_sim.model.record_kernels",
    "market_sim.model.settle",
    "market_sim.outcomes.kernels",
)
"""Every module of market_sim that defines numba kernels (``@njit``)."""

STAMP = "kernel-sources.json"
"""The file in ``market_sim/__pycache__`` that keeps each kernel module's source hash."""

_IMPORT = re.compile(
    r"^[ \t]*(?:from[ \t]+(market_sim(?:\.\w+)*)[ \t]+import[ \t]+(?:\(([^)]*)\)|([\w \t,]*))"
    r"|import[ \t]+(market_sim(?:\.\w+)*))",
    re.MULTILINE,
)
"""``from market_sim.x import a, b`` (groups 1 and 2 or 3) or ``import market_sim.x`` (4)."""


def _source(module: str, package: Path) -> Path | None:
    """The source file of a market_sim module in ``package`` (the directory of
    ``market_sim``; a package's ``__init__.py``), or None."""
    rel = Path(*module.split(".")[1:])
    for path in (package / rel.with_suffix(".py"), package / rel / "__init__.py"):
        if path.is_file():
            return path
    return None


def _imported(text: str, package: Path) -> list[str]:
    """The market_sim modules a source imports: ``from X import a`` gives X, and X.a
    when that is a module."""
    found: list[str] = []
    for base, grouped, names, plain in _IMPORT.findall(text):
        names = grouped or names
        if plain:
            found.append(plain)
            continue
        found.append(base)
        for name in re.findall(r"\w+", names):
            if _source(f"{base}.{name}", package) is not None:
                found.append(f"{base}.{name}")
    return found


def _closure_digest(module: str, texts: dict[str, bytes], package: Path) -> str:
    """sha256 of ``module``'s source and of every market_sim module it imports,
    transitively (``texts`` caches the sources read)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen or name == __name__:  # this module holds no kernel code
            continue
        seen.add(name)
        if name not in texts:
            path = _source(name, package)
            texts[name] = path.read_bytes() if path is not None else b""
        todo.extend(_imported(texts[name].decode("utf-8", "replace"), package))
    digest = hashlib.sha256()
    for name in sorted(seen):
        digest.update(name.encode() + b"\0" + texts[name] + b"\0")
    return digest.hexdigest()


def source_digests(
    package: Path = PACKAGE, modules: tuple[str, ...] = KERNEL_MODULES
) -> dict[str, str]:
    """Each kernel module's hash: its source with its market_sim imports, transitively."""
    texts: dict[str, bytes] = {}
    return {module: _closure_digest(module, texts, package) for module in modules}


def drop_stale_caches(
    package: Path = PACKAGE, modules: tuple[str, ...] = KERNEL_MODULES
) -> list[str]:
    """Delete the in-tree numba cache files of every kernel module whose source or
    dependencies changed since the last call; return those modules (none when
    ``NUMBA_CACHE_DIR`` is set or the cache cannot be read or written)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return []
    stamp = package / "__pycache__" / STAMP
    try:
        digests = source_digests(package, modules)
        try:
            known = json.loads(stamp.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
        if known == digests:
            return []
        stale = [m for m in modules if known.get(m) != digests[m]]
        for module in stale:
            path = _source(module, package)
            if path is None:
                continue
            for pattern in (f"{path.stem}.*.nbi", f"{path.stem}.*.nbc"):
                for old in (path.parent / "__pycache__").glob(pattern):
                    old.unlink()
        stamp.parent.mkdir(exist_ok=True)
        part = stamp.with_name(f"{STAMP}.{os.getpid()}.part")
        part.write_text(json.dumps(digests, indent=0, sort_keys=True), encoding="utf-8")
        os.replace(part, stamp)  # another process never reads half a file
        return stale
    except OSError:
        return []


def _init_numba_target() -> None:
    """Initialise numba's CPU target now, as the first kernel call would, with
    ``scipy.linalg`` deferred (module docstring, item 2). If numba's internals moved,
    numba initialises itself on the first call as usual."""
    try:
        from numba.core.registry import cpu_target

        with deferred("scipy.linalg"):
            cpu_target.target_context.refresh()
    except (ImportError, AttributeError):  # pragma: no cover - another numba layout
        pass


drop_stale_caches()
_init_numba_target()
