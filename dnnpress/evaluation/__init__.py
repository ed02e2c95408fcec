"""Evaluations on real networks and data (``dnnpress eval``); need the ``eval`` extra."""
