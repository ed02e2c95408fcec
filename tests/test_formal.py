"""The formal flow checks itself (:mod:`formal`): a deliberately broken stage fails the proof
that the intact one passes, and the netlist check finds a combinational ``ready`` -> ``valid``
path. The proofs of every core are ``make formal`` (``.ci/run`` runs it after ``make test``)."""

import inspect

import pytest
from amaranth.hdl import Const, Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

import hw.noc.weight_decoder as noc
from dnnpress import cores
from formal import properties
from formal.netlist import comb_paths, yosys
from formal.properties import GENERIC
from formal.run import Check, run, tools
from hw.stream import OutputRegister

HOLD = next(p for p in GENERIC if p.name == "hold")


@pytest.fixture
def sby():
    if tools() is None:
        pytest.skip("yowasp-sby or yices not installed: `make setup` installs them (dev extra)")


class OverwritingRegister(OutputRegister):
    """The register slice, broken: a stage may write a new beat while the old one waits."""

    def __init__(self, m, port, **kwargs):
        super().__init__(m, port, **kwargs)
        self.free = Const(1)


def hold_check(tmp_path):
    c = cores.core("noc-weight-decoder")
    return Check(c, HOLD, "prove", 12, build=lambda: noc.NoCWeightDecoder()), tmp_path


def test_hold_proof_passes_on_the_real_stage(sby, tmp_path):
    check, folder = hold_check(tmp_path)
    row = run(check, folder)
    assert row["result"] == "pass", row


def test_mutation_fails_the_hold_proof(sby, tmp_path, monkeypatch):
    """The NoC decoder built with :class:`OverwritingRegister` as its output stage: sby finds the
    counterexample (a payload that changes while ``valid`` waits for ``ready``)."""
    monkeypatch.setattr(noc, "OutputRegister", OverwritingRegister)
    check, folder = hold_check(tmp_path)
    row = run(check, folder)
    assert row["result"] == "fail", row
    source = inspect.getsource(properties).splitlines()
    line = next(i for i, text in enumerate(source, 1) if "payload changed while waiting" in text)
    assert f"properties.py:{line - 1}" in (folder / "sby.log").read_text()   # that Assert


class CombValid(wiring.Component):
    i_x: In(stream.Signature(8))
    o_x: Out(stream.Signature(8))

    def elaborate(self, platform):
        m = Module()
        m.d.comb += [self.o_x.valid.eq(self.i_x.valid & self.o_x.ready),
                     self.o_x.payload.eq(self.i_x.payload), self.i_x.ready.eq(self.o_x.ready)]
        return m


def test_netlist_check_finds_a_combinational_path():
    if yosys() is None:
        pytest.skip("yosys not found: `make setup` installs it")
    _, paths = comb_paths(CombValid(), "comb_valid")
    assert paths == ["o_x"]
    c = cores.core("ebpc-encoder")
    row, paths = comb_paths(cores.build(c, c.defaults(), axis=True), "ebpc_encoder_axis")
    assert paths == [] and row["result"] == "pass"
