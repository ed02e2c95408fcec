"""What each core is proved with: the progress bound ``K`` and the induction depths.

``bound``: the most consecutive cycles without a transfer on any port, every output ready and
every input valid (found by covers: ``K`` is reached, ``K + 1`` is not). ``depth``: the
k-induction depth per property (default :data:`DEPTH`); ``cover``: the depth of the covers.
"""

from dataclasses import dataclass, field

__all__ = ["Spec", "SPECS", "DEPTH", "BMC_DEPTH", "UNREACHABLE"]

#: default k-induction depth
DEPTH = 24
#: the depth of the bounded check that stands in where the induction does not close
BMC_DEPTH = 40


@dataclass(frozen=True)
class Spec:
    """``bound``: the progress bound K; ``depth``: property name -> induction depth;
    ``cover``: the cover depth; ``why``: property name -> why its induction does not close;
    ``low``: plain inputs held low for the progress property."""

    bound: int
    depth: dict = field(default_factory=dict)
    cover: int = 40
    why: dict = field(default_factory=dict)
    low: tuple = ()


#: why an induction does not close, where a core's spec says nothing more specific
UNREACHABLE = ("the induction step may start in a state no run from reset reaches (internal "
               "counters, bit-buffer fill levels or FSM states that disagree), which the "
               "property alone does not exclude; no strengthening invariant is written yet")

#: per registered core: K as found by covers (K reached within the cover depth, K + 1 not)
SPECS = {
    "ebpc-encoder": Spec(bound=2),
    "ebpc-decoder": Spec(bound=6, cover=44),
    "noc-weight-decoder": Spec(bound=3),
    "dict-decoder": Spec(bound=14),
    "cluster-cache": Spec(bound=3, low=("flush",)),
    "cluster-entry-decoder": Spec(bound=0),
}
