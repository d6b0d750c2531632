"""The startup population: columnar state, numba kernels, and a Mesa agent per startup.

State lives in numpy arrays owned by :class:`StartupPopulation` (one row per startup);
each startup is also a :class:`StartupAgent` (a ``mesa.Agent``) whose attributes read
through to its row. The agents are the population's public face, made when first looked
at (``population.agents``, or the model's ``agents``, ``agents_by_type`` and
``agent_types``), in row order, so their ``unique_id``s do not depend on when that is:
the weekly update never needs them, and registering ~50 entrants a week with Mesa would
cost more than the population's kernels.

By default the model updates the whole population with two numba kernels a week
(:mod:`market_sim.agents.startup_kernels`); ``mode="agents"`` instead calls each agent's
``decide``/``settle`` in plain Python — kept as the kernels' test oracle and the
benchmark baseline.

A startup is drawn at entry: funding from a Pareto distribution (scale
``funding_min_usd``, tail ``funding_pareto_alpha``, capped at ``funding_max_usd``), the
worth of an H100-hour to it from a lognormal (median ``value_usd_per_gpu_hour``, sigma
``value_sigma``). Its weekly compute need (H100e) spends ``compute_share_of_funding`` of
the round over ``runway_weeks`` at that worth. Startups whose need reaches
``direct_buy_min_gpus`` buy from vendors (lowest priority tier) and rent meanwhile; the
rest rent by the week.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import mesa
import numpy as np

from market_sim.agents import startup_kernels as K
from market_sim.agents import startup_rows as R
from market_sim.agents.startup_agent import StartupAgent
from market_sim.agents.startup_columns import (
    _appended,
    _new_columns,
    _room,
)
from market_sim.market import draws as startup_draws
from market_sim.scenario.schema import Startups


class StartupPopulation:
    """Columnar state of all startups, with entry drawn from ``model.rng``."""

    def __init__(self, model: mesa.Model, spec: Startups, hours: float, mode: str = "kernel"):
        if mode not in ("kernel", "agents"):
            raise ValueError(f"startup mode must be 'kernel' or 'agents', not {mode!r}")
        self.model = model
        self.spec = spec
        self.hours = hours
        self.mode = mode
        size = spec.max_count if spec.max_count is not None else max(16, 2 * spec.count)
        self.cols = _new_columns(size)
        self.n = 0  # slots used
        self._agents: list[StartupAgent] = []  # rows 0..len-1 have their Mesa agent
        self.entered_total = 0
        self.live = np.zeros(0, dtype=np.int64)
        """Rows of the active startups, ascending (what the week's kernels loop over)."""
        self.visit = np.zeros(0, dtype=np.int64)
        self._live_buf = self.live  # live is _live_buf[:len(live)] (room to append)
        self._visit_buf = self.visit  # the same for visit
        """Rows that are active or own compute, ascending (what the metrics visit)."""
        self._pos = np.full(size, -1, dtype=np.int64)  # row -> place in live (-1: none)
        self._draws = np.empty(size)  # the week's uniform draws, one per row (re-used)
        self._on_order_rows = np.zeros(0, dtype=np.int64)  # rows whose on_order may be > 0
        self.exited_last = np.zeros(0, dtype=np.int64)
        """Rows that exited at the last settlement: their week's ``got``, ``rented`` and
        ``on_order`` are zeroed the next week, as a pass over every row would."""
        self.enter(spec.count, week=0)
        if mode == "kernel":
            startup_draws.warm()
            # a run whose startups never buy direct would leave its cache cold
            c = self.cols
            no_rows = np.zeros(0, dtype=np.int64)
            R.direct_orders_rows(
                no_rows, np.zeros(0), c["value"], c["on_order"], 1.0, 1.0, 1.0, 0.0
            )
            # nor would a run in which no startup exits
            R.drop_exited_rows(no_rows, no_rows, no_rows, c["status"], c["owned"], self._pos)

    def __getattr__(self, name: str) -> np.ndarray:
        cols = self.__dict__.get("cols")
        if cols is not None and name in cols:
            return cols[name][: self.n]
        raise AttributeError(name)

    # ------------------------------------------------------------------ entry
    def enter(self, k: int, week: int) -> None:
        """Add ``k`` new startups (draws funding and value from the model's rng); the
        kernel mode writes their rows in one kernel call
        (:func:`market_sim.agents.startup_rows.enter_rows`), the agents mode by numpy
        (its oracle)."""
        if k <= 0:
            return
        s, rng = self.spec, self.model.rng
        u = rng.random(k)
        funding = np.minimum(
            s.funding_max_usd, s.funding_min_usd * (1.0 - u) ** (-1.0 / s.funding_pareto_alpha)
        )
        value = s.value_usd_per_gpu_hour * np.exp(s.value_sigma * rng.standard_normal(k))
        self._grow(self.n + k)
        if self.mode != "kernel":
            self._enter_reference(funding, value, week)
            return
        m_live, m_visit = len(self.live), len(self.visit)
        self._live_buf = _room(self._live_buf, m_live, k)
        self._visit_buf = _room(self._visit_buf, m_visit, k)
        c = self.cols
        R.enter_rows(
            self.n,
            funding,
            value,
            c["status"],
            c["cash"],
            c["round_usd"],
            c["value"],
            c["need"],
            c["direct"],
            c["entered_week"],
            self._pos,
            self._live_buf,
            m_live,
            self._visit_buf,
            m_visit,
            float(s.compute_share_of_funding),
            float(s.runway_weeks),
            float(self.hours),
            float(s.direct_buy_min_gpus),
            int(week),
        )
        self.live = self._live_buf[: m_live + k]
        self.visit = self._visit_buf[: m_visit + k]
        self.n += k
        self.entered_total += k

    def _enter_reference(self, funding: np.ndarray, value: np.ndarray, week: int) -> None:
        """The rows of ``len(funding)`` entrants (funding USD, value USD per H100e-hour),
        in numpy (the oracle of :func:`market_sim.agents.startup_rows.enter_rows`)."""
        s, k = self.spec, len(funding)
        sl = slice(self.n, self.n + k)
        c = self.cols
        c["status"][sl] = K.ACTIVE
        c["cash"][sl] = funding
        c["round_usd"][sl] = funding
        c["value"][sl] = value
        c["need"][sl] = funding * s.compute_share_of_funding / (s.runway_weeks * value * self.hours)
        c["direct"][sl] = c["need"][sl] >= s.direct_buy_min_gpus
        c["entered_week"][sl] = week
        new = np.arange(self.n, self.n + k, dtype=np.int64)
        self._pos[new] = np.arange(len(self.live), len(self.live) + k)
        self._live_buf, self.live = _appended(self._live_buf, len(self.live), new)
        self._visit_buf, self.visit = _appended(self._visit_buf, len(self.visit), new)
        self.n += k
        self.entered_total += k

    @property
    def agents(self) -> list[StartupAgent]:
        """One :class:`StartupAgent` per row, made (and registered with the model) for
        the rows that have none yet."""
        made = len(self._agents)
        if made < self.n:
            with _gc_paused():
                self._agents.extend(StartupAgent(self.model, self, i) for i in range(made, self.n))
        return self._agents

    def _grow(self, size: int) -> None:
        cap = len(self.cols["status"])
        if size <= cap:
            return
        new = max(size, 2 * cap)
        grown = _new_columns(new)
        for name, col in self.cols.items():
            grown[name][:cap] = col
        self.cols = grown
        pos = np.full(new, -1, dtype=np.int64)
        pos[:cap] = self._pos
        self._pos = pos
        self._draws = np.empty(new)

    # ------------------------------------------------------------------ weekly
    def demand(self, demand_mult: float, buy_price_per_h100e: float, front: int = 0) -> tuple:
        """The week's rental bids and direct purchases: ``((bid_price, bid_qty, bid_row),
        buy_row, buy_h100e)`` -- the bids with a quantity (two tranches a startup: every
        first tranche by row, then every second; see ``startups_demand``), after
        ``front`` unset entries (room for other bids before them), and the rows that
        order from a vendor with the H100e each orders."""
        if self.mode == "kernel":
            c = self.cols
            *bids, buy_row, buy = R.startups_demand_rows(
                self.live,
                c["need"],
                c["owned"],
                c["on_order"],
                c["direct"],
                c["value"],
                c["cash"],
                float(demand_mult),
                float(self.hours),
                float(buy_price_per_h100e),
                float(self.spec.value_spread),
                float(self.spec.first_tranche_share),
                int(front),
            )
            return tuple(bids), buy_row, buy
        n = self.n
        out = (np.zeros(2 * n), np.zeros(2 * n), np.zeros(n))
        for agent in self.agents:
            agent.decide(demand_mult, buy_price_per_h100e, out)
        bid_price, bid_qty, buy = out
        buy_row = np.flatnonzero(buy > 0)
        room = (np.empty(front), np.empty(front), np.empty(front, dtype=np.int64))
        bids = K.compact_bids(bid_price, bid_qty, n)
        bids = tuple(np.concatenate([r, b]) for r, b in zip(room, bids, strict=True))
        return bids, buy_row, buy[buy_row]

    @property
    def live_pos(self) -> np.ndarray:
        """Each row's place in ``live`` (-1: not an active startup), over every slot."""
        return self._pos

    def live_positions(self, rows: np.ndarray) -> np.ndarray:
        """Each row's position in ``live`` (the rows must be active startups')."""
        pos = self._pos[rows]
        if len(pos) and pos.min() < 0:  # pragma: no cover - no exited startup trades
            raise ValueError("a row that is not an active startup's")
        return pos

    def per_live(self, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Sum of ``weights`` per active startup (aligned with ``live``), adding in the
        order given, as ``np.bincount`` over all rows would (a kernel:
        :func:`market_sim.agents.startup_rows.sum_per_live`)."""
        return R.sum_per_live(self._pos, rows, weights, len(self.live))

    def set_on_order(self, rows: np.ndarray, h100e: np.ndarray) -> None:
        """``on_order`` from the book's open startup orders (rows and H100e): the sum per
        startup (in the order given, as ``per_live``), zero for those with none.

        Only the rows that may hold a nonzero value are written: those of the last
        call's orders and of :meth:`order_direct` since (the rest stay ``0.0``)."""
        R.set_sums_at_rows(
            self.cols["on_order"], self._pos, self.exited_last, self._on_order_rows, rows, h100e
        )
        self._on_order_rows = rows

    def order_direct(
        self,
        rows: np.ndarray,
        h100e: np.ndarray,
        hours: float,
        willingness_weeks: float,
        h100e_per_unit: float,
        list_price: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """This week's direct orders of one product (USD ``list_price`` per unit of
        ``h100e_per_unit`` H100e) from the buyers ``rows`` (distinct, each wanting
        ``h100e``): ``(rows, units, limit USD per unit)`` of those whose worth of the
        product (value x ``hours`` x ``willingness_weeks``) reaches the list price,
        added to ``on_order`` (:func:`market_sim.agents.startup_rows.direct_orders_rows`)."""
        rows, units, limit, h100e = R.direct_orders_rows(
            rows,
            h100e,
            self.cols["value"],
            self.cols["on_order"],
            float(hours),
            float(willingness_weeks),
            float(h100e_per_unit),
            float(list_price),
        )
        self._on_order_rows = np.concatenate([self._on_order_rows, rows])
        return rows, units, limit

    def settle(
        self,
        week: int,
        rented: tuple[np.ndarray, np.ndarray],
        delivered_h100e: np.ndarray,
        paid_usd: np.ndarray,
        rental_price: float,
        demand_mult: float,
        opex_per_hour: float,
    ) -> np.ndarray:
        """Apply the week's markets to every startup; return the rows that exited now.

        ``rented``: the rental market's fills, ``(rows, H100e)`` per bid (a startup
        rents the sum of its bids' fills this week, as :meth:`per_live`);
        ``delivered_h100e`` (direct purchases delivered) and ``paid_usd`` (what they
        cost, USD): one value per active startup, aligned with ``live``. Draws one
        uniform number per row (exited ones too: the model's random stream does not
        depend on how the population is stored; the kernel mode computes only the active
        rows' and jumps over the rest,
        :mod:`market_sim.market.draws`)."""
        n = self.n
        live, c, s = self.live, self.cols, self.spec
        if self.mode == "kernel":
            # only the active rows read theirs: the others' are jumped over (same stream)
            draws = self._draws[:n]
            startup_draws.draws_at_rows(self.model.rng, live, n, self._draws)
            c["got"][self.exited_last] = 0.0  # as a pass over every row would
            c["rented"][self.exited_last] = 0.0  # the live rows' are summed by the kernel
            exits = np.empty(len(live), dtype=np.int64)
            k = R.startups_settle_rows(
                live,
                c["status"],
                c["cash"],
                c["round_usd"],
                c["need"],
                c["value"],
                c["owned"],
                c["on_order"],
                c["starved"],
                c["exited_week"],
                c["got"],
                c["rented"],
                np.ascontiguousarray(rented[0], dtype=np.int64),
                np.ascontiguousarray(rented[1], dtype=np.float64),
                self._pos,
                np.ascontiguousarray(delivered_h100e, dtype=np.float64),
                np.ascontiguousarray(paid_usd, dtype=np.float64),
                draws,
                float(rental_price),
                float(demand_mult),
                float(self.hours),
                float(opex_per_hour),
                float(s.compute_share_of_funding),
                float(s.runway_weeks),
                float(s.raise_probability_per_week),
                float(s.raise_multiple),
                float(s.starve_threshold),
                int(s.starve_weeks_to_exit),
                float(s.raise_below_round_share),
                int(week),
                exits,
            )
            exits = exits[:k]
        else:  # the oracle: every row, one Python call each
            draws = self.model.rng.random(out=self._draws[:n])
            c["rented"][:n] = self._by_row(self.per_live(*rented))
            args = (
                self._by_row(delivered_h100e),
                self._by_row(paid_usd),
                draws,
                rental_price,
                demand_mult,
                opex_per_hour,
                week,
            )
            for agent in self.agents:
                agent.settle(*args)
            exits = np.flatnonzero(c["exited_week"][:n] == week)  # stamped at exit
        self.exited_last = exits
        if len(exits) and self.mode == "kernel":  # (one pass: the numpy below, in order)
            self.live, self.visit = R.drop_exited_rows(
                live, self.visit, exits, c["status"], c["owned"], self._pos
            )
            self._live_buf, self._visit_buf = self.live, self.visit
        elif len(exits):
            self.live = self._live_buf = live[c["status"][live] == K.ACTIVE]
            self._pos[exits] = -1
            self._pos[self.live] = np.arange(len(self.live))
            v = self.visit
            self.visit = self._visit_buf = v[(c["status"][v] == K.ACTIVE) | (c["owned"][v] != 0.0)]
        return exits

    def _by_row(self, per_live: np.ndarray) -> np.ndarray:
        """Values aligned with ``live`` spread over every row (zero elsewhere)."""
        out = np.zeros(self.n)
        out[self.live] = per_live
        return out

    def summary(self, firms_h100e: np.ndarray, top_k: int) -> tuple:
        """``population_summary`` of every row (visiting only the rows in ``visit``)."""
        c = self.cols
        return R.population_summary_rows(
            self.visit,
            self.n,
            c["status"],
            c["starved"],
            c["got"],
            c["owned"],
            c["rented"],
            firms_h100e,
            top_k,
        )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while agents are registered in bulk.

    Each Mesa agent adds a few GC-tracked objects (the agent, its ``__dict__``, weak
    references in the model's AgentSets) and no garbage; left on, the collector runs
    every few hundred of them and, as the heap grows, full collections over every live
    object of the process: it costs about twice the registration itself (10,000 agents
    take ~0.03 s instead of ~0.15 s). The previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
