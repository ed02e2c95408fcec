"""Encoder and decoder back to back in one design, for the round-trip testbench.

Not a product core: it exists so one Icarus simulation runs
:class:`hw.ebpc.encoder.EBPCEncoder` and :class:`hw.ebpc.decoder.EBPCDecoder` side by side at
full rate. The compressed streams leave the design and come back through the testbench, which
plays the memory between them (an unbounded queue per stream): a direct wire from encoder to
decoder would deadlock on sparse data, because the decoder cannot emit a non-zero word before
its BPC block is complete, and the encoder completes a block only after block_size non-zero
words, which may lie thousands of ZNZ codes later (or at the end of the transfer).
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from dnnpress.cores import Core
from hw.ebpc.decoder import EBPCDecoder
from hw.ebpc.encoder import EBPCEncoder
from hw.params import parametrised

__all__ = ["EBPCRoundTrip", "CORE"]


@parametrised
class EBPCRoundTrip(wiring.Component):
    """The encoder's ports (``i_words``, ``o_znz``, ``o_bpc``) and the decoder's (``i_count``,
    ``i_znz``, ``i_bpc``, ``o_words``) under one clock."""

    PARAMS = EBPCDecoder.PARAMS

    def __init__(self, word_bits=8, block_size=8, serial=0):
        self.encoder = EBPCEncoder(word_bits, block_size, serial=serial)
        self.decoder = EBPCDecoder(word_bits, block_size, serial=serial)
        super().__init__({
            "i_words": In(self.encoder.signature.members["i_words"].signature.flip()),
            "o_znz": Out(self.encoder.signature.members["o_znz"].signature),
            "o_bpc": Out(self.encoder.signature.members["o_bpc"].signature),
            "i_count": In(self.decoder.signature.members["i_count"].signature.flip()),
            "i_znz": In(self.decoder.signature.members["i_znz"].signature.flip()),
            "i_bpc": In(self.decoder.signature.members["i_bpc"].signature.flip()),
            "o_words": Out(self.decoder.signature.members["o_words"].signature),
        })

    def elaborate(self, platform):
        m = Module()
        m.submodules.encoder, m.submodules.decoder = self.encoder, self.decoder
        wiring.connect(m, wiring.flipped(self.i_words), self.encoder.i_words)
        wiring.connect(m, self.encoder.o_znz, wiring.flipped(self.o_znz))
        wiring.connect(m, self.encoder.o_bpc, wiring.flipped(self.o_bpc))
        for name in ("i_count", "i_znz", "i_bpc"):
            wiring.connect(m, wiring.flipped(getattr(self, name)), getattr(self.decoder, name))
        wiring.connect(m, self.decoder.o_words, wiring.flipped(self.o_words))
        return m


#: the round trip as a core the runner can emit (not listed by ``dnnpress emit``)
CORE = Core("ebpc-roundtrip", "tb.ebpc_roundtrip:EBPCRoundTrip")
