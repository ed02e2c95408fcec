"""What each core is proved with: the progress bound ``K`` and the induction depths.

``bound``: the most consecutive cycles without a transfer on any port, every output ready and
every input valid (found by covers: ``K`` is reached, ``K + 1`` is not). ``reach``, where given:
the progress cover checks that ``reach`` cycles are reached while the proof bounds them by
``bound``, for a core whose exact ``K`` lies between and would take a cover search of hours.
``depth``: the k-induction depth per property (default :data:`DEPTH`); ``cover``: the depth of
the covers.
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
    ``low``: plain inputs held low for the progress property; ``params``: the parameter set
    proved, over the core's defaults (default: the defaults); ``bmc``: the depth of the
    bounded check where an induction does not close (default :data:`BMC_DEPTH`)."""

    bound: int
    depth: dict = field(default_factory=dict)
    cover: int = 40
    why: dict = field(default_factory=dict)
    low: tuple = ()
    params: dict = field(default_factory=dict)
    bmc: int = 0
    reach: int = 0


#: why an induction does not close, where a core's spec says nothing more specific
UNREACHABLE = ("the induction step may start in a state no run from reset reaches (internal "
               "counters, bit-buffer fill levels or FSM states that disagree), which the "
               "property alone does not exclude; no strengthening invariant is written yet")

_CACHE_WHY = ("the induction step may start in a state no run from reset reaches: a queued miss "
              "whose memory request counts as answered, or a queue whose entries disagree with "
              "the property's own count of requests in flight; no strengthening invariant over "
              "the queue is written yet")

#: per registered core: K as found by covers (K reached within the cover depth, K + 1 not)
SPECS = {
    "ebpc-encoder": Spec(bound=2),
    "ebpc-decoder": Spec(bound=6, cover=44),
    "noc-weight-decoder": Spec(bound=3),
    # v1's tables are read a field a cycle (2 to 9 bits): after a stream's last word the buffered
    # bits (up to 96) can take more than 22 cycles without a transfer (covered); the proof bounds
    # them by 32 (bounded, 40 cycles: the induction does not close); K itself lies between
    "dict-decoder": Spec(bound=32, reach=22),
    # a small geometry (the same pipeline and queue, 168 bits of memory contents instead of
    # 9,216); the inductions of progress and answers do not close (_CACHE_WHY) and a bounded
    # check of 40 cycles would take hours (16 cycles: 93 s), so it runs 14 cycles from reset:
    # enough to fill the lookup, the queue and the response register and to answer them twice
    "cluster-cache": Spec(bound=0, low=("flush",), bmc=14,
                          depth={"progress": 12, "answers": 12},
                          why={"progress": _CACHE_WHY, "answers": _CACHE_WHY},
                          params={"sets": 2, "ways": 2, "line_bytes": 4, "addr_width": 8,
                                  "outstanding": 2}),
    "cluster-entry-decoder": Spec(bound=0),
}
