"""GPUMarketModel: the weekly agent-based model of the AI-accelerator supply chain.

Mesa idioms: agents are ``mesa.Agent`` subclasses (one class per role) held in the
model's AgentSet; a ``mesa.DataCollector`` records one row of outcomes per week whose
columns are the metric keys of shared/data/README.md; ``model.rng`` drives all
randomness. The step order is written once, in :meth:`GPUMarketModel.step`, and mirrored
in docs/ODD.md.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import mesa
import numpy as np
import pandas as pd

from market_sim.agents.buyers import (
    EnterpriseAgent,
    FleetBuyer,
    HyperscalerAgent,
    target_path,
)
from market_sim.agents.chipmaker import ChipmakerAgent
from market_sim.agents.neocloud import NeocloudAgent
from market_sim.agents.startups import StartupAgent, StartupPopulation
from market_sim.agents.vendor import Vendor
from market_sim.model.choice import Choices, choices_for
from market_sim.model.events import compile_events
from market_sim.model.world import World, allowed_matrix, build_world
from market_sim.scenario import Scenario, load_scenario, scenario_from_dict
from market_sim.supply import build_graph

MAX_TIER = 9
"""Priority tiers run from 0 (startups) to this."""
STANDARD_TIER = 1
"""Tier of a 'new standard order': the quote reported as ``lead_time_weeks@PRODUCT``."""

_HOLDER_CLASSES = {
    "hyperscaler": HyperscalerAgent,
    "enterprise": EnterpriseAgent,
    "neocloud": NeocloudAgent,
}


def resolve_scenario(
    scenario: Scenario | str | Path | Mapping[str, Any],
    overrides: Iterable[str] | str = (),
    dotted: Mapping[str, Any] | None = None,
) -> Scenario:
    """A validated scenario from an object, a file path or a mapping, with overrides.

    ``overrides`` are ``path=value`` strings (a single string may hold several separated
    by ``;``); ``dotted`` maps dotted paths to Python values (``{"policy.allocation":
    "auction"}``), as keyword arguments to the model and ``mesa.batch_run`` give them.
    """
    if isinstance(overrides, str):
        overrides = [o for o in overrides.split(";") if o.strip()]
    items = list(overrides) + [f"{k}={_toml_literal(v)}" for k, v in (dotted or {}).items()]
    if isinstance(scenario, Scenario):
        if not items:
            return scenario
        scenario = scenario.model_dump(mode="json", by_alias=True)
    if isinstance(scenario, Mapping):
        from market_sim.scenario.errors import ScenarioError
        from market_sim.scenario.loader import RawScenario, apply_overrides, validate

        raw = RawScenario(json.loads(json.dumps(scenario, default=str)), "<scenario>")
        problems = apply_overrides(raw, items)
        if problems:
            raise ScenarioError(problems)
        return validate(raw) if items else scenario_from_dict(raw.data)
    return load_scenario(scenario, items)


def _toml_literal(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(value)


class GPUMarketModel(mesa.Model):
    """The AI-accelerator market, one step per week.

    Args:
        scenario: a :class:`Scenario`, a path to a scenario file, or scenario data.
        seed: random seed (default: the scenario's ``simulation.seed``).
        rng: a numpy Generator or seed, as ``mesa.Model`` takes it (instead of seed).
        overrides: ``path=value`` strings, as ``--set`` takes them.
        startup_mode: ``"kernel"`` (numba, the default) or ``"agents"`` (each startup
            stepped in Python: the oracle and benchmark baseline).
        **dotted: further overrides as keyword arguments, ``**{"policy.allocation":
            "auction"}``; this is how ``mesa.batch_run`` sweeps scenario values.
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | Mapping[str, Any] = "scenarios/baseline.toml",
        seed: int | None = None,
        rng: Any = None,
        overrides: Sequence[str] | str = (),
        startup_mode: str = "kernel",
        **dotted: Any,
    ):
        scenario = resolve_scenario(scenario, overrides, dotted)
        if seed is None and rng is None:
            seed = scenario.simulation.seed
        super().__init__(seed=seed, rng=rng)
        self.seed_used = seed
        self.scenario = scenario
        self.world: World = build_world(scenario)
        self.events = compile_events(self.world)
        self.week = 0
        self._init_state()
        self._init_agents(startup_mode)
        from market_sim.model.accounts import Accounts
        from market_sim.model.metrics import metric_keys

        self.accounts = Accounts(self)
        self._prime_pipelines()
        self.accounts.primed_units = sum(
            float(p.sum()) for v in self.vendors for p in v.pipeline.values()
        )
        keys = metric_keys(self)
        self.metrics: dict[str, float] = dict.fromkeys(keys, 0.0)
        self.datacollector = MetricsCollector(
            model_reporters={k: functools.partial(_read_metric, key=k) for k in keys},
        )

    # ------------------------------------------------------------------ set-up
    def _init_state(self) -> None:
        w, s = self.world, self.scenario
        pr = w.products
        n_p, n_h = len(pr), len(w.holder_ids)
        self.list_price = pr.initial_list_price_usd.copy()
        self.launch_week = pr.launch_week.copy()
        for p, week in self.events.launch_week.items():
            self.launch_week[p] = week
        dormant = [v for v, spec in enumerate(w.vendor_specs) if spec.dormant]
        for p in range(n_p):
            if pr.vendor[p] in dormant:
                self.launch_week[p] = np.iinfo(np.int64).max // 4
        self.fleet = np.zeros((n_h, n_p))  # units bought during the run
        self.legacy_h100e = np.array([h.initial_fleet_h100e for h in w.holder_specs])
        self.aggregate = np.array([h.aggregate for h in w.holder_specs], dtype=bool)
        self.graph = build_graph(s, 0)  # vendor-to-buyer edges say who may get what
        self.allowed = allowed_matrix(self.graph, w)
        self.desired_path = np.zeros((n_h, w.weeks + 1))
        for h, spec in enumerate(w.holder_specs):
            if hasattr(spec, "fleet_targets"):
                base = target_path(spec, s, w.weeks)
                growth = np.diff(base) * self.events.holder_demand[:, h]
                self.desired_path[h] = base[0] + np.concatenate([[0.0], np.cumsum(growth)])
        self.initial_lead_weeks = float(s.policy.initial_lead_weeks)
        self.quotes = np.full((n_p, MAX_TIER + 1), round(self.initial_lead_weeks))
        self.orderable = np.zeros(n_p, dtype=bool)
        self.rental_price = float(s.economics.initial_rental_usd_per_gpu_hour)
        self.spot_price = self.reference_price_per_h100e()
        self.cancelled_h100e = np.zeros(n_h)
        self._open_cache = None
        self._price_version = 0
        self._installed_cache = None
        self._fleet_version = 0
        self._choice_cache = None
        self._choice_version = 0  # bump when orderable, allowed or quotes change
        self._years = np.array([s.date_of(w).year for w in range(w.weeks + 1)])
        self.program_outlays_usd = 0.0
        from market_sim.model.book import OrderBook

        self.book = OrderBook()

    def _init_agents(self, startup_mode: str) -> None:
        w = self.world
        self.chipmakers = [
            ChipmakerAgent(self, node, j, w.node_capacity[:, j])
            for j, node in enumerate(self.scenario.supply.nodes)
        ]
        self.vendors = [
            Vendor(self, spec, v, [int(p) for p in np.flatnonzero(w.products.vendor == v)])
            for v, spec in enumerate(w.vendor_specs)
        ]
        self.vendor_by_id = {v.vendor_id: v for v in self.vendors}
        self.holders = [
            _HOLDER_CLASSES[spec.role](self, spec, h, int(w.holder_class[h]))
            for h, spec in enumerate(w.holder_specs)
        ]
        hours = self.scenario.economics.hours_per_week
        self.startups = StartupPopulation(self, self.scenario.startups, hours, startup_mode)
        # every product's pipeline is a view into one array, laid out as the clearing
        # kernels take it (product p owns pipelines[pipeline_offsets[p]:...[p + 1]])
        lengths = [int(c) for c in w.products.cycle_weeks]
        self.pipeline_offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.pipelines = np.zeros(int(self.pipeline_offsets[-1]))
        for vendor in self.vendors:
            for p in vendor.products:
                lo, hi = self.pipeline_offsets[p], self.pipeline_offsets[p + 1]
                vendor.pipeline[p] = self.pipelines[lo:hi]

    def _prime_pipelines(self) -> None:
        """Fill vendors' pipelines with the production in flight at the start.

        See :func:`market_sim.model.production.initial_start_rates`: slot k (arriving in k+1
        weeks) gets a rate linear from ``near`` to ``far``, if the product's output window
        has opened by then.
        """
        from market_sim.model.production import initial_start_rates

        near, far = initial_start_rates(self)
        pr = self.world.products
        for vendor in self.vendors:
            for p in vendor.products:
                pipe = vendor.pipeline[p]
                n = len(pipe)
                for k in range(n):
                    if self.launch_week[p] <= k + 1 <= pr.end_week[p]:
                        pipe[k] = near[p] + (far[p] - near[p]) * (k + 1) / n
                vendor.pipeline_total[p] = float(pipe.sum())
                vendor.forecast[p] = near[p]
                vendor.throughput[p] = near[p]
                vendor.start_rate[p] = far[p]

    # ------------------------------------------------------------------ helpers
    def year_of(self, week: int) -> int:
        """Calendar year in which a week starts."""
        if 0 <= week < len(self._years):
            return int(self._years[week])
        return self.scenario.date_of(week).year

    def installed_h100e(self) -> np.ndarray:
        """Per firm holder: installed compute, H100e (cached until a fleet changes)."""
        if self._installed_cache is None or self._installed_cache[0] != self._fleet_version:
            value = self.legacy_h100e + self.fleet @ self.world.products.h100e
            self._installed_cache = (self._fleet_version, value)
        return self._installed_cache[1]

    def fleets_changed(self) -> None:
        """Invalidate cached holdings (call after changing ``fleet`` or ``legacy_h100e``)."""
        self._fleet_version += 1

    def date_of(self, week: int) -> dt.date:
        return self.scenario.date_of(week)

    def reference_price_per_h100e(self) -> float:
        """List price per H100e of the reference product (H100 if present, else first)."""
        ids = self.world.products.ids
        p = ids.index("H100") if "H100" in ids else 0
        return float(self.list_price[p] / self.world.products.h100e[p])

    def open_orders(self) -> tuple[np.ndarray, np.ndarray]:
        """Per firm holder: open orders in H100e and at list price (USD); cached per book
        version (any change to the book or to list prices recomputes them)."""
        key = (self.book.version, self.week, self._price_version)
        if self._open_cache is None or self._open_cache[0] != key:
            n_h = len(self.world.holder_ids)
            self._open_cache = (
                key,
                *self.book.open_totals(n_h, self.world.products.h100e, self.list_price),
            )
        return self._open_cache[1], self._open_cache[2]

    def choices(self) -> Choices:
        """Every holder's product shares, implied quote, price and order lines this week
        (see :class:`market_sim.model.choice.Choices`); cached until prices, quotes,
        orderable products or export controls change."""
        key = (self.week, self._price_version, self._choice_version)
        if self._choice_cache is None or self._choice_cache[0] != key:
            self._choice_cache = (key, choices_for(self))
        return self._choice_cache[1]

    def holder_demand_factor(self, holder: int, week: int) -> float:
        return float(self.events.holder_demand[min(week, self.world.weeks - 1), holder])

    def start_program(self, vendor: Vendor, week: int, dev_lag_weeks: int) -> None:
        """Start a dormant in-house program: first output after the development lag."""
        vendor.active = True
        pr = self.world.products
        for p in vendor.products:
            self.launch_week[p] = max(int(pr.launch_week[p]), week + dev_lag_weeks)

    # ------------------------------------------------------------------ the week
    def step(self) -> None:
        """Advance one week. The order below is the model's schedule (docs/ODD.md)."""
        from market_sim.model import production, trading

        w = self.week
        production.apply_events(self, w)  # 1. events: controls, launches, programs
        production.open_week(self, w)  # 2. capacities, orderable products, books
        production.produce(self, w)  # 3. plan, allocate inputs, start; arrivals
        trading.place_orders(self, w)  # 4. buyers' and startups' orders, cancellations
        trading.clear_and_settle(self, w)  # 5. all markets in one kernel call; settle
        production.close_week(self, w)  # 6. prices, forecasts, quotes, investment, programs
        from market_sim.model.metrics import collect_metrics

        self.metrics = collect_metrics(self, w)  # 7. outcomes of the week
        self.datacollector.collect(self)
        self.week += 1
        if self.week >= self.world.weeks:
            self.running = False

    def run(self, progress: bool = False) -> pd.DataFrame:
        """Run to the end of the horizon; return the weekly outcome frame."""
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
        return self.timeseries()

    def timeseries(self) -> pd.DataFrame:
        """The weekly outcomes so far: ``week``, ``date`` and one column per metric key."""
        frame = self.datacollector.get_model_vars_dataframe()
        frame.insert(0, "date", pd.to_datetime([self.date_of(w) for w in range(len(frame))]))
        frame.insert(0, "week", np.arange(len(frame), dtype=np.int64))
        return frame.reset_index(drop=True)

    def agent_records(self) -> dict[str, np.ndarray]:
        """This week's per-firm variables: [firms, variables] arrays by role group."""
        return {
            "holders": self.holder_record.copy(),
            "vendors": np.array(
                [
                    [v.revenue_usd, v.cogs_usd, v.sales_usd, float(sum(v.inventory.values()))]
                    for v in self.vendors
                ]
            ),
            "chipmakers": np.array(
                [[c.capacity, c.used, c.expansion, c.utilisation] for c in self.chipmakers]
            ),
        }

    def agents_frame(self) -> pd.DataFrame:
        """Weekly records of the firms (not the startups), tidy: one row per week, firm and
        variable, with columns ``week``, ``date``, ``agent_id``, ``role``, ``variable``,
        ``value`` (units in the variable names)."""
        from market_sim.model.metrics import AGENT_VARIABLES

        weeks = self.datacollector.agent_weeks
        ids = {
            "holders": [(h.firm_id, h.role) for h in self.holders],
            "vendors": [(v.vendor_id, "vendor") for v in self.vendors],
            "chipmakers": [(c.node_id, c.kind) for c in self.chipmakers],
        }
        parts = []
        for group, names in AGENT_VARIABLES.items():
            if not weeks or not ids[group]:
                continue
            cube = np.stack([w[group] for w in weeks])  # [week, firm, variable]
            n_w, n_f, n_v = cube.shape
            parts.append(
                pd.DataFrame(
                    {
                        "week": np.repeat(np.arange(n_w), n_f * n_v),
                        "agent_id": np.tile(np.repeat([i for i, _ in ids[group]], n_v), n_w),
                        "role": np.tile(np.repeat([r for _, r in ids[group]], n_v), n_w),
                        "variable": np.tile(list(names), n_w * n_f),
                        "value": cube.reshape(-1).astype(float),
                    }
                )
            )
        cols = ["week", "date", "agent_id", "role", "variable", "value"]
        if not parts:
            return pd.DataFrame(columns=cols)
        frame = pd.concat(parts, ignore_index=True)
        start = pd.Timestamp(self.scenario.simulation.start_date)
        frame["date"] = start + pd.to_timedelta(frame["week"] * 7, unit="D")
        return (
            frame[cols]
            .sort_values(["week", "agent_id", "variable"], kind="stable")
            .reset_index(drop=True)
        )

    @property
    def startup_agents(self) -> list[StartupAgent]:
        """Every startup's Mesa agent, in population row order."""
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
        population = self.__dict__.get("startups")
        if population is not None:
            population.agents  # noqa: B018 (the property makes them)

    def fleet_buyers(self) -> list[FleetBuyer]:
        return [h for h in self.holders if isinstance(h, FleetBuyer)]


def _read_metric(model: GPUMarketModel, key: str) -> float:
    return model.metrics[key]


class MetricsCollector(mesa.DataCollector):
    """A ``mesa.DataCollector`` for a model that computes its week's outcomes at once.

    The model reporters are declared as usual (one per metric key, so
    ``get_model_vars_dataframe`` and ``mesa.batch_run`` work unchanged), but ``collect``
    reads the week's values from ``model.metrics`` in one pass instead of calling ~400
    reporters and deep-copying each float. It also keeps the week's per-firm records
    (``model.agent_records()``), from which ``model.agents_frame()`` is built: a few arrays
    a week instead of Mesa's per-agent reporter calls.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.agent_weeks: list[dict[str, np.ndarray]] = []

    def collect(self, model: mesa.Model) -> None:
        metrics = model.metrics
        for key, values in self.model_vars.items():
            values.append(metrics[key])
        self.agent_weeks.append(model.agent_records())
