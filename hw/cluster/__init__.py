"""Cluster-index cache and entry decoder (CRANIA-style)."""

__all__ = ["check_params"]


def check_params(**params):
    """``ValueError`` for the first ``name=(value, allowed)`` whose value is not allowed."""
    for name, (value, allowed) in params.items():
        if value not in allowed:
            shown = (f"{allowed.start}..{allowed.stop - 1}" if isinstance(allowed, range)
                     else ", ".join(map(str, allowed)))
            raise ValueError(f"{name} must be one of {shown}, not {value!r}")
