"""The explorer page: Mesa's SolaraViz around an :class:`ExplorerModel`.

Solara imports this module (``market_sim.explore.app:Page``) when the server started by
:func:`market_sim.explore.server.serve` gets its first visitor; each browser tab gets its
own model. The sidebar holds SolaraViz's controls (Reset, ▶ play/pause, Step, the play
and render intervals) and the model parameters: the source (a scenario file or a run
folder), the seed and the controls of :mod:`market_sim.explore.controls`.
"""

from __future__ import annotations

from typing import Any

import solara
from mesa.visualization import SolaraViz

from market_sim.explore.charts import COMPONENTS
from market_sim.explore.model import ExplorerModel, default_controls
from market_sim.explore.server import configured

PLAY_INTERVAL_MS = 50
"""Pause between weeks while playing, milliseconds (a week steps in a few ms)."""


def model_params(source: str, fixed: list[str]) -> dict[str, Any]:
    """SolaraViz's model parameters: the inputs, then the fixed ``--set`` overrides."""
    params: dict[str, Any] = {
        "source": {
            "type": "InputText",
            "label": "Scenario file or run folder (empty: the packaged baseline)",
            "value": source,
        },
        "seed": {"type": "InputText", "label": "Seed (empty: the scenario's)", "value": ""},
    }
    params.update({c.name: c.widget for c in default_controls(source, fixed)})
    params["fixed"] = list(fixed)
    return params


@solara.component
def Page() -> None:
    source, fixed = configured()
    params = solara.use_memo(lambda: model_params(source, fixed), [])
    model = solara.use_memo(lambda: ExplorerModel(source, "", fixed), [])
    SolaraViz(
        model,
        components=COMPONENTS,
        model_params=params,
        name="market_sim explorer",
        play_interval=PLAY_INTERVAL_MS,
    )
