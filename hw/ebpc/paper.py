"""The EBPC paper's area figures and how this package's stages map onto them (plain data).

Cavigelli et al., "EBPC: Extended Bit-Plane Compression for Deep Neural Network Inference and
Training Accelerators", IEEE JETCAS 2019, Table II: UMC 65 nm, Synopsys Design Compiler,
600 MHz. The synthesis report (:mod:`synth.report`) puts these figures beside ours. No Amaranth
import: the report reads this module without elaborating anything.

Both tables are keyed by the name under which ``dnnpress.cores`` registers the core.
"""

__all__ = ["SOURCE", "TABLE_II", "STAGES"]

#: where the figures come from, as the report cites it
SOURCE = "EBPC paper, Table II (UMC 65 nm, Synopsys DC, 600 MHz)"

#: the paper's Table II, GE; rows that do not add up to the total are not itemised there
TABLE_II = {
    "ebpc-encoder": {"total": 2833, "rows": {"zero-RLE": 476, "delta & DBX": 735,
                                             "depth-1 FIFO": 605, "DBP/DBX encoder": 335,
                                             "packer": 300}},
    "ebpc-decoder": {"total": 3007, "rows": {"unpacker": 647, "symbol decoder": 313,
                                             "buffer": 1109, "delta reverse": 249,
                                             "zero-RLE": 564}},
}

_CODER = ("delta & DBX", "depth-1 FIFO", "DBP/DBX encoder")

#: our stage (submodule name in the top, ``hw/ebpc/encoder.py`` / ``decoder.py``) -> the paper
#: rows it corresponds to (approximately: the two designs cut the pipeline differently); stages
#: sharing rows are summed. The order is the pipeline's, and the report's tables follow it.
STAGES = {
    "ebpc-encoder": {"zero_run": ("zero-RLE",), "znz_packer": ("packer",), "delta": _CODER,
                     "symbol_coder": _CODER, "bpc_packer": ("packer",)},
    "ebpc-decoder": {"znz_unpacker": ("unpacker",), "znz_decoder": ("zero-RLE",),
                     "bpc_unpacker": ("unpacker",), "symbol_decoder": ("symbol decoder",),
                     "plane_buffer": ("buffer",), "delta_reverse": ("delta reverse",),
                     "merge": ("zero-RLE",)},
}
