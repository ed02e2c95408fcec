"""cocotb drivers and monitors for Amaranth streams on emitted Verilog.

Amaranth flattens a stream member ``name`` into the ports ``name__payload``, ``name__valid`` and
``name__ready``. :class:`StreamSource` drives an input stream, :class:`StreamSink` the ``ready``
of an output stream, each with a pause iterator (:func:`tb.streamdata.pauses`);
:class:`StreamMonitor` records every transfer of a stream with its cycle, checks the protocol
(``valid`` and ``payload`` hold while ``valid & ~ready``; no X on ``valid`` or on a transferred
payload once checking is on) and counts stall cycles.

All of them sample at the rising edge of the clock (the values before the edge) and drive right
after it.
"""

from collections import deque

import cocotb
from cocotb.triggers import RisingEdge

from .streamdata import Payload, pauses

__all__ = ["StreamSource", "StreamSink", "StreamMonitor", "resolved"]


def resolved(value):
    """``int`` of a signal value, or ``None`` when it holds X or Z."""
    try:
        return int(value)
    except ValueError:
        return None


def _ports(dut, name):
    return (getattr(dut, f"{name}__valid"), getattr(dut, f"{name}__ready"),
            getattr(dut, f"{name}__payload"))


class StreamSource:
    """Drives input stream ``name`` of ``dut`` with payload dicts packed by ``layout``.

    Between words the source idles for the cycles its ``pause`` iterator says; once ``valid`` is
    up it holds ``valid`` and the payload until the word is taken."""

    def __init__(self, dut, name, clk, layout, pause=None):
        self.name = name
        self.valid, self.ready, self.payload = _ports(dut, name)
        self.clk = clk
        self.codec = Payload(layout)
        self.pause = pause if pause is not None else pauses("none")
        self.queue = deque()
        self.valid.value = 0
        self.payload.value = 0
        self._holding = False
        self._task = cocotb.start_soon(self._run())

    def send(self, payloads):
        """Queue payload dicts."""
        self.queue.extend(self.codec.pack(p) for p in payloads)

    def clear(self):
        """Drop what is queued and lower ``valid`` (for a reset)."""
        self.queue.clear()
        self._holding = False
        self.valid.value = 0

    @property
    def idle(self):
        return not self.queue and not self._holding

    async def _run(self):
        while True:
            await RisingEdge(self.clk)
            if self._holding:
                if not resolved(self.ready.value):
                    continue
                self._holding = False
            if self.queue and not next(self.pause):
                self.payload.value = self.queue.popleft()
                self.valid.value = 1
                self._holding = True
            else:
                self.valid.value = 0


class StreamSink:
    """Drives ``ready`` of output stream ``name``: low in the cycles its ``pause`` says."""

    def __init__(self, dut, name, clk, pause=None):
        self.valid, self.ready, _ = _ports(dut, name)
        self.clk = clk
        self.pause = pause if pause is not None else pauses("none")
        self.ready.value = 0
        self._task = cocotb.start_soon(self._run())

    async def _run(self):
        while True:
            self.ready.value = int(not next(self.pause))
            await RisingEdge(self.clk)


class StreamMonitor:
    """Records the transfers of stream ``name`` as ``(cycle, payload dict)``; checks the protocol.

    ``errors`` lists protocol violations (empty when all is well); ``stalls`` counts cycles with
    ``valid & ~ready``, ``cycle`` the clock edges seen.
    """

    def __init__(self, dut, name, clk, layout):
        self.name = name
        self.valid, self.ready, self.payload = _ports(dut, name)
        self.clk = clk
        self.codec = Payload(layout)
        self.items = []
        self.errors = []
        self.stalls = 0
        self.cycle = 0
        self.lasts = 0
        self.checking = False
        self._pending = None
        self._task = cocotb.start_soon(self._run())

    def clear(self):
        """Forget the transfers seen so far (after a reset)."""
        self.items.clear()
        self.lasts = 0
        self._pending = None

    def _error(self, what):
        if len(self.errors) < 20:
            self.errors.append(f"{self.name} cycle {self.cycle}: {what}")

    def count(self, field="last"):
        """Transfers seen with ``field`` set."""
        return sum(1 for _, d in self.items if d[field])

    async def _run(self):
        while True:
            await RisingEdge(self.clk)
            self.cycle += 1
            if not self.checking:
                self._pending = None
                continue
            valid = resolved(self.valid.value)
            ready = resolved(self.ready.value)
            if valid is None or ready is None:
                self._error(f"valid={self.valid.value} ready={self.ready.value} (X or Z)")
                continue
            if self._pending is not None and (not valid or
                                              self.payload.value != self._pending):
                self._error("valid or payload changed before the word was taken")
            if not valid:
                self._pending = None
                continue
            if not ready:
                self.stalls += 1
                self._pending = self.payload.value
                continue
            self._pending = None
            value = resolved(self.payload.value)
            if value is None:
                self._error(f"X in a transferred payload: {self.payload.value}")
                continue
            item = self.codec.unpack(value)
            self.items.append((self.cycle, item))
            if not self.codec.plain:
                self.lasts += item.get("last", 0)
