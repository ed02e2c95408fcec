"""Yosys synthesis flow of the dnnpress cores: area in GE, logic depth, 180 nm timing, iCE40.

``synth.main(argv)`` is the command line (:mod:`synth.cli`: configurations side by side, results
cached in ``build/synth/cache/``); :func:`render_markdown` renders the report tables
(``python -m synth.readme`` puts them into ``docs/synthesis.md``); ``python -m synth.tools``
installs the tools. The submodules are imported on first use, so ``python -m synth.tools``
imports no HDL.
"""

__all__ = ["main", "render_markdown"]


def main(argv=None):
    """The ``synth`` command line: see :func:`synth.cli.main`."""
    from .cli import main as cli_main

    return cli_main(argv)


def render_markdown(results, level=2):
    """The Markdown report of ``results``: see :func:`synth.report.render_markdown`."""
    from .report import render_markdown as render

    return render(results, level)
