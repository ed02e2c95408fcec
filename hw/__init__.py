"""Amaranth HDL components of the dnnpress cores."""
