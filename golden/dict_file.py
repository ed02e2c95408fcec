"""The ``.hcp`` container: one dictionary-compressed tensor in a file.

Layout (integers little-endian)::

    offset  size     field
    0       4        magic  b"HCP0"
    4       1        ndim (0..32)
    5       8*ndim   shape, uint64 each
    ..      8        quantisation scale s (float64): weight = trimmed value x s
    ..      ...      the HC-P v0 stream (:func:`golden.dict_codec.encode`), to the end

N of the stream must equal the product of the shape.
"""

import struct

import numpy as np

from . import dict_codec

__all__ = ["MAGIC", "pack", "unpack"]

MAGIC = b"HCP0"
MAX_NDIM = 32


def pack(shape, scale, stream):
    shape = tuple(int(s) for s in shape)
    if len(shape) > MAX_NDIM:
        raise ValueError(f"at most {MAX_NDIM} dimensions, not {len(shape)}")
    return (MAGIC + struct.pack(f"<B{len(shape)}Qd", len(shape), *shape, float(scale))
            + bytes(stream))


def unpack(blob):
    """``(shape, scale, trimmed int8 array of that shape, header)``; ``ValueError`` saying what
    is wrong for a file that is not an intact ``.hcp``."""
    blob = bytes(blob)
    if blob[:4] != MAGIC:
        raise ValueError(f"not an .hcp file: magic {blob[:4]!r}, expected {MAGIC!r}")
    if len(blob) < 5 or blob[4] > MAX_NDIM:
        raise ValueError("truncated or corrupt .hcp header (ndim)")
    ndim = blob[4]
    end = 5 + 8 * ndim + 8
    if len(blob) < end:
        raise ValueError(f"truncated .hcp header: {len(blob)} bytes, needs {end}")
    *shape, scale = struct.unpack(f"<{ndim}Qd", blob[5:end])
    values, head = dict_codec.decode(blob[end:])
    if head.n != int(np.prod(shape, dtype=np.int64)):
        raise ValueError(f"stream holds {head.n} weights, the shape {tuple(shape)} "
                         f"{int(np.prod(shape, dtype=np.int64))}")
    return tuple(shape), scale, values.reshape(shape), head
