"""Closing a model: Mesa lets it go, a loop of closed models keeps its memory flat, and a
closed model says so when it is used again."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import mesa
import pandas as pd
import psutil
import pytest

from market_sim.experiment.worker import COLLECT_EVERY, collect_now_and_then, simulate
from market_sim.model import GPUMarketModel
from market_sim.model.core import ModelClosedError

TINY = Path(__file__).resolve().parent / "fixtures" / "tiny.toml"
SHORT = ["simulation.weeks=6"]


def _ids() -> dict:
    return vars(mesa.Agent)["_ids"]


def test_close_releases_the_model_from_mesa() -> None:
    model = GPUMarketModel(TINY, overrides=SHORT)
    model.run()
    assert model in _ids()  # Mesa 3.3 keeps every model that made an agent (issue 3179)
    ref = weakref.ref(model)
    model.close()
    model.close()  # idempotent
    assert model not in _ids()
    del model
    gc.collect()
    assert ref() is None


def test_a_loop_of_200_closed_models_keeps_memory_flat() -> None:
    """200 small models in one process, half of them with their startups' Mesa agents
    made: none stays alive, and RSS after the last is within 20 MiB of RSS after the
    20th (without close() it grows by ~50 MiB and every model stays alive)."""
    process = psutil.Process()
    refs: list[weakref.ref] = []

    def one(i: int) -> None:
        with GPUMarketModel(TINY, seed=i, overrides=SHORT) as model:
            model.run()
            if i % 2 == 0:
                assert len(model.agents) > 0  # the lazily made startup agents too
        refs.append(weakref.ref(model))
        collect_now_and_then()

    for i in range(20):
        one(i)
    gc.collect()
    before = process.memory_info().rss
    for i in range(20, 200):
        one(i)
    gc.collect()
    grown_mib = (process.memory_info().rss - before) / 2**20
    assert sum(r() is not None for r in refs) == 0
    assert not any(r() in _ids() for r in refs)
    assert grown_mib < 20, f"RSS grew by {grown_mib:.1f} MiB over 180 closed models"


def test_simulate_closes_and_collects(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[weakref.ref] = []
    real_init = GPUMarketModel.__init__

    def spy(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        made.append(weakref.ref(self))

    monkeypatch.setattr(GPUMarketModel, "__init__", spy)
    for seed in range(COLLECT_EVERY):
        frame = simulate(TINY, seed, SHORT)
    assert isinstance(frame, pd.DataFrame) and len(frame) == 6
    assert all(r() is None or r().closed for r in made)
    gc.collect()
    assert all(r() is None for r in made)


def test_simulate_closes_a_model_that_fails() -> None:
    before = len(_ids())
    with pytest.raises(Exception, match=r"startups\.count"):
        simulate(TINY, 1, [*SHORT, "startups.count=-1"])
    assert len(_ids()) <= before


def test_a_closed_model_keeps_its_records_but_cannot_run() -> None:
    with GPUMarketModel(TINY, overrides=SHORT) as model:
        model.step()
        frame = model.timeseries()
    assert model.closed and not model.running
    pd.testing.assert_frame_equal(model.timeseries(), frame)
    assert len(model.agents_frame()) > 0
    for use in (model.step, model.run):
        with pytest.raises(ModelClosedError, match="this model was closed"):
            use()
    for name in ("agents", "agents_by_type", "agent_types", "startup_agents"):
        with pytest.raises(ModelClosedError, match="build a new GPUMarketModel"):
            getattr(model, name)
    assert model not in _ids()


def test_closing_does_not_change_results() -> None:
    with GPUMarketModel(TINY, seed=3, overrides=SHORT) as a:
        first = a.run()
    second = GPUMarketModel(TINY, seed=3, overrides=SHORT).run()
    pd.testing.assert_frame_equal(first, second)
