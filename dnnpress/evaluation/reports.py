"""Writing an evaluation's reports: JSON, Markdown and plots under ``build/reports/``."""

import json
from pathlib import Path

from . import nets

__all__ = ["pyplot", "write"]


def pyplot():
    """matplotlib's pyplot on the file-only Agg backend (``MissingPackage`` without it)."""
    matplotlib = nets.require("matplotlib", "matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write(result, stem, text, plot, out=None, summary=None):
    """``<stem>.json`` and ``<stem>.md`` and ``plot(result, out)`` into ``out`` (default
    ``build/reports``); print ``summary`` (default ``text``) and what was written."""
    from dnnpress.paths import REPORTS

    out = Path(out or REPORTS)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
    (out / f"{stem}.md").write_text(text + "\n")
    before = set(out.glob("*.png"))
    plot(result, out)
    print(summary if summary is not None else text)
    pngs = sorted(p.name for p in set(out.glob("*.png")) - before) or ["(plots updated)"]
    print(f"\nwrote {out}/{stem}.json, {stem}.md, {', '.join(pngs)}")
    return result
