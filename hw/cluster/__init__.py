"""Cluster-index cache and entry decoder (CRANIA-style)."""

from ..params import Param

__all__ = ["LINE_BYTES", "GROUP_BITS"]

#: line widths both cluster components take, in bytes (one entry per byte)
LINE_BYTES = (4, 8, 16, 32)
#: the importance-group width both cluster components take
GROUP_BITS = Param("group_bits", (1, 2, 3), "width of the importance group")
