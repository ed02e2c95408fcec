"""cocotb testbenches of the EBPC cores: emitted Verilog in Icarus against the golden model."""

import pytest

from dnnpress.paths import shared
from tb.runner import run

pytestmark = pytest.mark.sim

ENCODER_PARAMS = [{}, {"word_bits": 16, "block_size": 16}, {"bpc_words": 2},
                  {"word_bits": 16, "block_size": 8, "bpc_words": 2}, {"block_size": 16}]
ENCODER_TESTS = ["edge_cases", "random_backpressure", "long_transfers", "back_to_back",
                 "reset_mid_transfer"]


def with_vectors(run_edge_cases):
    """Run the edge cases with the authors' vectors; without ../shared, run the synthetic ones
    and then skip, saying that the vectors were not checked."""
    try:
        path = shared("vectors/ebpc_edge_cases.json")
    except FileNotFoundError as exc:
        run_edge_cases({})
        pytest.skip(f"synthetic edge cases passed; authors' vectors not checked: {exc}")
    run_edge_cases({"DNNPRESS_VECTORS": str(path)})


def _id(params):
    return ",".join(f"{k}={v}" for k, v in params.items()) or "defaults"


@pytest.mark.parametrize("params", ENCODER_PARAMS, ids=_id)
@pytest.mark.parametrize("test", ENCODER_TESTS)
def test_encoder(params, test):
    def go(env):
        run("ebpc-encoder", "tb.ebpc_encoder_tb", params, select=rf"\.{test}\b", extra_env=env)
    with_vectors(go) if test == "edge_cases" else go({})
