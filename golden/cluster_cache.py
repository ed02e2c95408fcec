"""The cluster-index cache (``../shared/spec/cluster-index-cache.md`` section 3), as a model:
read-only, set-associative, lines of cluster-index entries tagged with their importance group.

Policies on a miss (ties always to the lowest way):

- ``pinned`` (importance-pinned with bypass): fill an invalid way, else replace a way of the
  least important group present if it is strictly less important than the request's (larger
  g), else bypass: forward the line without allocating;
- ``lru``: fill an invalid way, else replace the least recently used (hits and fills count
  as uses);
- ``least-important``: fill an invalid way, else replace a way of the least important group
  present, even if it is more important than the request's.
"""

from dataclasses import dataclass, field

__all__ = ["POLICIES", "HIT", "MISS", "BYPASS", "CacheModel", "Counters"]

POLICIES = ("pinned", "lru", "least-important")
HIT, MISS, BYPASS = "hit", "miss", "bypass"


@dataclass
class Counters:
    hits: int = 0
    misses: int = 0
    bypasses: int = 0
    memory_bytes: int = 0


@dataclass
class CacheModel:
    """``sets`` x ``ways`` lines of ``line_bytes``; ``access`` returns the outcome."""
    sets: int
    ways: int
    line_bytes: int = 16
    policy: str = "pinned"
    counters: Counters = field(default_factory=Counters)

    def __post_init__(self):
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not "
                             f"{self.policy!r}")
        if self.sets < 1 or self.sets & (self.sets - 1):
            raise ValueError(f"sets must be a power of two >= 1, not {self.sets}")
        if self.ways < 1:
            raise ValueError(f"ways must be >= 1, not {self.ways}")
        self.flush()

    @property
    def bytes(self):
        return self.sets * self.ways * self.line_bytes

    def flush(self):
        """Invalidate every line (counters stay)."""
        self.valid = [[False] * self.ways for _ in range(self.sets)]
        self.tag = [[0] * self.ways for _ in range(self.sets)]
        self.group = [[0] * self.ways for _ in range(self.sets)]
        self.age = [list(range(self.ways)) for _ in range(self.sets)]   # 0 = most recent

    def _touch(self, s, w):
        old = self.age[s][w]
        self.age[s] = [a + 1 if a < old else a for a in self.age[s]]
        self.age[s][w] = 0

    def victim(self, s, group):
        """The way a miss of ``group`` in set ``s`` fills, or None to bypass."""
        ways = range(self.ways)
        for w in ways:
            if not self.valid[s][w]:
                return w
        if self.policy == "lru":
            return max(ways, key=lambda w: (self.age[s][w], -w))
        worst = max(self.group[s])
        if self.policy == "pinned" and worst <= group:
            return None
        return min(w for w in ways if self.group[s][w] == worst)

    def access(self, line, group):
        """Look ``line`` (a line address) of ``group`` up; update state and counters."""
        s, tag = line % self.sets, line // self.sets
        c = self.counters
        for w in range(self.ways):
            if self.valid[s][w] and self.tag[s][w] == tag:
                self._touch(s, w)
                c.hits += 1
                return HIT
        c.memory_bytes += self.line_bytes
        w = self.victim(s, group)
        if w is None:
            c.bypasses += 1
            return BYPASS
        self.valid[s][w], self.tag[s][w], self.group[s][w] = True, tag, group
        self._touch(s, w)
        c.misses += 1
        return MISS
