"""cocotb testbenches of the EBPC decoder and of the encoder -> decoder round trip: emitted
Verilog in Icarus against the golden model."""

import pytest

from tb.runner import run
from tests.test_tb_ebpc_encoder import with_vectors

pytestmark = pytest.mark.sim

DECODER_PARAMS = [{}, {"word_bits": 16, "block_size": 16}, {"word_bits": 16},
                  {"block_size": 16}]
DECODER_TESTS = ["edge_cases", "random_backpressure", "long_transfers", "back_to_back",
                 "reset_mid_transfer", "malformed_fuzz"]


def _id(params):
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


@pytest.mark.parametrize("params", DECODER_PARAMS, ids=_id)
@pytest.mark.parametrize("test", DECODER_TESTS)
def test_decoder(params, test):
    def go(env):
        run("ebpc-decoder", "tb.ebpc_decoder_tb", params, select=rf"\.{test}\b", extra_env=env)
    with_vectors(go) if test == "edge_cases" else go({})


@pytest.mark.regress
@pytest.mark.parametrize("params", DECODER_PARAMS[:2], ids=_id)
def test_decoder_fuzz_1000(params):
    run("ebpc-decoder", "tb.ebpc_decoder_tb", params, select=r"\.malformed_fuzz\b",
        extra_env={"DNNPRESS_FUZZ_CASES": "1000"})


@pytest.mark.parametrize("params", [{}, {"word_bits": 16, "block_size": 16}], ids=_id)
@pytest.mark.parametrize("test", ["full_rate", "backpressure"])
def test_round_trip(params, test):
    from tb.ebpc_roundtrip import CORE

    run(CORE, "tb.ebpc_roundtrip_tb", params, select=rf"\.{test}\b")
