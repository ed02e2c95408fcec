"""Off-chip format of clustered weights (``../shared/spec/cluster-index-cache.md`` section 2).

One block per (layer, group), line-aligned: 8-bit entries ``{run[7:4], cidx[3:0]}`` over the
layer's weights in their stored C order. A cursor starts before position 0; an entry moves it
``run + 1`` positions on and places cluster ``cidx`` there. A gap of more than 15 skipped
positions first inserts PAD entries (run 15, cidx 15: the cursor moves 16 on, no weight), so
cidx 15 is reserved and a layer has at most 15 clusters. Blocks end with PAD entries up to the
line boundary. The centroid tables (K x 16 bits per layer) and the cidx -> group map stay on
chip. Layout in memory: the blocks of layer 0 (groups 0, 1, ...), then layer 1, ..., each
starting on a line; addresses are line numbers.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["PAD", "MAX_RUN", "encode_block", "decode_block", "Layout", "layout"]

PAD = 0xFF
MAX_RUN = 15


def encode_block(cidx, group_of, group, line_bytes=16):
    """The block of ``group``: entries of the weights whose cluster is in it, PAD-filled to a
    whole number of lines (at least one)."""
    flat = np.asarray(cidx).reshape(-1)
    if flat.size and flat.max() >= PAD & 0xF:
        raise ValueError(f"cidx must be below {PAD & 0xF} (15 is PAD), got {int(flat.max())}")
    pos = np.flatnonzero(np.asarray(group_of)[flat] == group)
    gaps = np.diff(np.r_[-1, pos]) - 1
    pads = gaps // (MAX_RUN + 1)
    runs = gaps % (MAX_RUN + 1)
    counts = pads + 1
    entries = np.full(int(counts.sum()), PAD, np.uint8)
    last = np.cumsum(counts) - 1                      # each weight's entry follows its PADs
    entries[last] = (runs << 4 | flat[pos]).astype(np.uint8)
    size = max(line_bytes, -(-entries.size // line_bytes) * line_bytes)
    return np.concatenate([entries, np.full(size - entries.size, PAD, np.uint8)]).tobytes()


def decode_block(block, size):
    """``(positions, cidx)`` of a block over a layer of ``size`` weights; ``ValueError`` when
    an entry lands past the layer."""
    e = np.frombuffer(bytes(block), np.uint8).astype(np.int64)
    cursor = np.cumsum((e >> 4) + 1) - 1
    real = e != PAD
    pos, cidx = cursor[real], e[real] & 0xF
    if pos.size and pos[-1] >= size:
        raise ValueError(f"entry at position {int(pos[-1])} past the layer's {size} weights")
    return pos, cidx


@dataclass
class Layout:
    """Where every block is: ``blocks[(layer, group)] = (first line, lines)``; ``memory`` the
    whole image (bytes)."""
    line_bytes: int
    blocks: dict
    memory: bytes

    def lines(self, layer, group):
        first, count = self.blocks[(layer, group)]
        return range(first, first + count)


def layout(layers, line_bytes=16):
    """The memory image of ``layers`` (a list of :class:`golden.cluster.ClusteredLayer`)."""
    blocks, chunks, line = {}, [], 0
    for i, cl in enumerate(layers):
        for g in range(cl.groups):
            b = encode_block(cl.cidx, cl.group_of, g, line_bytes)
            blocks[(i, g)] = (line, len(b) // line_bytes)
            chunks.append(b)
            line += len(b) // line_bytes
    return Layout(line_bytes, blocks, b"".join(chunks))
