"""The interactive explorer: ``market-sim explore [SCENARIO | RUN_DIR]``.

A Mesa SolaraViz page served on localhost (:mod:`.server`), working offline: parameter
controls (:mod:`.controls`), step / play / reset, live charts of the run report's main
series and the supply graph (:mod:`.charts`), over a live model or a stored run replayed
week by week (:mod:`.model`). Needs the ``viz`` extra (``pip install -e ".[viz]"``).
Reading: docs/explore.md.
"""
