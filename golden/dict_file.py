"""The ``.hcp`` container: one dictionary-compressed tensor in a file.

Layout, version 2 (integers little-endian)::

    offset  size     field
    0       4        magic  b"HCP2" (the last character is the container version)
    4       1        ndim (0..32)
    5       8*ndim   shape, uint64 each
    ..      1        axis of the scales: 0..ndim-1 (one scale per index along it: per output
                     channel), or 255 (one scale for the tensor)
    ..      8*C      the quantisation scales, float64, finite, > 0 (C = shape[axis], or 1):
                     weight = trimmed value x the scale of its index along the axis
    ..      ...      the HC-P stream, v0 or v1 (:func:`golden.dict_codec.encode`)
    ..      4        CRC-32 of every byte before it (:mod:`golden.crc`), uint32

The scales are beside the stream, not in it: the decoder engine emits the int8 values, and the
scales belong to the requantiser that follows it. N of the stream must equal the product of the
shape. Version 1 files (``HCP1``: no axis byte, one scale) and version 0 files (``HCP0``: as
version 1 without the CRC, the stream running to the end of the file) are still read.
"""

import math
import struct

import numpy as np

from . import crc, dict_codec

__all__ = ["MAGIC", "pack", "unpack"]

MAGIC = b"HCP2"
MAGIC_V1 = b"HCP1"
MAGIC_V0 = b"HCP0"
MAX_NDIM = 32
NO_AXIS = 255


def _check_scales(scales):
    bad = [s for s in scales if not (math.isfinite(s) and s > 0)]
    if bad:
        raise ValueError(f".hcp scale must be a finite number > 0, not {bad[0]!r}")


def pack(shape, scale, stream, axis=None):
    """The bytes of the ``.hcp`` container (version 2) of ``stream`` with ``shape`` and
    ``scale``: one number, or with ``axis`` one per index along that axis of ``shape``.
    ``ValueError`` for more than 32 dimensions, an axis outside the shape, a scale count that
    is not ``shape[axis]``, or a scale that is not finite and positive."""
    shape = tuple(int(s) for s in shape)
    if len(shape) > MAX_NDIM:
        raise ValueError(f"at most {MAX_NDIM} dimensions, not {len(shape)}")
    scales = [float(s) for s in np.ravel(scale)]
    if axis is None:
        if len(scales) != 1:
            raise ValueError(f"{len(scales)} scales need an axis to lie along")
        code = NO_AXIS
    else:
        if not -len(shape) <= axis < len(shape):
            raise ValueError(f"axis {axis} is outside a shape of {len(shape)} dimensions")
        code = axis % len(shape)
        if len(scales) != shape[code]:
            raise ValueError(f"{len(scales)} scales for axis {code} of length {shape[code]}")
    _check_scales(scales)
    return crc.seal(MAGIC + struct.pack(f"<B{len(shape)}QB{len(scales)}d", len(shape), *shape,
                                        code, *scales) + bytes(stream))


def _field(blob, at, fmt, what):
    end = at + struct.calcsize(fmt)
    if len(blob) < end:
        raise ValueError(f"truncated .hcp header ({what}): {len(blob)} bytes, needs {end}")
    return struct.unpack(fmt, blob[at:end]), end


def unpack(blob):
    """``(shape, scale, trimmed int8 array of that shape, header)``; ``scale`` is a float, or
    for per-channel scales a float64 array shaped to broadcast against the values (the axis'
    length there, 1 elsewhere). ``ValueError`` saying what is wrong for a file that is not an
    intact ``.hcp`` (version 0, 1 or 2)."""
    blob = bytes(blob)
    if blob[:4] in (MAGIC, MAGIC_V1):
        blob = crc.unseal(blob, ".hcp")
    elif blob[:4] != MAGIC_V0:
        raise ValueError(f"not an .hcp file: magic {blob[:4]!r}, expected {MAGIC!r} (or "
                         f"{MAGIC_V1!r}, {MAGIC_V0!r})")
    if len(blob) < 5 or blob[4] > MAX_NDIM:
        raise ValueError("truncated or corrupt .hcp header (ndim)")
    ndim = blob[4]
    shape, at = _field(blob, 5, f"<{ndim}Q", "shape")
    axis = NO_AXIS
    if blob[:4] == MAGIC:
        (axis,), at = _field(blob, at, "<B", "axis")
        if axis != NO_AXIS and axis >= ndim:
            raise ValueError(f".hcp scale axis {axis} is outside a shape of {ndim} dimensions")
    count = 1 if axis == NO_AXIS else shape[axis]
    if count > (len(blob) - at) // 8:
        raise ValueError(f"truncated .hcp header (scales): {count} scales do not fit in "
                         f"{len(blob) - at} bytes")
    scales, at = _field(blob, at, f"<{count}d", "scales")
    values, head = dict_codec.decode(blob[at:])
    if head.n != math.prod(shape):
        raise ValueError(f"stream holds {head.n} weights, the shape {tuple(shape)} "
                         f"{math.prod(shape)}")
    _check_scales(scales)
    if axis == NO_AXIS:
        scale = scales[0]
    else:
        scale = np.asarray(scales).reshape([-1 if d == axis else 1 for d in range(ndim)])
    return tuple(shape), scale, values.reshape(shape), head
