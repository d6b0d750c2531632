"""market_sim.jit: the list of kernel modules is complete, a kernel's cache is dropped when
a module it imports changes, and numba's set-up does not import scipy.linalg."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from market_sim import jit

PACKAGE = Path(jit.__file__).resolve().parent
JIT_DECORATOR = re.compile(r"^\s*@(numba\.)?n?jit\b", re.MULTILINE)


def test_kernel_modules_names_every_module_that_uses_njit():
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if JIT_DECORATOR.search(path.read_text(encoding="utf-8")):
            rel = path.relative_to(PACKAGE.parent).with_suffix("")
            found.add(".".join(rel.parts))
    assert found == set(jit.KERNEL_MODULES)


def test_every_kernel_module_takes_njit_from_market_sim_jit():
    for module in jit.KERNEL_MODULES:
        text = jit._source(module, PACKAGE).read_text(encoding="utf-8")
        assert "from market_sim.jit import njit" in text, module
        assert not re.search(r"^\s*(from numba import|import numba)", text, re.M), module
        # jit.drop_stale_caches reads absolute imports only (ruff's TID252 bans the others)
        assert not re.search(r"^\s*from \.", text, re.M), module


def _package(root: Path) -> Path:
    """A package ``market_sim`` with three kernel modules: ``a`` imports a helper from
    ``b`` (grouped import) and a constant from ``consts``; ``c`` imports nothing; each has
    cache files in its ``__pycache__``."""
    pkg = root / "market_sim"
    (pkg / "sub" / "__pycache__").mkdir(parents=True)
    (pkg / "__pycache__").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text(
        "from market_sim.sub.b import (\n    helper,\n)\nfrom market_sim.consts import LIMIT\n"
    )
    (pkg / "sub" / "b.py").write_text("def helper():\n    return 1\n")
    (pkg / "consts.py").write_text("LIMIT = 8\n")
    (pkg / "sub" / "c.py").write_text("def alone():\n    return 2\n")
    for stem in ("a", "b", "c"):
        for suffix in ("nbi", "nbc"):
            (pkg / "sub" / "__pycache__" / f"{stem}.kernel-3.py311.{suffix}").write_bytes(b"x")
    return pkg


MODULES = ("market_sim.sub.a", "market_sim.sub.b", "market_sim.sub.c")


def _cached(pkg: Path) -> set[str]:
    return {p.name.split(".")[0] for p in (pkg / "sub" / "__pycache__").glob("*.nb?")}


def test_a_change_to_an_imported_module_drops_the_importers_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    pkg = _package(tmp_path)
    assert set(jit.drop_stale_caches(pkg, MODULES)) == set(MODULES)  # no record yet
    for stem in ("a", "b", "c"):  # numba compiles them again
        (pkg / "sub" / "__pycache__" / f"{stem}.kernel-3.py311.nbi").write_bytes(b"x")
    assert jit.drop_stale_caches(pkg, MODULES) == []  # nothing changed: nothing dropped
    assert _cached(pkg) == {"a", "b", "c"}

    (pkg / "consts.py").write_text("LIMIT = 16\n")  # a constant frozen into a's code
    assert jit.drop_stale_caches(pkg, MODULES) == ["market_sim.sub.a"]
    assert _cached(pkg) == {"b", "c"}

    (pkg / "sub" / "__pycache__" / "a.kernel-3.py311.nbi").write_bytes(b"x")
    (pkg / "sub" / "b.py").write_text("def helper():\n    return 3\n")  # a's callee
    assert jit.drop_stale_caches(pkg, MODULES) == ["market_sim.sub.a", "market_sim.sub.b"]
    assert _cached(pkg) == {"c"}


def test_numba_cache_dir_is_left_to_numba(tmp_path, monkeypatch):
    pkg = _package(tmp_path)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert jit.drop_stale_caches(pkg, MODULES) == []
    assert _cached(pkg) == {"a", "b", "c"}


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from market_sim.x import y\n", ["market_sim.x"]),
        ("    from market_sim.x import (\n        y,\n    )\n", ["market_sim.x"]),
        (
            "import market_sim.x\nfrom market_sim import jit\n",
            ["market_sim.x", "market_sim", "market_sim.jit"],
        ),
        ("from numpy import x\n# from market_sim.x\n", []),
    ],
)
def test_imports_are_read_from_the_source(source, expected):
    assert jit._imported(source, PACKAGE) == expected


def test_the_first_kernel_call_does_not_import_scipy_linalg():
    """numba's CPU target is set up when market_sim.jit is imported, with scipy.linalg
    deferred, whichever kernel a process calls first (a model's first call is the
    startups' entry kernel, not a market kernel)."""
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from market_sim.market.kernels_sum import pairwise_sum\n"
        "assert pairwise_sum(np.ones(4), 0, 4) == 4.0\n"
        "print('scipy.linalg' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "False", out.stderr
