"""Where things are: the repository, its build folder, and ``../shared`` (not part of the repo)."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build"
REPORTS = BUILD / "reports"
#: read-only reference material beside the repository; ``DNNPRESS_SHARED`` overrides
SHARED = Path(os.environ.get("DNNPRESS_SHARED", REPO.parent / "shared"))


def shared(relative):
    """Path of ``relative`` under :data:`SHARED`; ``FileNotFoundError`` saying where it looked."""
    path = SHARED / relative
    if not path.exists():
        raise FileNotFoundError(f"{relative} not found: looked for {path} (the shared reference "
                                f"folder beside the repository; set DNNPRESS_SHARED to move it)")
    return path


def bench_report(core, reports=REPORTS):
    """Where ``make bench`` writes the words/cycle of ``core``: ``reports/<core_name>.json``."""
    return Path(reports) / f"{core.replace('-', '_')}.json"
