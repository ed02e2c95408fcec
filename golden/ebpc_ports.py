"""How the spec's EBPC byte streams sit on the RTL stream ports (pure Python).

A port word carries ``words_per_port`` stream words of ``word_bits`` bits, big-endian, the first
in the high bits; ``last`` marks the final port word of a transfer. With two stream words per
port word, ``half`` marks a final port word whose low half is not part of the stream (its bits
are don't-care). An empty stream occupies no port word at all.
"""

__all__ = ["port_words", "stream_bytes", "transfer_words"]


def port_words(stream, word_bits=8, words_per_port=1):
    """The port payloads (dicts ``data``, ``last`` and, for two words per port, ``half``)."""
    step = word_bits // 8 * words_per_port
    stream = bytes(stream)
    out = []
    for i in range(0, len(stream), step):
        chunk = stream[i:i + step]
        item = {"data": int.from_bytes(chunk.ljust(step, b"\0"), "big"),
                "last": int(i + step >= len(stream))}
        if words_per_port > 1:
            item["half"] = int(len(chunk) < step)
        out.append(item)
    return out


def stream_bytes(payloads, word_bits=8, words_per_port=1):
    """The byte stream of one transfer's port payloads (inverse of :func:`port_words`)."""
    step = word_bits // 8 * words_per_port
    return b"".join(d["data"].to_bytes(step, "big")[:step // words_per_port if d.get("half")
                                                    else None] for d in payloads)


def transfer_words(words, word_bits=8):
    """Input payloads of one transfer: ``data`` as unsigned ``word_bits`` bits, ``last`` on the
    final word."""
    mask = (1 << word_bits) - 1
    return [{"data": int(w) & mask, "last": int(i == len(words) - 1)}
            for i, w in enumerate(words)]
