"""The cocotbext-axi test of a core's AXI4-Stream top (``<module>_axis``, :mod:`hw.axis`).

Every testbench module declares one cocotb test ``axis_top`` that calls :func:`check` with a
function ``axis_case(rng)`` returning a :class:`Case`: step by step, what to send on each slave
port and what each master port must carry, by the golden model. :func:`check` drives every
slave with a cocotbext-axi ``AxiStreamSource`` and every master with an ``AxiStreamSink``, all
with random pauses, and runs two cases: the first is cut by ``aresetn`` in the middle of its
transfers, the second must then come out beat for beat as golden says. The beats go through
:class:`hw.axis.AxisPort`, the mapping the top is built from; only the fields a case names are
compared.
"""

from dataclasses import dataclass, field

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource

from hw.axis import axis_ports

from .streamdata import pauses

__all__ = ["Step", "Case", "check"]


@dataclass
class Step:
    """Payload dicts to send per input stream member (``i_words``); per output stream member
    the payload dicts they make come out (the fields to compare); the levels of the non-stream
    inputs (``flush``, ``active``) to hold from then on. A step is over when its inputs have
    all gone in and its outputs have all come out."""

    inputs: dict
    outputs: dict = field(default_factory=dict)
    levels: dict = field(default_factory=dict)


@dataclass
class Case:
    """The ``steps`` of one run."""

    steps: list

    def outputs(self):
        """Per output stream member, every payload dict expected, in order."""
        out = {}
        for step in self.steps:
            for member, want in step.outputs.items():
                out.setdefault(member, []).extend(want)
        return out


class _Top:
    """cocotbext-axi drivers on every AXI4-Stream port of ``dut``, random pauses on all."""

    def __init__(self, dut, component, seed):
        self.dut = dut
        self.ports = {p.member: p for p in axis_ports(component)}
        self.sources, self.sinks, self.beats = {}, {}, {}
        for k, p in enumerate(self.ports.values()):
            bus = AxiStreamBus.from_prefix(dut, p.name)
            lanes = {} if p.half else {"byte_lanes": 1}          # one tdata item per beat
            kind = AxiStreamSource if p.slave else AxiStreamSink
            driver = kind(bus, dut.aclk, dut.aresetn, reset_active_level=False, **lanes)
            driver.log.setLevel("WARNING")
            driver.set_pause_generator(pauses("random", seed * 100 + k))
            (self.sources if p.slave else self.sinks)[p.member] = driver
            if not p.slave:
                self.beats[p.member] = []

    def frames(self, member, payloads):
        """The cocotbext-axi frames of a list of payload dicts: one per transfer (per beat on
        a port without ``tlast``)."""
        p = self.ports[member]
        out, cur = [], []
        for d in payloads:
            cur.append(p.beat(d))
            if not p.last or cur[-1]["tlast"]:
                out.append(cur)
                cur = []
        assert not cur, f"{member}: payloads after the final last"
        frames = []
        for beats in out:
            user = [b.get("tuser", 0) for b in beats]
            if p.half:
                n = p.tdata_bits // 8
                data = b"".join(b["tdata"].to_bytes(n, "little") for b in beats)
                keep = [b["tkeep"] >> i & 1 for b in beats for i in range(n)]
                frames.append(AxiStreamFrame(data, tkeep=keep,
                                             tuser=[u for u in user for _ in range(n)]))
            else:
                frames.append(AxiStreamFrame([b["tdata"] for b in beats], tuser=user))
        return frames

    def collect(self):
        """Move what the sinks received into :attr:`beats` (payload dicts)."""
        for member, sink in self.sinks.items():
            p = self.ports[member]
            while not sink.empty():
                frame = sink.recv_nowait(compact=False)
                n = p.tdata_bits // 8 if p.half else 1
                for i in range(0, len(frame.tdata), n):
                    if p.half:
                        beat = {"tdata": int.from_bytes(bytes(frame.tdata[i:i + n]), "little"),
                                "tkeep": sum(k << j for j, k in enumerate(frame.tkeep[i:i + n]))}
                    else:
                        beat = {"tdata": frame.tdata[i]}
                    beat["tlast"] = int(i + n >= len(frame.tdata))
                    beat["tuser"] = frame.tuser[i] if frame.tuser else 0
                    self.beats[member].append(p.payload(beat))

    async def send(self, case):
        """Send the steps of ``case``, each once the previous one is over."""
        want = {m: len(b) for m, b in self.beats.items()}
        for n, step in enumerate(case.steps):
            for name, value in step.levels.items():
                getattr(self.dut, name).value = value
            for member, payloads in step.inputs.items():
                for frame in self.frames(member, payloads):
                    self.sources[member].send_nowait(frame)
            for member, beats in step.outputs.items():
                want[member] += len(beats)
            moved = sum(map(len, step.inputs.values())) + sum(map(len, step.outputs.values()))
            await self.wait(lambda: all(s.empty() and s.idle() for s in self.sources.values())
                            and all(len(self.beats[m]) >= k for m, k in want.items()),
                            moved, f"step {n} of {len(case.steps)}")

    async def wait(self, done, beats, what):
        limit = 60 * beats + 3000
        for _ in range(limit):
            self.collect()
            if done():
                return
            await RisingEdge(self.dut.aclk)
        raise AssertionError(f"timeout after {limit} cycles waiting for {what}; received "
                             f"{ {m: len(b) for m, b in self.beats.items()} }")

    async def reset(self, cycles=3):
        """``aresetn`` low for ``cycles`` edges; drivers emptied, beats forgotten."""
        self.dut.aresetn.value = 0
        await ClockCycles(self.dut.aclk, cycles)
        for driver in [*self.sources.values(), *self.sinks.values()]:
            driver.clear()
        for beats in self.beats.values():
            beats.clear()
        self.dut.aresetn.value = 1
        await RisingEdge(self.dut.aclk)


async def check(dut, ctx, axis_case):
    """The AXI4-Stream top of ``ctx.component`` (a :class:`tb.preamble.Context`), random pauses
    on every port: ``axis_case(rng)`` is cut by a reset in the middle, then a second one comes
    out exactly."""
    seed = ctx.seed_of("axis")
    rng = np.random.default_rng(seed)
    Clock(dut.aclk, 10, unit="ns").start()
    dut.aresetn.value = 0
    top = _Top(dut, ctx.component, seed)
    first = axis_case(rng)
    for step in first.steps[:1]:
        for name, value in step.levels.items():
            getattr(dut, name).value = value
    await ClockCycles(dut.aclk, 3)
    dut.aresetn.value = 1
    # the first case, cut once its outputs are under way
    task = cocotb.start_soon(top.send(first))
    total = sum(map(len, first.outputs().values()))
    await top.wait(lambda: sum(map(len, top.beats.values())) >= max(1, total // 3), total,
                   "the first case's outputs")
    task.cancel()
    await top.reset()
    case = axis_case(rng)
    await top.send(case)
    await ClockCycles(dut.aclk, 20)
    top.collect()
    for member, want in case.outputs().items():
        got = top.beats[member]
        assert len(got) == len(want), f"{member}: {len(got)} beats, golden {len(want)} " \
                                      f"(seed {seed})"
        for i, (g, w) in enumerate(zip(got, want)):
            assert {k: g[k] for k in w} == w, f"{member} beat {i}: {g}, golden {w} (seed {seed})"
    dut._log.info("AXI4-Stream top: %s beats exact after a mid-transfer reset (seed %d)",
                  {m: len(b) for m, b in top.beats.items()}, seed)
