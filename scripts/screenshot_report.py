"""Screenshot a report's first screen in headless Chromium (the system's, via playwright).

Usage: python scripts/screenshot_report.py RUN_DIR_OR_HTML OUT.png [--full-page]

RUN_DIR_OR_HTML is a run (or comparison) folder holding report.html, or an HTML file.
Prints console errors (if any) and the number of charts drawn; exit 1 if a chart did not
draw or the page logged an error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from market_sim.report.browser import check_report, screenshot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="run folder or report HTML file")
    parser.add_argument("out", type=Path, help="PNG file to write")
    parser.add_argument("--full-page", action="store_true", help="the whole page, not one screen")
    args = parser.parse_args(argv)
    html = args.report / "report.html" if args.report.is_dir() else args.report
    if not html.is_file():
        print(f"{html}: not found", file=sys.stderr)
        return 2
    errors = screenshot(html, args.out, full_page=args.full_page)
    check = check_report(html)
    for e in errors + check.errors:
        print(f"console error: {e}", file=sys.stderr)
    print(f"{args.out}: screenshot of {html}; {check.drawn}/{check.charts} charts drawn")
    return 0 if not (errors or check.errors) and check.drawn == check.charts else 1


if __name__ == "__main__":
    sys.exit(main())
