"""The ``.hcp`` container: one dictionary-compressed tensor in a file.

Layout, version 1 (integers little-endian)::

    offset  size     field
    0       4        magic  b"HCP1" (the last character is the container version)
    4       1        ndim (0..32)
    5       8*ndim   shape, uint64 each
    ..      8        quantisation scale s (float64, finite, > 0): weight = trimmed value x s
    ..      ...      the HC-P v0 stream (:func:`golden.dict_codec.encode`)
    ..      4        CRC-32 of every byte before it (:mod:`golden.crc`), uint32

N of the stream must equal the product of the shape. Version 0 files (magic b"HCP0", no CRC:
the stream runs to the end of the file) are still read.
"""

import math
import struct

from . import crc, dict_codec

__all__ = ["MAGIC", "pack", "unpack"]

MAGIC = b"HCP1"
MAGIC_V0 = b"HCP0"
MAX_NDIM = 32


def _check_scale(scale):
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f".hcp scale must be a finite number > 0, not {scale!r}")


def pack(shape, scale, stream):
    """The bytes of the ``.hcp`` container (version 1) of ``stream`` with ``shape`` and
    ``scale``; ``ValueError`` for more than 32 dimensions or a scale that is not finite and
    positive."""
    shape = tuple(int(s) for s in shape)
    if len(shape) > MAX_NDIM:
        raise ValueError(f"at most {MAX_NDIM} dimensions, not {len(shape)}")
    _check_scale(float(scale))
    return crc.seal(MAGIC + struct.pack(f"<B{len(shape)}Qd", len(shape), *shape, float(scale))
                    + bytes(stream))


def unpack(blob):
    """``(shape, scale, trimmed int8 array of that shape, header)``; ``ValueError`` saying what
    is wrong for a file that is not an intact ``.hcp`` (version 0 or 1)."""
    blob = bytes(blob)
    if blob[:4] == MAGIC:
        blob = crc.unseal(blob, ".hcp")
    elif blob[:4] != MAGIC_V0:
        raise ValueError(f"not an .hcp file: magic {blob[:4]!r}, expected {MAGIC!r} (or "
                         f"{MAGIC_V0!r})")
    if len(blob) < 5 or blob[4] > MAX_NDIM:
        raise ValueError("truncated or corrupt .hcp header (ndim)")
    ndim = blob[4]
    end = 5 + 8 * ndim + 8
    if len(blob) < end:
        raise ValueError(f"truncated .hcp header: {len(blob)} bytes, needs {end}")
    *shape, scale = struct.unpack(f"<{ndim}Qd", blob[5:end])
    values, head = dict_codec.decode(blob[end:])
    if head.n != math.prod(shape):
        raise ValueError(f"stream holds {head.n} weights, the shape {tuple(shape)} "
                         f"{math.prod(shape)}")
    _check_scale(scale)
    return tuple(shape), scale, values.reshape(shape), head
