"""Regenerate the documentation that is made from the code: docs/metrics.md (the metric
catalogue) and the parameter table of docs/ODD.md (section 6.1, from the scenario schema).

    python scripts/gen_docs.py          # rewrite them
    python scripts/gen_docs.py --check  # exit 1 if either is out of date (the tests check)
"""

from __future__ import annotations

import sys
from pathlib import Path

from market_sim.outcomes.catalogue import markdown as metrics_markdown
from market_sim.scenario.parameters import END, START, markdown_table

DOCS = Path(__file__).resolve().parents[1] / "docs"


def expected() -> dict[Path, str]:
    odd = (DOCS / "ODD.md").read_text(encoding="utf-8")
    head, _, rest = odd.partition(START)
    _, _, tail = rest.partition(END)
    if not rest:
        raise SystemExit(f"docs/ODD.md has no {START!r} marker")
    return {
        DOCS / "metrics.md": metrics_markdown(),
        DOCS / "ODD.md": head + markdown_table() + tail,
    }


def main(argv: list[str]) -> int:
    stale = []
    for path, text in expected().items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if "--check" not in argv:
                path.write_text(text, encoding="utf-8")
    if "--check" in argv and stale:
        print("out of date: " + ", ".join(str(p) for p in stale) + "; run scripts/gen_docs.py")
        return 1
    for path in stale:
        print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
