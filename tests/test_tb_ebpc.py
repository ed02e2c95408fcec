"""cocotb testbenches of the cores (``tb/``): emitted Verilog in Icarus against the golden
models. One pytest item per (core, cocotb test, parameter set), so pytest-xdist spreads them."""

import pytest

from dnnpress.paths import shared
from tb.runner import run

pytestmark = pytest.mark.sim

ENCODER = [{}, {"word_bits": 16, "block_size": 16}, {"bpc_words": 2},
           {"word_bits": 16, "block_size": 8, "bpc_words": 2}, {"block_size": 16},
           {"serial": 1}, {"serial": 1, "word_bits": 16, "block_size": 16}]
DECODER = [{}, {"word_bits": 16, "block_size": 16}, {"word_bits": 16}, {"block_size": 16},
           {"serial": 1}, {"serial": 1, "word_bits": 16, "block_size": 16}]
NOC = [{}, {"weight_bits": 8, "len_bits": 3}, {"weight_bits": 12, "len_bits": 8}]
DICT = [{}, {"G": 1, "B_max": 2, "R": 0}, {"G": 8, "B_max": 8, "R": 8},
        {"G": 2, "B_max": 6, "R": 2}]
CACHE = [{"sets": 4, "policy": 0}, {"sets": 4, "policy": 1}, {"sets": 4, "policy": 2},
         {"sets": 2, "ways": 1, "line_bytes": 8}, {"sets": 1, "ways": 8, "policy": 1}]
COMMON = ["edge_cases", "random_backpressure", "long_transfers", "back_to_back",
          "reset_mid_transfer"]

#: (core, cocotb module, cocotb test, parameter sets)
SUITES = ([("ebpc-encoder", "tb.ebpc_encoder_tb", t, ENCODER) for t in COMMON]
          + [("ebpc-decoder", "tb.ebpc_decoder_tb", t, DECODER)
             for t in [*COMMON, "malformed_fuzz"]]
          + [("ebpc-roundtrip", "tb.ebpc_roundtrip_tb", t, [*DECODER[:2], {"serial": 1}])
             for t in ("full_rate", "backpressure")]
          + [("noc-weight-decoder", "tb.noc_decoder_tb", t, NOC)
             for t in ("random_backpressure", "edge_cases", "malformed_fuzz",
                       "reset_mid_stream")]
          + [("dict-decoder", "tb.dict_decoder_tb", t, DICT)
             for t in ("random_backpressure", "edge_cases", "malformed_fuzz",
                       "reset_mid_stream")]
          + [("cluster-cache", "tb.cluster_cache_tb", t, CACHE)
             for t in ("trace_backpressure", "long_latency_and_flush", "reset_between_traces")]
          + [("cluster-entry-decoder", "tb.cluster_entry_tb", t, [{}, {"line_bytes": 4}])
             for t in ("blocks_backpressure", "dense_masked_weights")])
CASES = [pytest.param(core, module, test, params,
                      id=f"{core}-{test}-" + (",".join(f"{k}={v}" for k, v in params.items())
                                              or "defaults"))
         for core, module, test, sets in SUITES for params in sets]


def _core(name):
    if name == "ebpc-roundtrip":
        from tb.ebpc_roundtrip import CORE
        return CORE
    return name


@pytest.mark.parametrize("core,module,test,params", CASES)
def test_cocotb(core, module, test, params):
    def go(env):
        run(_core(core), module, params, select=rf"\.{test}\b", extra_env=env)

    if test != "edge_cases":
        return go({})
    try:                            # the authors' vectors join the edge cases where present
        path = shared("vectors/ebpc_edge_cases.json")
    except FileNotFoundError as exc:
        go({})
        pytest.skip(f"synthetic edge cases passed; authors' vectors not checked: {exc}")
    go({"DNNPRESS_VECTORS": str(path)})


@pytest.mark.regress
@pytest.mark.parametrize("core,module,params", [
    ("ebpc-decoder", "tb.ebpc_decoder_tb", DECODER[0]),
    ("ebpc-decoder", "tb.ebpc_decoder_tb", DECODER[1]),
    ("ebpc-decoder", "tb.ebpc_decoder_tb", {"serial": 1}),
    ("dict-decoder", "tb.dict_decoder_tb", DICT[0]),
    ("dict-decoder", "tb.dict_decoder_tb", DICT[2])],
    ids=["ebpc-defaults", "ebpc-word_bits=16,block_size=16", "ebpc-serial=1", "dict-defaults",
         "dict-G=8"])
def test_decoder_fuzz_1000(core, module, params):
    run(core, module, params, select=r"\.malformed_fuzz\b",
        extra_env={"DNNPRESS_FUZZ_CASES": "1000"})


@pytest.mark.parametrize("params", [{}, {"weight_bits": 8, "len_bits": 4}],
                         ids=["defaults", "weight_bits=8,len_bits=4"])
def test_noc_decoder_on_lenet5_kernels(params):
    try:
        path = shared("data/lenet5/LeNet-5.h5")
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    pytest.importorskip("h5py", reason="h5py not installed: `make eval` installs it")
    run("noc-weight-decoder", "tb.noc_decoder_tb", params, select=r"\.lenet5_layers\b",
        extra_env={"DNNPRESS_LENET": str(path)})
