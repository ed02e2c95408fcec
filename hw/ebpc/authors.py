"""The EBPC authors' RTL measured in this package's own flow (plain data): the yardstick.

pulp-platform/stream-ebpc, newest commit (b1dc45b, 2020-07-14), package defaults: 8-bit words
(``LOG_DATA_W`` 3), ``BLOCK_SIZE`` 8, zero runs up to 16, ``LOG_MAX_WORDS`` 24, the one-entry
``fifo_slice`` in the encoder's sequence coder and the decoder's buffer. Its SystemVerilog was
converted to a flattened Verilog netlist (Yosys 0.70, ``proc; opt_clean; flatten``, after
mechanical edits) and then measured exactly like our emitted Verilog:

- **Area**: Debian Yosys 0.23, ``synth -top TOP -flatten; dfflibmap; abc; opt_clean; stat``
  against the NanGate45-ratio Liberty of :mod:`synth.liberty` (the method of ``synth/``). The
  authors' flip-flops have an asynchronous reset (DFFR, 6.67 GE each); ours are plain D
  flip-flops behind synchronous reset logic (5.67 GE).
- **Throughput**: the cocotb driver of ``make bench`` (:func:`tb.harness.throughput_bench`) in
  Icarus, two back-to-back 2048-word transfers per data kind, every valid / ready high, words /
  (cycle of the last output word - cycle of the first accepted input + 1); the outputs were
  byte-identical to ``golden.ebpc``.

Unlike :mod:`hw.ebpc.paper` (Synopsys DC on UMC 65 nm, a different flow), these figures are the
same measurement as ours. No Amaranth import: the report reads this module without elaborating
anything. Both tables are keyed by the name under which ``dnnpress.cores`` registers the core.
"""

__all__ = ["SOURCE", "METHOD", "AREA", "WORDS_PER_CYCLE"]

#: where the figures come from, as the report cites it
SOURCE = "pulp-platform/stream-ebpc b1dc45b, package defaults (8-bit words, block 8)"

#: how they were measured, in one line
METHOD = ("converted to Verilog and synthesized like ours (Yosys 0.23 + ABC, NanGate45-ratio "
          "Liberty, flattened; async-reset DFFR at 6.67 GE); words/cycle from the same cocotb "
          "driver in Icarus on the same data")

#: GE (NanGate45 ratios, flattened) and flip-flops of the authors' tops
AREA = {
    "ebpc-encoder": {"module": "ebpc_encoder", "total_ge": 4572, "ffs": 279},
    "ebpc-decoder": {"module": "ebpc_decoder", "total_ge": 3765, "ffs": 251},
}

#: words/cycle per data kind (:data:`tb.harness.BENCH_KINDS`), every valid / ready high
WORDS_PER_CYCLE = {
    "ebpc-encoder": {"dense": 0.792, "adversarial": 0.570, "sparse50": 0.990, "relu": 0.989,
                     "sparse80": 0.991},
    "ebpc-decoder": {"dense": 0.797, "adversarial": 0.797, "sparse50": 0.994, "relu": 0.992,
                     "sparse80": 0.997},
}
