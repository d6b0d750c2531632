"""GPUMarketModel: the weekly agent-based model of the AI-accelerator supply chain.

Mesa idioms: agents are ``mesa.Agent`` subclasses (one class per role) held in the
model's AgentSet; a ``mesa.DataCollector`` records one row of outcomes per week whose
columns are the metric keys of the catalogue (docs/metrics.md); ``model.rng`` drives all
randomness; ``mesa.batch_run`` works (seeds: :mod:`market_sim.model.inputs`). The step
order is written once, in :meth:`GPUMarketModel.step`, and mirrored in docs/ODD.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from market_sim.agents.buyers import FleetBuyer, WeekViews, target_path
from market_sim.agents.chipmaker import ChipmakerAgent
from market_sim.agents.chipmaker_kernel import NodeState
from market_sim.agents.fleet import BuyerState
from market_sim.agents.registry import HOLDER_AGENTS
from market_sim.agents.startups import StartupAgent, StartupPopulation
from market_sim.agents.vendor import VendorAgent
from market_sim.agents.vendor_accounts import VendorAccounts
from market_sim.model.accounts import Accounts
from market_sim.model.book import OrderBook
from market_sim.model.choice import Choices, choices_for
from market_sim.model.collector import MetricsCollector
from market_sim.model.events import compile_events
from market_sim.model.inputs import default_seed, resolve_scenario
from market_sim.model.production import Supply
from market_sim.model.production_kernel import ProductionState
from market_sim.model.record import Recorder
from market_sim.model.record_parts import AGENT_VARIABLES, MetricRow
from market_sim.model.state import Holdings, Market, WeekFlows
from market_sim.model.trading import Trading
from market_sim.model.world import World, allowed_matrix, build_world
from market_sim.outcomes.finite import check_finite
from market_sim.scenario import Scenario
from market_sim.scenario.schema import MAX_PRIORITY_TIER
from market_sim.supply import build_graph


class ModelClosedError(RuntimeError):
    """A closed model was asked to step, run or show its agents."""


class GPUMarketModel(mesa.Model):
    """The AI-accelerator market, one step per week.

    The model owns the weekly state (:mod:`market_sim.model.state`: the market's prices,
    quotes and access; the firms' holdings; the order book; the accounts; this week's
    flows) and the agents, and hands them to the phases of a week when it is built. Its
    public attributes that mirror that state (``list_price``, ``quotes``, ``fleet``, ...)
    are read-only views.

    Args:
        scenario: a :class:`Scenario`, a path to a scenario file, or scenario data
            (default: the historical baseline shipped with the package).
        seed: random seed (default: the scenario's ``simulation.seed``; under
            ``mesa.batch_run``, that plus the iteration number).
        rng: a numpy Generator or seed, as ``mesa.Model`` takes it (instead of seed).
        overrides: ``path=value`` strings, as ``--set`` takes them.
        startup_mode: ``"kernel"`` (numba, the default) or ``"agents"`` (each startup
            stepped in Python: the oracle and benchmark baseline).
        outputs: the metric keys to record (None, the default: every key of the
            catalogue). A sweep or calibration that reads a few columns names them and
            the week computes only those families of outcomes; their values are the
            same as in a full run.
        **dotted: further overrides as keyword arguments, ``**{"policy.allocation":
            "auction"}``; this is how ``mesa.batch_run`` sweeps scenario values.

    A process that builds many models closes each when done (:meth:`close`, or ``with
    GPUMarketModel(...) as model:``): Mesa 3.3 keeps every model that made an agent
    alive otherwise.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | Mapping[str, Any] | None = None,
        seed: int | None = None,
        rng: Any = None,
        overrides: Sequence[str] | str = (),
        startup_mode: str = "kernel",
        outputs: Sequence[str] | None = None,
        **dotted: Any,
    ):
        scenario = resolve_scenario(scenario, overrides, dotted)
        if seed is None and rng is None:
            seed = default_seed(scenario)
        super().__init__(seed=seed, rng=rng)
        self.closed = False
        """True after :meth:`close`."""
        self.seed_used = seed
        self.scenario = scenario
        self.world: World = build_world(scenario)
        self.events = compile_events(self.world)
        self.week = 0
        w = self.world
        n_p, n_h, n_v, n_n = len(w.products), len(w.holder_ids), len(w.vendor_ids), len(w.node_ids)
        # ---- the weekly state (declared here, changed only by the phases below)
        self.market = self._initial_market()
        self.holdings = Holdings(
            fleet=np.zeros((n_h, n_p)),
            legacy_h100e=np.array([h.initial_fleet_h100e for h in w.holder_specs]),
            cancelled_h100e=np.zeros(n_h),
        )
        self.book = OrderBook()
        self.flows = WeekFlows.empty(n_p, n_v, n_n)
        self.pipelines = np.zeros(int(w.pipeline_offsets[-1]))
        self.production_state = ProductionState.empty(n_p)  # the vendors' [products]
        self.desired_path = self._desired_path()  # [holders, weeks + 1] H100e, events in
        self.buyer_state = BuyerState.empty(n_h, scenario.policy.initial_lead_weeks)
        lags = [n.expansion.build_lag_weeks for n in scenario.supply.nodes if n.expansion]
        arrival_weeks = len(w.node_capacity) + max(lags, default=0) + 1
        self.node_state = NodeState.empty(n_n, arrival_weeks)  # the chipmakers' [nodes]
        self.vendor_accounts = VendorAccounts.empty(n_v)  # the vendors' books [vendors]
        self._years = [scenario.date_of(k).year for k in range(w.weeks + 1)]
        self._installed_cache: tuple[int, np.ndarray] | None = None
        self._reference_cache: tuple[int, float] | None = None
        self._open_cache: tuple[tuple, np.ndarray, np.ndarray] | None = None
        self._choice_cache: tuple[tuple, Choices] | None = None
        # ---- the agents
        self.chipmakers = [
            ChipmakerAgent(self, node, j, w.node_capacity[:, j])
            for j, node in enumerate(scenario.supply.nodes)
        ]
        self.vendors = [
            VendorAgent(self, spec, v, [int(p) for p in np.flatnonzero(w.products.vendor == v)])
            for v, spec in enumerate(w.vendor_specs)
        ]
        self.vendor_by_id = {v.vendor_id: v for v in self.vendors}
        for vendor in self.vendors:  # each product's pipeline is a view into one array
            for p in vendor.products:
                lo, hi = w.pipeline_offsets[p], w.pipeline_offsets[p + 1]
                vendor.pipeline[p] = self.pipelines[lo:hi]
        self.holders = [
            HOLDER_AGENTS[spec.role](self, spec, h, int(w.holder_class[h]))
            for h, spec in enumerate(w.holder_specs)
        ]
        hours = scenario.economics.hours_per_week
        self.startups = StartupPopulation(self, scenario.startups, hours, startup_mode)
        self.accounts = Accounts(
            w.products.vendor, n_n, self.holdings, self.vendors, self.holders, self.startups
        )
        # ---- the phases of a week, each given what it needs
        self.supply = Supply(
            w,
            self.events,
            self.market,
            self.book,
            self.accounts,
            self.chipmakers,
            self.vendors,
            self.holders,
            self.pipelines,
            self.choices,
            self.production_state,
        )
        self.trading = Trading(
            w,
            self.events,
            self.market,
            self.holdings,
            self.book,
            self.accounts,
            self.vendors,
            self.holders,
            self.startups,
            self.pipelines,
            self.rng,
            self.production_state,
            self.buyer_state,
            self.desired_path,
            self.year_of,
        )
        self.recorder = Recorder(
            w,
            self.market,
            self.holdings,
            self.book,
            self.accounts,
            self.flows,
            self.vendors,
            self.holders,
            self.chipmakers,
            self.startups,
            self.supply.backlog_units,
            self.installed_h100e,
            self.open_orders,
            self.production_state,
            outputs,
        )
        self.accounts.primed_units = self.supply.prime_pipelines()
        self.metrics: MetricRow = self.recorder.metrics  # the last week's outcomes
        self.holder_record = self.recorder.holder_record
        self.datacollector = MetricsCollector(
            self.recorder.keys,
            AGENT_VARIABLES,
            {
                "holders": [(h.firm_id, h.role) for h in self.holders],
                "vendors": [(v.vendor_id, "vendor") for v in self.vendors],
                "chipmakers": [(c.node_id, c.kind) for c in self.chipmakers],
            },
        )

    # ------------------------------------------------------------------ set-up
    def _initial_market(self) -> Market:
        w, s = self.world, self.scenario
        pr = w.products
        launch_week = pr.launch_week.copy()
        for p, week in self.events.launch_week.items():
            launch_week[p] = week
        dormant = [v for v, spec in enumerate(w.vendor_specs) if spec.dormant]
        for p in range(len(pr)):
            if pr.vendor[p] in dormant:
                launch_week[p] = np.iinfo(np.int64).max // 4
        graph = build_graph(s, 0)  # vendor-to-buyer edges say who may get what
        list_price = pr.initial_list_price_usd.copy()
        ref = w.reference_product
        return Market(
            list_price=list_price,
            launch_week=launch_week,
            quotes=np.full(
                (len(pr), MAX_PRIORITY_TIER + 1), round(float(s.policy.initial_lead_weeks))
            ),
            orderable=np.zeros(len(pr), dtype=bool),
            allowed=allowed_matrix(graph, w),
            graph=graph,
            program_commitment=np.zeros(len(w.vendor_ids)),
            program_supply_boost=np.zeros(len(w.vendor_ids)),
            spot_price=float(list_price[ref] / pr.h100e[ref]),
            rental_price=float(s.economics.initial_rental_usd_per_gpu_hour),
        )

    def _desired_path(self) -> np.ndarray:
        """Desired installed H100e of each fleet-target buyer, weeks 0..weeks, with the
        demand events applied to the targets' growth (zeros for other holders). A buyer
        with ``follow_share`` grows by that share of the named fleet buyers' growth (those
        with their own targets, aggregates excluded), its own demand events applied."""
        w, s = self.world, self.scenario
        path = np.zeros((len(w.holder_ids), w.weeks + 1))
        named_growth = np.zeros(w.weeks)
        followers = []
        for h, spec in enumerate(w.holder_specs):
            if not hasattr(spec, "fleet_targets"):
                continue
            if spec.follow_share is not None:
                followers.append(h)
                continue
            base = target_path(spec, s, w.weeks)
            growth = np.diff(base) * self.events.holder_demand[:, h]
            path[h] = base[0] + np.concatenate([[0.0], np.cumsum(growth)])
            if not spec.aggregate:
                named_growth += growth
        for h in followers:
            spec = w.holder_specs[h]
            growth = spec.follow_share * named_growth * self.events.holder_demand[:, h]
            path[h] = spec.initial_fleet_h100e + np.concatenate([[0.0], np.cumsum(growth)])
        return path

    # ------------------------------------------------------------------ views of the state
    list_price = property(lambda self: self.market.list_price, doc="USD per unit, [products]")
    launch_week = property(lambda self: self.market.launch_week)
    quotes = property(lambda self: self.market.quotes, doc="[products, tiers] weeks")
    orderable = property(lambda self: self.market.orderable)
    allowed = property(lambda self: self.market.allowed)
    graph = property(lambda self: self.market.graph)
    spot_price = property(lambda self: self.market.spot_price, doc="USD per H100e")
    rental_price = property(lambda self: self.market.rental_price, doc="USD per H100e-hour")
    fleet = property(lambda self: self.holdings.fleet, doc="[holders, products] units")
    legacy_h100e = property(lambda self: self.holdings.legacy_h100e)
    pipeline_offsets = property(lambda self: self.world.pipeline_offsets)

    # ------------------------------------------------------------------ helpers
    def year_of(self, week: int) -> int:
        """Calendar year in which a week starts."""
        if 0 <= week < len(self._years):
            return self._years[week]
        return self.scenario.date_of(week).year

    def installed_h100e(self) -> np.ndarray:
        """Per firm holder: installed compute, H100e (cached until a fleet changes)."""
        h = self.holdings
        if self._installed_cache is None or self._installed_cache[0] != h.version:
            value = h.legacy_h100e + h.fleet @ self.world.products.h100e
            self._installed_cache = (h.version, value)
        return self._installed_cache[1]

    def date_of(self, week: int) -> dt.date:
        return self.scenario.date_of(week)

    def reference_price_per_h100e(self) -> float:
        """List price per H100e of the reference product (cached per price version)."""
        market = self.market
        cached = self._reference_cache
        if cached is None or cached[0] != market.price_version:
            p = self.world.reference_product
            cached = (
                market.price_version,
                float(market.list_price[p] / self.world.products.h100e[p]),
            )
            self._reference_cache = cached
        return cached[1]

    def open_orders(self) -> tuple[np.ndarray, np.ndarray]:
        """Per firm holder: open orders in H100e and at list price (USD); cached per book
        version (any change to the book or to list prices recomputes them)."""
        key = (self.book.version, self.week, self.market.price_version)
        if self._open_cache is None or self._open_cache[0] != key:
            n_h = len(self.world.holder_ids)
            self._open_cache = (
                key,
                *self.book.open_totals(n_h, self.world.products.h100e, self.market.list_price),
            )
        return self._open_cache[1], self._open_cache[2]

    def week_views(self) -> WeekViews:
        """The views buyers read while they decide (:class:`WeekViews`), taken now."""
        open_h100e, open_usd = self.open_orders()
        return WeekViews(
            self.choices(),
            self.installed_h100e().tolist(),
            open_h100e.tolist(),
            open_usd.tolist(),
        )

    def choices(self) -> Choices:
        """Every holder's product shares, implied quote, price and order lines this week
        (see :class:`market_sim.model.choice.Choices`); cached until prices, quotes,
        orderable products or export controls change (they depend on nothing else)."""
        key = (self.market.price_version, self.market.choice_version)
        if self._choice_cache is None or self._choice_cache[0] != key:
            self._choice_cache = (key, choices_for(self.world, self.market))
        return self._choice_cache[1]

    def holder_demand_factor(self, holder: int, week: int) -> float:
        return float(self.events.holder_demand[min(week, self.world.weeks - 1), holder])

    def start_program(
        self, vendor: VendorAgent, week: int, dev_lag_weeks: int, outlay_usd: float
    ) -> None:
        """Start a dormant in-house program (first output after the development lag) and
        book its development outlay, USD."""
        self.supply.start_program(vendor, week, dev_lag_weeks)
        self.market.program_outlays_usd += outlay_usd

    def commit_program(self, vendor: VendorAgent, commitment: float, supply_boost: float) -> None:
        """Set an in-house program's make-or-buy commitment: its owner's weight on its
        chips scaled by 1 + ``commitment``, its contracted supply shares by 1 +
        ``supply_boost``."""
        self.supply.commit_program(vendor, commitment, supply_boost)

    # ------------------------------------------------------------------ closing
    def close(self) -> None:
        """Release what Mesa holds for this model, so that it is freed once the caller
        drops it (idempotent).

        Mesa 3.3 keeps a class-level table of agent id counters keyed by model
        (``mesa.Agent._ids``, Mesa issue 3179): without this every model that ever made
        an agent stays alive with all its agents and arrays. The model and its agents
        still reference one another, so the memory returns at Python's next cyclic
        garbage collection (``gc.collect()``). A closed model keeps its records
        (``timeseries()``, ``agents_frame()``, ``datacollector``) but cannot step, run or
        make agents again: those raise :class:`ModelClosedError`.
        """
        if self.closed:
            return
        self.closed = True
        self.running = False
        ids = getattr(mesa.Agent, "_ids", None)  # gone in Mesa releases with the fix
        if isinstance(ids, dict):
            ids.pop(self, None)

    def __enter__(self) -> GPUMarketModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self.closed:
            raise ModelClosedError(
                f"scenario {self.scenario.simulation.name!r}: this model was closed "
                "(model.close() or the end of its `with` block); its records stay "
                "readable, build a new GPUMarketModel to run again"
            )

    # ------------------------------------------------------------------ the week
    def step(self) -> None:
        """Advance one week. The order below is the model's schedule (docs/ODD.md)."""
        self._check_open()
        w, flows = self.week, self.flows
        self.supply.apply_events(w)  # 1. events: controls, launches, programs
        self.supply.open_week(w)  # 2. capacities, orderable products, books
        flows.arrivals, flows.node_output = self.supply.produce(w)  # 3. plan, start; arrivals
        flows.new_orders = self.trading.place_orders(w)  # 4. orders, cancellations
        flows.market_price = self.trading.clear_and_settle(w)  # 5. every market; settlement
        self.supply.close_week(w, flows.new_orders)  # 6. prices, quotes, investment, programs
        self.holder_record = self.recorder.collect(w)  # 7. outcomes
        self.datacollector.collect(self)
        self.week += 1
        if self.week >= self.world.weeks:
            self.running = False

    def run(self, progress: bool = False) -> pd.DataFrame:
        """Run to the end of the horizon; return the weekly outcome frame.

        Raises :class:`market_sim.outcomes.finite.NonFiniteError` (naming the first column
        and week) if any outcome is NaN or infinite: never a silently wrong frame.
        """
        self._check_open()
        remaining = self.world.weeks - self.week
        if progress:
            from rich.progress import Progress

            with Progress(transient=True) as bar:
                task = bar.add_task(f"Simulating {self.scenario.simulation.name}", total=remaining)
                while self.running:
                    self.step()
                    bar.advance(task)
        else:
            while self.running:
                self.step()
        frame = self.timeseries()
        check_finite(frame, f"scenario {self.scenario.simulation.name!r}")
        return frame

    def timeseries(self) -> pd.DataFrame:
        """The weekly outcomes so far: ``week``, ``date`` and one column per metric key."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.insert(0, "date", pd.to_datetime([self.date_of(w) for w in range(len(frame))]))
        frame.insert(0, "week", np.arange(len(frame), dtype=np.int64))
        return frame.reset_index(drop=True)

    def agent_records(self) -> dict[str, np.ndarray]:
        """The last week's per-firm variables, as phase 7 recorded them (zeros before the
        first week): [firms, variables] arrays by role group."""
        rec = self.recorder
        return {
            "holders": self.holder_record.copy(),
            "vendors": rec.vendor_record.copy(),
            "chipmakers": rec.chipmaker_record.copy(),
        }

    def agents_frame(self) -> pd.DataFrame:
        """Weekly records of the firms (not the startups), tidy: one row per week, firm and
        variable, with columns ``week``, ``date``, ``agent_id``, ``role``, ``variable``,
        ``value`` (units in the variable names). The same records the Mesa way:
        ``model.datacollector.get_agent_vars_dataframe()``."""
        return self.datacollector.tidy(pd.Timestamp(self.scenario.simulation.start_date))

    @property
    def startup_agents(self) -> list[StartupAgent]:
        """Every startup's Mesa agent, in population row order."""
        self._make_startup_agents()
        return self.startups.agents

    # Mesa's views of the agents: the startups' agents are made on first look (see
    # market_sim.agents.startups), so every public way to them makes the missing ones.
    @property
    def agents(self) -> mesa.agent.AgentSet:
        self._make_startup_agents()
        return super().agents

    @agents.setter
    def agents(self, agents: Any) -> None:
        mesa.Model.agents.fset(self, agents)  # Mesa's error: the name is reserved

    @property
    def agent_types(self) -> list[type]:
        self._make_startup_agents()
        return super().agent_types

    @property
    def agents_by_type(self) -> dict[type[mesa.Agent], mesa.agent.AgentSet]:
        self._make_startup_agents()
        return super().agents_by_type

    def remove_all_agents(self) -> None:
        self._make_startup_agents()
        super().remove_all_agents()

    def _make_startup_agents(self) -> None:
        if self.__dict__.get("closed"):
            self._check_open()  # making agents would register the model with Mesa again
        population = self.__dict__.get("startups")
        if population is not None:
            population.agents  # noqa: B018 (the property makes them)

    def fleet_buyers(self) -> list[FleetBuyer]:
        return [h for h in self.holders if isinstance(h, FleetBuyer)]
