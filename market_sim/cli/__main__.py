"""``python -m market_sim.cli``: the same as the ``market-sim`` command."""

from market_sim.cli import entry

entry()
