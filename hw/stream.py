"""Shared stream plumbing: the output register of a stream port, and the end of a decoded stream.

Every stage of ``hw/`` that registers an output stream does it through :class:`OutputRegister`,
and the three stream decoders (``ZnzDecoder``, ``NoCWeightDecoder``, ``DictDecoder``) close
each transfer through :class:`StreamEnd`.
"""

from amaranth.hdl import Const, Mux, Signal

__all__ = ["OutputRegister", "StreamEnd", "take_rest"]


class OutputRegister:
    """The register slice on output stream ``port``, the one idiom of the stream rules.

    ``valid`` is a register: it rises on :meth:`emit` and then holds, with the payload, until
    the beat is taken (``valid & ready``). ``valid`` never waits on ``ready``; a beat may be
    written only while :attr:`free`.

    Parameters
    ----------
    m : Module
        The module the register is built in (``sync`` domain).
    port : stream.Interface
        The output stream, seen from its source.
    reset_less : bool
        The payload is a register without reset that drives ``port.payload`` (only ``valid``
        is reset); else the payload is ``port.payload`` itself, which resets.
    name : str
        Name of the ``reset_less`` payload register.

    Members
    -------
    free : Value
        High when a beat may be written this cycle: ``~valid | ready``.
    payload : View
        The register that beats are written to (``port.payload``, or the ``reset_less`` one).
        A stage may also write it while ``valid`` is low, e.g. to collect a block in it.
    """

    def __init__(self, m, port, *, reset_less=False, name="payload"):
        self._m, self._port = m, port
        self.free = ~port.valid | port.ready
        m.d.sync += port.valid.eq(port.valid & ~port.ready)
        if reset_less:
            self.payload = Signal(port.payload.shape(), reset_less=True, name=name)
            m.d.comb += port.payload.eq(self.payload)
        else:
            self.payload = port.payload

    def emit(self, *statements, **fields):
        """Raise ``valid`` and set the payload ``fields`` (by name) and ``statements``; call it
        only while :attr:`free`."""
        self._m.d.sync += [self._port.valid.eq(1), *statements,
                           *(getattr(self.payload, k).eq(v) for k, v in fields.items())]


def take_rest(m, window, name="rest_take"):
    """Take every bit ``window`` (an unpacker's ``o``) shows this cycle; the count taken."""
    width = len(window.bits)
    take = Signal(range(width + 1), name=name)
    m.d.comb += [take.eq(Mux(window.avail > width, width, window.avail)),
                 window.take.eq(take)]
    return take


class StreamEnd:
    """The end of each transfer of a stream decoder, used inside its ``with m.FSM()``.

    The decoder hands every decoded item to :meth:`item`, which emits it, or holds the final
    one and goes to ``CHECK``; it calls :meth:`fail` on a malformed stream, which goes to
    ``DRAIN``; :meth:`states` then adds those closing states (only the ones gone to):

    - ``CHECK`` reads the rest of the stream and checks that it is padding; anything else
      marks the stream malformed (``bad``);
    - ``DRAIN`` reads the rest of the stream.

    At the stream's end, with ``out`` free, ``error_beat()`` is called if the stream is
    malformed, else ``final_beat()``; the window is flushed and the FSM goes to ``restart``.

    Parameters
    ----------
    m : Module
    window : wiring.Interface
        The unpacker's ``o`` (:func:`hw.bitunpack.window_signature`) the decoder reads.
    out : OutputRegister
        The decoder's output.
    bad : Signal
        The stream is malformed: set here (and by the decoder); the decoder clears it when it
        starts the next stream.
    final_beat, error_beat : callable
        Emit the transfer's final beat (the held item), or its error beat.
    restart : str
        The state that reads the next stream.
    pad_bits : int
        The padding: fewer than ``pad_bits`` bits may follow the final item.
    zero_padding : bool
        True: the padding must be zero, and the end comes once every bit has been read (an
        internal counter counts the bits after the final item). False: the padding may hold
        any bits (fewer than ``pad_bits`` in the window at any time), and the end comes as
        soon as the stream's ``last`` word is in the window.
    """

    def __init__(self, m, window, out, bad, *, final_beat, error_beat, restart, pad_bits=32,
                 zero_padding=True):
        self._m, self._window, self._out, self._bad = m, window, out, bad
        self._final_beat, self._error_beat, self._restart = final_beat, error_beat, restart
        self._pad_bits, self._zero_padding = pad_bits, zero_padding
        self._states = set()              # the closing states gone to

    def _go(self, state):
        self._states.add(state)
        self._m.next = state

    def item(self, final, emit, hold=(), next_state=None):
        """The next decoded item: if ``final`` (a Value), ``hold`` (statements that keep it for
        the final beat) and go to ``CHECK``; else ``emit()`` it and go to ``next_state`` (if
        given). Call it only while ``out`` is free."""
        m = self._m
        with m.If(final):
            m.d.sync += hold
            self._go("CHECK")
        with m.Else():
            emit()
            if next_state is not None:
                m.next = next_state

    def fail(self):
        """The stream is malformed: mark it and drain it."""
        self._m.d.sync += self._bad.eq(1)
        self._go("DRAIN")

    def states(self):
        """Add the closing states (call it inside the ``with m.FSM()``, after the others)."""
        m, win, bad = self._m, self._window, self._bad
        spare = None
        if self._zero_padding:
            spare = Signal(range(self._pad_bits + 1), name="spare")   # bits after the final item
        for state in (s for s in ("CHECK", "DRAIN") if s in self._states):
            with m.State(state):
                take, done = None, win.end
                if self._zero_padding:
                    take = take_rest(m, win, f"{state.lower()}_take")
                    done = win.end & (win.avail == take)
                else:
                    with m.If(~win.end):
                        take_rest(m, win, f"{state.lower()}_take")
                if state == "DRAIN":
                    wrong = Const(1)
                elif self._zero_padding:
                    wrong = win.bits.any() | (spare + take >= self._pad_bits)
                    m.d.sync += spare.eq(spare + take)
                else:
                    wrong = win.avail >= self._pad_bits
                with m.If(wrong):
                    m.d.sync += bad.eq(1)
                with m.If(done & self._out.free):
                    with m.If(wrong | bad):
                        self._error_beat()
                    with m.Else():
                        self._final_beat()
                    m.d.comb += win.flush.eq(1)
                    if spare is not None:
                        m.d.sync += spare.eq(0)
                    m.next = self._restart
