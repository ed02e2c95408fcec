"""The CRC-32 trailer of the file containers (``.ebpc`` from version 2, ``.hcp`` from version 1).

The last 4 bytes of a file are the CRC-32 (:func:`zlib.crc32`, the polynomial of zip and PNG),
little-endian, of every byte before them: the header as well as the streams, so a changed shape
or length is caught as surely as a changed stream bit. Any error burst of up to 32 bits is
detected; other corruptions pass with probability 2**-32.
"""

import struct
import zlib

__all__ = ["seal", "unseal"]


def seal(body):
    """``body`` followed by its CRC-32."""
    body = bytes(body)
    return body + struct.pack("<I", zlib.crc32(body))


def unseal(data, what):
    """``data`` without its CRC-32 trailer.

    Raises
    ------
    ValueError
        ``"<what> file is corrupt: ..."`` if the trailer is missing or does not match.
    """
    data = bytes(data)
    if len(data) < 4:
        raise ValueError(f"truncated {what} file: {len(data)} bytes, no room for its CRC-32")
    body, (stored,) = data[:-4], struct.unpack("<I", data[-4:])
    crc = zlib.crc32(body)
    if crc != stored:
        raise ValueError(f"{what} file is corrupt: the CRC-32 of its first {len(body)} bytes is "
                         f"{crc:08x}, its last 4 bytes say {stored:08x}")
    return body
