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
    """``<stem>.json`` and ``<stem>.md`` and ``plot(result, folder)``'s files into ``out``
    (default ``build/reports``), all at once (:func:`dnnpress.outputs.write_folder`: nothing
    half-written); print ``summary`` (default ``text``) and what was written."""
    from dnnpress import outputs
    from dnnpress.paths import REPORTS

    out = outputs.check_folder(Path(out or REPORTS))

    def files(tmp):
        (tmp / f"{stem}.json").write_text(json.dumps(result, indent=1) + "\n")
        (tmp / f"{stem}.md").write_text(text + "\n")
        plot(result, tmp)

    written = outputs.write_folder(out, files)
    print(summary if summary is not None else text)
    print(f"\nwrote {out}/: {', '.join(p.name for p in written)}")
    return result
