"""A quick start: ``market-sim --help`` and ``validate`` import neither numba, pandas nor
Mesa's experimental parts, the market package loads its kernels on first use, and
``import mesa`` through market_sim leaves ``mesa.experimental`` (and scipy) unloaded
until something uses it. Each check runs in a fresh interpreter."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = (
    "numba",
    "pandas",
    "mesa",
    "mesa.experimental.continuous_space",
    "scipy.spatial",  # numba imports scipy's top level (cheap), Mesa's experimental parts this
    "pyarrow",
    "duckdb",
    "plotly",
    "distributed",
    "networkx",  # the scenario checks use the standard library's graphlib
)


def _loaded_after(code: str) -> list[str]:
    """Top-level packages of HEAVY loaded after running ``code`` in a fresh Python."""
    probe = (
        "import sys, json\n"
        f"{code}\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cli(*args: str) -> str:
    return (
        "from market_sim.cli import app\n"
        f"sys.argv = ['market-sim', *{list(args)!r}]\n"
        "try:\n    app()\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
    )


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("validate", "scenarios/baseline.toml"),
        ("sweep", "--help"),
        ("forecast", "--help"),
    ],
    ids=["help", "validate", "sweep-help", "forecast-help"],
)
def test_quick_commands_import_nothing_heavy(args: tuple[str, ...]) -> None:
    assert _loaded_after(_cli(*args)) == []


def test_market_package_loads_kernels_on_first_use() -> None:
    assert _loaded_after("import market_sim.market.policies, market_sim.market") == []
    code = (
        "from market_sim.market import allocate, POLICIES, double_auction\n"
        "from market_sim import market\n"
        "assert market.reference.double_auction and market.numpy_impl.allocate\n"
        "assert 'allocate' in dir(market)\n"
    )
    assert _loaded_after(code) == ["numba"]


def test_market_package_unknown_name_is_an_attribute_error() -> None:
    import market_sim.market as market

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        market.nope  # noqa: B018


def test_mesa_experimental_waits_until_used() -> None:
    code = (
        "import market_sim.model\n"
        "import mesa\n"
        "assert 'scipy.spatial' not in sys.modules\n"
        "assert 'mesa.experimental.devs' not in sys.modules\n"
        "from mesa.experimental import devs\n"
        "from mesa.experimental.continuous_space import ContinuousSpace\n"
        "assert mesa.experimental.devs is devs and ContinuousSpace.__name__\n"
        "assert type(mesa.experimental).__name__ == 'module'\n"
    )
    loaded = _loaded_after(code)
    assert {"scipy.spatial", "mesa.experimental.continuous_space"} <= set(loaded)


def test_model_import_leaves_scipy_out() -> None:
    loaded = _loaded_after("import market_sim.model")
    assert {"mesa", "numba", "pandas"} <= set(loaded)
    assert not {"scipy.spatial", "mesa.experimental.continuous_space"} & set(loaded)


def test_version_is_read_on_first_use() -> None:
    import market_sim

    assert isinstance(market_sim.__version__, str) and market_sim.__version__
    from market_sim import __version__

    assert __version__ == market_sim.__version__
    with pytest.raises(AttributeError):
        market_sim.not_a_name  # noqa: B018


def test_kernels_leave_scipy_linalg_unloaded_and_usable() -> None:
    """numba's BLAS check at start-up loads scipy.linalg.cython_blas without scipy.linalg's
    package (market_sim.deferred); scipy.linalg and numba's BLAS work as usual after."""
    code = (
        "import numpy as np\n"
        "import market_sim.market.kernels\n"
        "import numba.np.arraymath\n"
        "assert numba.np.arraymath._HAVE_BLAS\n"
        "assert not [m for m in sys.modules if m.startswith('scipy.linalg')]\n"
        "assert 'numpy.f2py' not in sys.modules\n"
        "import scipy.linalg\n"
        "from scipy.linalg.blas import drot\n"
        "assert scipy.linalg.solve(np.eye(2), np.ones(2)).tolist() == [1.0, 1.0]\n"
        "assert scipy.linalg.cython_blas.__pyx_capi__ and drot\n"
        "from numba import njit\n"
        "dot = njit(lambda a, b: np.dot(a, b))\n"
        "assert dot(np.ones(3), np.ones(3)) == 3.0\n"
    )
    assert _loaded_after(code) == ["numba"]


def test_a_deferred_package_used_in_the_block_stays() -> None:
    from market_sim.deferred import DeferredModule, defer, deferred

    assert defer("market_sim") is None  # imported already: nothing done
    assert defer("no_such_package.sub") is None
    code = (
        "from market_sim.deferred import deferred\n"
        "with deferred('xmlrpc'):\n"
        "    import xmlrpc as t\n"
        "    assert type(t).__name__ == 'DeferredModule'\n"
        "assert 'xmlrpc' not in sys.modules\n"
        "with deferred('logging'):\n"
        "    import logging as m\n"
        "    assert type(m).__name__ == 'DeferredModule'\n"
        "    m.getLogger  # an attribute of the package: runs its __init__\n"
        "assert type(sys.modules['logging']).__name__ == 'module'\n"
        "assert sys.modules['logging'].getLogger('x').name == 'x'\n"
    )
    assert _loaded_after(code) == []
    assert DeferredModule.__name__ == "DeferredModule" and callable(deferred)


_MESA_NAMES = (
    "import logging\n"
    "import mesa.mesa_logging as ml\n"
    "init = mesa.Model.__init__\n"
    "classname = [c.cell_contents for c in init.__closure__ if type(c.cell_contents) is str]\n"
    "loggers = sorted(n for n in logging.root.manager.loggerDict if n.startswith('MESA'))\n"
    "print(json.dumps([loggers, sorted(ml._module_loggers), classname]))\n"
)


def _mesa_names(import_line: str) -> list:
    code = "import sys, json\nimport market_sim.cli\n" + import_line + _MESA_NAMES
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_import_mesa_names_mesas_loggers_as_a_plain_import() -> None:
    """market_sim.mesa_import: Mesa's loggers and its logged class get the same names."""
    helper = (
        "import inspect\n"
        "saved = inspect.stack, inspect.getouterframes, inspect.getmodule\n"
        "from market_sim.mesa_import import import_mesa\n"
        "mesa = import_mesa()\n"
        "assert (inspect.stack, inspect.getouterframes, inspect.getmodule) == saved\n"
    )
    names = _mesa_names(helper)
    assert names == _mesa_names("import mesa\n")
    assert names[0] == ["MESA", "MESA.mesa", "MESA.mesa.mesa_logging", "MESA.mesa.model"]
    assert names[2] == ["Model"]


def test_light_frame_lookups_answer_as_inspect_and_are_restored() -> None:
    import inspect

    from market_sim.mesa_import import import_mesa, light_frame_lookups

    saved = inspect.stack, inspect.getouterframes, inspect.getmodule

    def here() -> tuple[list, list, object]:
        frame = inspect.currentframe()
        return inspect.stack(), inspect.getouterframes(frame), inspect.getmodule(frame)

    plain, light = [], []
    for lookups, found in ((contextlib.nullcontext, plain), (light_frame_lookups, light)):
        with lookups():
            found.extend(here())
    for a, b in zip(plain[:2], light[:2], strict=True):
        assert [(f.frame, f.filename, f.lineno, f.function) for f in a][1:] == [
            (f.frame, f.filename, f.lineno, f.function) for f in b
        ][1:]
        assert (a[0].function, a[0].filename) == (b[0].function, b[0].filename)
    assert light[2] is plain[2] is sys.modules[__name__]
    with light_frame_lookups():
        assert inspect.getmodule(json) is json  # not a frame: inspect's own answer
    assert (inspect.stack, inspect.getouterframes, inspect.getmodule) == saved
    with pytest.raises(ZeroDivisionError), light_frame_lookups():
        1 / 0  # noqa: B018
    assert (inspect.stack, inspect.getouterframes, inspect.getmodule) == saved
    import mesa

    assert import_mesa() is mesa  # imported already: nothing patched
    assert (inspect.stack, inspect.getouterframes, inspect.getmodule) == saved


def test_a_deferred_chain_imports_as_usual() -> None:
    """market_sim.deferred.defer_chain: ``import a.b as m`` gives the deferred package
    without running a parent's ``__init__``; the first use runs them as usual."""
    code = (
        "from market_sim.deferred import defer_chain\n"
        "assert 'xml' not in sys.modules\n"
        "assert defer_chain('xml.nope') == [] and 'xml' not in sys.modules\n"
        "assert defer_chain('xml.dom.minidom') == []  # a module, not a package\n"
        "made = defer_chain('xml.dom')\n"
        "assert [m.__name__ for m in made] == ['xml', 'xml.dom']\n"
        "assert defer_chain('xml.dom') == []\n"
        "import xml.dom as d\n"
        "assert type(d).__name__ == 'DeferredModule'\n"
        "assert type(sys.modules['xml']).__name__ == 'DeferredModule'\n"
        "assert d.Node.ELEMENT_NODE == 1 and type(d).__name__ == 'module'\n"
        "import xml.dom.minidom as m\n"
        "assert m.parseString('<a>b</a>').documentElement.tagName == 'a'\n"
        "import xml\n"
        "assert xml.dom.minidom is m and xml.dom is d\n"
    )
    assert _loaded_after(code) == []


def test_reports_leave_narwhals_unloaded_until_used() -> None:
    code = (
        "import numpy as np\n"
        "from market_sim.report.figure_spec import new_figure, trace\n"
        "from market_sim.report.page import figure_html\n"
        "kinds = lambda: {type(sys.modules[k]).__name__ for k in\n"
        "    ('narwhals', 'narwhals.stable', 'narwhals.stable.v1')}\n"
        "y = np.array([1.0, 2.0, np.nan])\n"
        "fig = new_figure(trace('scatter', x=['2024-01-01', '2024-01-08', '2024-01-15'], y=y))\n"
        "assert 'bdata' in figure_html(fig, 'one')\n"
        "assert kinds() == {'DeferredModule'}, kinds()\n"
        "import pandas as pd\n"
        "import plotly.graph_objects as go\n"
        "html = figure_html(go.Figure(go.Scatter(y=pd.Series([1.0, 2.0]))), 'two')\n"
        "assert 'bdata' in html\n"
        "import narwhals, narwhals.stable.v1 as nw\n"
        "assert nw is sys.modules['narwhals.stable.v1'] and narwhals.stable.v1 is nw\n"
        "assert type(narwhals).__name__ == 'module' and narwhals.__version__\n"
        "assert nw.from_native(pd.Series([1]), series_only=True).to_list() == [1]\n"
    )
    assert "plotly" in _loaded_after(code)
