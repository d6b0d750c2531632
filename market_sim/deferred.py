"""Packages entered in ``sys.modules`` without running their ``__init__`` (start-up time).

A :class:`DeferredModule` is a package registered with its real spec and path but not
executed: its submodules can be imported, and the first attribute looked up on it runs its
``__init__`` as usual (from then on it is an ordinary module). market_sim uses it for three
third-party start-up costs of features it does not use:

- ``mesa.experimental``, from ``import market_sim`` on (:func:`defer`): Mesa 3.3's
  ``__init__`` imports it, and it imports ``scipy.spatial`` (0.2-0.4 s);
- ``scipy.linalg`` while numba initialises its CPU target (:func:`deferred`, in
  :mod:`market_sim.jit`, before any kernel runs): numba checks that BLAS is available by importing
  ``scipy.linalg.cython_blas``, which ran scipy.linalg's ``__init__`` (~0.1 s, numpy.f2py
  and numpy.testing with it) in every process that loads a kernel, though the kernels use
  no BLAS. The check needs only the ``cython_blas`` extension module, which loads without
  its package's ``__init__``; afterwards ``scipy.linalg`` and its submodules are taken out
  of ``sys.modules`` again (unless something used them), so a later ``import scipy.linalg``
  runs as usual.

- ``narwhals`` (with ``narwhals.stable`` and ``narwhals.stable.v1``, :func:`defer_chain`)
  when a report module is imported (:mod:`market_sim.report`): plotly's validators,
  which ``plotly.io`` imports to write a figure, import it (~30-40 ms) for arrays that
  are not numpy arrays; the reports' figures hold numpy arrays, lists and plain values.

Nothing happens when the package is imported already or cannot be found.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Iterator
from typing import Any


class DeferredModule(types.ModuleType):
    """A package whose ``__init__`` runs on first use of one of its attributes."""

    def __getattr__(self, name: str) -> Any:
        spec = self.__spec__
        self.__class__ = types.ModuleType  # from now on an ordinary module
        spec.loader.exec_module(self)  # type: ignore[union-attr]
        return getattr(self, name)


def defer(name: str) -> DeferredModule | None:
    """Enter the package ``name`` (e.g. ``"mesa.experimental"``) in ``sys.modules``
    unexecuted, found without importing its parents; return it, or None (nothing done)
    if it is imported already or cannot be found."""
    if name in sys.modules:
        return None
    top, *rest = name.split(".")
    try:
        spec = importlib.util.find_spec(top)  # top level: found, not imported
        for depth in range(1, len(rest) + 1):
            if spec is None or not spec.submodule_search_locations:
                return None
            spec = importlib.machinery.PathFinder.find_spec(
                ".".join([top, *rest[:depth]]), list(spec.submodule_search_locations)
            )
        if spec is None or spec.loader is None or spec.submodule_search_locations is None:
            return None
        module = importlib.util.module_from_spec(spec)
    except (ImportError, ValueError, OSError):
        return None
    module.__class__ = DeferredModule
    sys.modules[name] = module
    return module


def defer_chain(name: str) -> list[DeferredModule]:
    """Defer the package ``name`` (e.g. ``"narwhals.stable.v1"``) and each of its parent
    packages not imported yet (:func:`defer`), each bound as an attribute of its parent, so
    that ``import narwhals.stable.v1 as nw`` gives the deferred package without running
    any ``__init__``; return them, outermost first ([]: nothing done, when ``name`` is
    imported already or one of them cannot be found)."""
    if name in sys.modules:
        return []
    parts = name.split(".")
    done: list[DeferredModule] = []
    for depth in range(1, len(parts) + 1):
        sub = ".".join(parts[:depth])
        module = sys.modules.get(sub) or defer(sub)
        if module is None:
            for made in done:
                del sys.modules[made.__name__]
            return []
        if depth > 1:
            setattr(sys.modules[".".join(parts[: depth - 1])], parts[depth - 1], module)
        if isinstance(module, DeferredModule) and sub not in {m.__name__ for m in done}:
            done.append(module)
    return done


@contextlib.contextmanager
def deferred(name: str) -> Iterator[None]:
    """Within the block the package ``name`` is deferred (:func:`defer`); after it, it
    and the submodules imported under it are taken out of ``sys.modules`` again, unless
    something used it (ran its ``__init__``)."""
    module = defer(name)
    try:
        yield
    finally:
        if module is not None and sys.modules.get(name) is module:
            if type(module) is DeferredModule:  # never executed
                for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
                    del sys.modules[key]
