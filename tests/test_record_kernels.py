"""The recorder's kernels (market_sim.model.record_kernels) against their numpy twins
(market_sim.model.record_reference), bit for bit, over runs and on random inputs; the
row layout (every catalogue key made once); the week's row read as ``model.metrics``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from market_sim.market.kernels_sum import pairwise_sum_any
from market_sim.model import GPUMarketModel
from market_sim.model import record as record_module
from market_sim.model import record_kernels as K
from market_sim.model import record_reference as R
from market_sim.model.record_layout import RecordLayout
from market_sim.outcomes.catalogue import metric_keys
from model_helpers import BASELINE, FAST

SHOCK = Path(__file__).resolve().parent / "fixtures" / "golden" / "shock.toml"


def _same_bits(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    assert (np.asarray(got).view(np.int64) == np.asarray(want).view(np.int64)).all()


@pytest.mark.parametrize(
    ("scenario", "overrides", "seed", "weeks"),
    [(BASELINE, [*FAST, "simulation.weeks=90"], 3, 90), (SHOCK, [], 7, 156)],
)
def test_kernels_equal_their_twins_over_a_run(
    monkeypatch: pytest.MonkeyPatch, scenario: Path, overrides: list[str], seed: int, weeks: int
) -> None:
    """Each week: the row the kernels wrote, and the row the numpy twins write from the
    same last week's row, are the same bits (so is the firms' record)."""
    with GPUMarketModel(scenario, seed=seed, overrides=overrides) as model:
        rec = model.recorder
        for _ in range(weeks):
            last = rec.row.copy()
            model.step()
            got, got_record = rec.row.copy(), model.holder_record.copy()
            rec.row[:] = last
            with monkeypatch.context() as patch:
                for name in K.KERNEL_NAMES:
                    patch.setattr(record_module, name, getattr(R, f"{name}_reference"))
                want_record = rec.collect(model.week - 1).copy()
            _same_bits(got, rec.row)
            _same_bits(got_record, want_record)
            rec.row[:] = got


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_vendor_and_holder_kernels_on_random_weeks(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_p, n_v, n_h = int(rng.integers(1, 12)), int(rng.integers(1, 5)), int(rng.integers(1, 9))

    def some(n: int) -> np.ndarray:  # amounts with exact zeros
        return np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(3.0, 3.0, n))

    row = rng.normal(size=200)
    product_vendor = rng.integers(0, n_v, n_p)
    books = np.stack([some(n_v), some(n_v), some(n_v), some(n_v)], axis=1)
    at = rng.permutation(200)[: 7 * n_v]
    args = (product_vendor, some(n_p), some(n_p), some(n_p), books)
    a, b = row.copy(), row.copy()
    K.vendor_outcomes(*args, a, at)
    R.vendor_outcomes_reference(*args, b, at)
    _same_bits(a, b)

    n_cells = int(rng.integers(0, n_h * n_v + 1))
    fleet = np.where(rng.random((n_h, n_p)) < 0.4, 0.0, rng.lognormal(5.0, 2.0, (n_h, n_p)))
    args = (some(n_h), some(n_h), fleet, some(n_h), float(rng.lognormal(8.0, 1.0)), some(n_h))
    more = (some(n_h), some(n_h), some(n_h * n_v), some(n_h * n_v))
    cells = rng.permutation(n_h * n_v)[:n_cells].astype(np.int64)
    at = rng.permutation(200)
    holders_at, cells_at = at[: 8 * n_h], at[8 * n_h : 8 * n_h + 2 * n_cells]
    a, b = row.copy(), row.copy()
    got, want = np.empty((8, n_h)), np.empty((8, n_h))
    K.holder_outcomes(*args, *more, cells, a, holders_at, cells_at, got)
    R.holder_outcomes_reference(*args, *more, cells, b, holders_at, cells_at, want)
    _same_bits(a, b)
    _same_bits(got, want)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_group_kernel_on_random_weeks(seed: int) -> None:
    """Ties in installed compute (the later holder ranks first), aggregate holders,
    groups larger than the firms, a total of zero."""
    rng = np.random.default_rng(seed)
    n_h, n_g = int(rng.integers(1, 10)), int(rng.integers(1, 7))
    installed = rng.choice([0.0, 1.0, 2.5, 1e6], n_h) * rng.choice([1.0, 1.0 + 1e-12], n_h)
    delivered = rng.lognormal(2.0, 2.0, n_h)
    aggregate = rng.random(n_h) < 0.2
    width = int(rng.integers(0, n_h + 1))
    members = np.full((n_g, width), -1, dtype=np.int64)
    for g in range(n_g):
        k = int(rng.integers(0, width + 1))
        members[g, :k] = rng.permutation(n_h)[:k]
    largest = np.where(rng.random(n_g) < 0.4, rng.integers(1, n_h + 3, n_g), 0).astype(np.int64)
    startup_group = int(rng.integers(-1, n_g))
    total = float(rng.choice([0.0, float(installed.sum()) + 5.0]))
    row = rng.normal(size=40)
    at = rng.permutation(40)[: 3 * n_g]
    args = (delivered, installed, aggregate, members, largest, startup_group, 3.0, 7.0, total)
    a, b = row.copy(), row.copy()
    K.group_outcomes(*args, a, at)
    R.group_outcomes_reference(*args, b, at)
    _same_bits(a, b)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_class_kernel_on_random_weeks(seed: int) -> None:
    """Classes without open orders, without deliveries or without either; last week's
    prices of zero (the reference price) and not."""
    rng = np.random.default_rng(seed)
    n_c, n_book, n_del = 4, int(rng.integers(0, 40)), int(rng.integers(0, 20))
    used = rng.permutation(n_c)[: int(rng.integers(0, n_c + 1))]
    book_klass = rng.choice(used, n_book) if len(used) else np.zeros(n_book, dtype=np.int64)
    klass = rng.choice(used, n_del) if len(used) else np.zeros(n_del, dtype=np.int64)
    class_h100e = np.where(rng.random(n_c) < 0.4, 0.0, rng.lognormal(5.0, 1.0, n_c))
    week = 120
    args = (
        book_klass.astype(np.int64),
        rng.integers(0, 60, n_book),
        np.where(rng.random(n_book) < 0.2, 0.0, rng.lognormal(3.0, 1.0, n_book)),
        rng.integers(60, week + 1, n_book),
        week,
        klass.astype(np.int64),
        rng.uniform(0.0, 50.0, n_del),
        np.where(rng.random(n_del) < 0.2, 0.0, rng.lognormal(3.0, 1.0, n_del)),
        rng.lognormal(3.0, 1.0, n_c),
        class_h100e,
        rng.lognormal(10.0, 1.0, n_c),
        float(rng.choice([0.0, 1234.5])),
        25_000.0,
        np.array([0.5, 0.9]),
    )
    row = np.where(rng.random(30) < 0.5, 0.0, rng.normal(size=30))
    at = rng.permutation(30)
    ats = (at[:8], at[8:16], at[16:20], at[20:24])
    a, b = row.copy(), row.copy()
    K.class_outcomes(*args, a, *ats)
    R.class_outcomes_reference(*args, b, *ats)
    _same_bits(a, b)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_market_concentration_and_node_kernels_on_random_weeks(seed: int) -> None:
    """No incumbent or no purchases, weeks without deliveries, no wafer nodes."""
    rng = np.random.default_rng(seed)
    n_p, n_f, n_n, n_v = (int(rng.integers(1, 20)) for _ in range(4))

    def some(n: int) -> np.ndarray:
        return np.where(rng.random(n) < 0.3, 0.0, rng.lognormal(3.0, 3.0, n))

    row = rng.normal(size=1000)  # room for every position below (4 x 19 + 19 + 19 x 19)
    at = rng.permutation(1000)
    incumbent = np.flatnonzero(rng.random(n_p) < 0.5)
    args = (float(rng.choice([0.0, 10.0])), float(rng.choice([0.0, 20.0])))
    args += (float(rng.choice([0.0, 5.0])), float(rng.choice([0.0, 50.0])))
    args += (some(n_p), some(n_p), incumbent, some(n_p), float(rng.lognormal(5.0)))
    incumbent_at = at[13:18] if rng.random() < 0.8 else at[:0]
    a, b = row.copy(), row.copy()
    K.market_outcomes(*args, a, at[:13], incumbent_at)
    R.market_outcomes_reference(*args, b, at[:13], incumbent_at)
    _same_bits(a, b)

    alternative = np.flatnonzero(rng.random(n_p) < 0.5)
    in_house = np.flatnonzero(rng.random(n_p) < 0.2)
    top = np.sort(some(int(rng.integers(0, 5))))[::-1].copy()
    total = float(rng.choice([0.0, 1e4]))
    args = (some(n_f), top, int(rng.integers(0, 6)), total, some(n_p), alternative, in_house)
    args += (float(rng.choice([0.0, 7.0])),)
    a, b = row.copy(), row.copy()
    K.concentration_outcomes(*args, a, at[:7])
    R.concentration_outcomes_reference(*args, b, at[:7])
    _same_bits(a, b)

    chips = np.stack([some(n_n), some(n_n), some(n_n), rng.random(n_n)], axis=1)
    wafer = np.flatnonzero(rng.random(n_n) < 0.5)
    args = (chips, some(n_n), rng.lognormal(size=(n_v, n_n)), wafer)
    ats = (at[: 4 * n_n], at[4 * n_n : 4 * n_n + len(wafer)])
    ats += (at[4 * n_n + len(wafer) : 4 * n_n + len(wafer) + n_n * n_v],)
    a, b = row.copy(), row.copy()
    K.node_outcomes(*args, a, *ats)
    R.node_outcomes_reference(*args, b, *ats)
    _same_bits(a, b)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 3000), st.integers(0, 2**32 - 1))
def test_pairwise_sum_any_is_numpys_sum(n: int, seed: int) -> None:
    """Any length: numpy halves runs longer than its block of 128."""
    rng = np.random.default_rng(seed)
    a = rng.lognormal(size=n + 2) * 10.0 ** rng.uniform(-8, 8, n + 2)
    assert pairwise_sum_any(a, 1, n) == a[1 : 1 + n].sum()


def test_every_catalogue_key_is_made_once() -> None:
    with GPUMarketModel(BASELINE, seed=1, overrides=FAST) as model:
        keys = metric_keys(model.scenario)
        layout = model.recorder.layout
        made = [k for keys_made in layout.made.values() for k in keys_made]
        assert sorted(made) == sorted(keys)
        with pytest.raises(RuntimeError, match="not computed"):
            RecordLayout(model.world, [*keys, "no_such_metric"])
        with pytest.raises(RuntimeError, match="not in the catalogue"):
            RecordLayout(model.world, keys[1:])


def test_metrics_read_the_row() -> None:
    """``model.metrics`` maps each recorded key to its value in the week's row; a run
    that names its outputs maps those only."""
    with GPUMarketModel(BASELINE, seed=1, overrides=[*FAST, "simulation.weeks=3"]) as model:
        model.run()
        m = model.metrics
        assert list(m) == metric_keys(model.scenario)
        assert m["startups_active"] == model.timeseries()["startups_active"].iloc[-1]
        assert isinstance(m["deliveries_units"], float)
    keys = ["startups_active", "nvidia_gross_margin_pct"]
    with GPUMarketModel(BASELINE, seed=1, overrides=FAST, outputs=keys) as model:
        model.step()
        assert sorted(model.metrics) == sorted(keys)
        with pytest.raises(KeyError):
            model.metrics["gini_compute"]
