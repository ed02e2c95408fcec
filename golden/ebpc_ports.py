"""How the spec's EBPC byte streams sit on the RTL stream ports: moved to :mod:`tb.streamdata`
(the one module that packs data onto ports); these names remain for the tests that import them
from here."""

from tb.streamdata import port_words, stream_bytes, transfer_words

__all__ = ["port_words", "stream_bytes", "transfer_words"]
