"""AXI4-Stream top of any core, from its ``wiring`` signature alone.

:class:`AXIStreamTop` wraps a core component (nothing about the core is written here, so a core
added later gets its AXI4-Stream top for free):

- ``aclk`` clocks the core; ``aresetn`` (active low, synchronous) is its reset;
- each input stream member ``i_<name>`` becomes a slave ``s_axis_<name>_*``, each output stream
  member ``o_<name>`` a master ``m_axis_<name>_*`` (:func:`axis_ports` says how each payload
  maps, :class:`AxisPort` packs it);
- every other member keeps its name, direction and width.

The mapping of a payload (first field at the LSB everywhere, as Amaranth lays out structs):

``tdata``
    The field ``data``, or, in a payload without one, every field but ``last`` and ``half``, in
    layout order; a plain (non-struct) payload is ``tdata`` whole. Zero-extended to whole bytes
    (the slave ignores the padding bits).
``tlast``
    The field ``last``; no ``tlast`` where the payload has none.
``tkeep``
    Only where the payload has ``half``: its ``data`` is two lanes, the first word of the stream
    in the high half (the cores' order). AXI4-Stream sends the first byte in the low lanes, so
    the top swaps the halves: the first word is ``tdata``'s low half, and a beat with ``half``
    keeps only that half (the high half's ``tkeep`` bits are 0). A slave beat is ``half`` when
    the top bit of its ``tkeep`` is 0.
``tuser``
    Every other field (``error``, ``hit``, ``count``, ...), in layout order; no ``tuser`` where
    there is none.

``valid`` and ``ready`` are wired straight through: the top adds no register, no latency and no
combinational path that the core does not have.
"""

from dataclasses import dataclass

from amaranth.hdl import Cat, ClockDomain, Const, DomainRenamer, Module, Shape, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Field", "payload_fields", "AxisPort", "AXIStreamTop", "axis_ports", "is_stream"]

#: the payload fields with an AXI4-Stream signal of their own
LAST, HALF, DATA = "last", "half", "data"
#: member name prefix -> (AXI4-Stream interface prefix, slave?)
PREFIXES = {"i_": ("s_axis_", True), "o_": ("m_axis_", False)}


def is_stream(member):
    """Whether a signature member is a stream (a ``valid`` / ``ready`` / ``payload`` interface)."""
    return member.is_signature and {"payload", "valid", "ready"} <= set(
        member.signature.members.keys())


@dataclass(frozen=True)
class Field:
    """A payload field: ``name`` (empty for a whole plain payload), bit ``offset``, ``width``."""

    name: str
    offset: int
    width: int


def payload_fields(shape):
    """The :class:`Field` of a payload shape, first at the LSB (a plain shape: one, unnamed)."""
    if not hasattr(shape, "members"):                  # a plain shape: unsigned(24), 8
        return (Field("", 0, Shape.cast(shape).width),)
    return tuple(Field(name, f.offset, f.width) for name, f in shape)


def _cat_widths(fields):
    return sum(f.width for f in fields)


@dataclass(frozen=True)
class AxisPort:
    """How one stream member of a core maps onto one AXI4-Stream interface.

    Members
    -------
    member : str
        The core's member (``i_words``).
    name : str
        The interface prefix (``s_axis_words``).
    slave : bool
        The core takes the stream (an input).
    data, user : tuple of Field
        The payload fields in ``tdata`` and in ``tuser``, first at the LSB.
    last, half : bool
        The payload has a ``last`` field (``tlast``), a ``half`` field (``tkeep``).
    """

    member: str
    name: str
    slave: bool
    data: tuple
    user: tuple
    last: bool
    half: bool

    @property
    def data_bits(self):
        return _cat_widths(self.data)

    @property
    def tdata_bits(self):
        return -(-self.data_bits // 8) * 8

    @property
    def tkeep_bits(self):
        return self.tdata_bits // 8 if self.half else 0

    @property
    def tuser_bits(self):
        return _cat_widths(self.user)

    def signals(self):
        """``{suffix: (flow seen from the top, width)}`` of the interface, in the order of the
        AXI4-Stream specification."""
        fwd, back = (In, Out) if self.slave else (Out, In)
        out = {"tdata": (fwd, self.tdata_bits), "tvalid": (fwd, 1), "tready": (back, 1)}
        if self.last:
            out["tlast"] = (fwd, 1)
        if self.half:
            out["tkeep"] = (fwd, self.tkeep_bits)
        if self.user:
            out["tuser"] = (fwd, self.tuser_bits)
        return out

    # ---- the mapping as integers (what the hardware below does, for testbenches and docs)

    def _lanes(self, value):
        """Swap the two lanes of ``data`` (its own inverse)."""
        h = self.data_bits // 2
        return (value >> h) | ((value & ((1 << h) - 1)) << h)

    def beat(self, payload):
        """The AXI4-Stream beat ``{tdata, tlast, tkeep, tuser}`` (those the interface has) of a
        payload dict (a plain payload: an int); missing fields are 0."""
        get = (lambda f: payload) if self.data[0].name == "" else (lambda f: payload.get(f.name, 0))

        def cat(fields):
            out, pos = 0, 0
            for f in fields:
                out |= (int(get(f)) & ((1 << f.width) - 1)) << pos
                pos += f.width
            return out

        beat = {"tdata": cat(self.data)}
        if self.last:
            beat["tlast"] = int(payload[LAST])
        if self.half:
            beat["tdata"] = self._lanes(beat["tdata"])
            h = self.tkeep_bits // 2
            beat["tkeep"] = (1 << h) - 1 | (0 if payload.get(HALF) else ((1 << h) - 1) << h)
        if self.user:
            beat["tuser"] = cat(self.user)
        return beat

    def payload(self, beat):
        """The payload dict (a plain payload: an int) of an AXI4-Stream beat; with ``tkeep``,
        the bytes it marks null read as 0."""
        def split(value, fields):
            out, pos = {}, 0
            for f in fields:
                out[f.name] = (value >> pos) & ((1 << f.width) - 1)
                pos += f.width
            return out

        tdata = beat["tdata"]
        if self.half:
            keep = beat["tkeep"]
            tdata &= sum(0xFF << 8 * i for i in range(self.tkeep_bits) if keep >> i & 1)
            tdata = self._lanes(tdata & ((1 << self.data_bits) - 1))
        out = split(tdata, self.data)
        if "" in out:
            return out[""]
        if self.last:
            out[LAST] = int(beat["tlast"])
        if self.half:
            out[HALF] = int(not beat["tkeep"] >> (self.tkeep_bits - 1) & 1)
        out.update(split(beat.get("tuser", 0), self.user))
        return out


def axis_ports(signature):
    """The :class:`AxisPort` of every stream member of a core's ``signature`` (a component's
    works too), in member order. ``ValueError`` for a stream member whose name does not start
    with ``i_`` or ``o_`` (or disagrees with its direction), or a ``half`` payload whose data
    does not split into two whole-byte lanes."""
    signature = getattr(signature, "signature", signature)
    out = []
    for member_name, member in signature.members.items():
        if not is_stream(member):
            continue
        prefix, slave = PREFIXES.get(member_name[:2], (None, None))
        if prefix is None or slave != (member.flow == In):
            raise ValueError(f"stream member {member_name!r} must be named i_<name> (an input) "
                             f"or o_<name> (an output)")
        fields = payload_fields(member.signature.members["payload"].shape)
        names = {f.name for f in fields}
        if DATA in names:
            data = tuple(f for f in fields if f.name == DATA)
        else:
            data = tuple(f for f in fields if f.name not in (LAST, HALF))
        user = tuple(f for f in fields if f not in data and f.name not in (LAST, HALF))
        port = AxisPort(member_name, prefix + member_name[2:], slave, data, user,
                        LAST in names, HALF in names)
        if port.half and (data[0].name != DATA or port.data_bits % 16):
            raise ValueError(f"{member_name}: a payload with 'half' needs 'data' of two "
                             f"whole-byte lanes, not {port.data_bits} bits")
        out.append(port)
    return out


class AXIStreamTop(wiring.Component):
    """The AXI4-Stream top of ``core`` (a component): see the module's documentation for the
    mapping. ``ports`` holds the :class:`AxisPort` of each stream member.

    The core keeps its timing: ``tvalid`` and ``tready`` are its ``valid`` and ``ready``;
    ``aresetn`` low at a rising edge of ``aclk`` resets the core exactly as ``rst`` high does on
    the plain core (its state, counters and valid flags; reset-less data registers behind a valid
    flag keep their stale contents).
    """

    def __init__(self, core):
        self.core = core
        self.ports = axis_ports(core.signature)
        members = {"aclk": In(1), "aresetn": In(1)}
        for port in self.ports:
            for suffix, (flow, width) in port.signals().items():
                members[f"{port.name}_{suffix}"] = flow(width)
        for name, member in core.signature.members.items():
            if is_stream(member):
                continue
            if member.is_signature:
                raise ValueError(f"member {name!r} is an interface but not a stream; the "
                                 f"AXI4-Stream top maps streams and plain ports only")
            members[name] = member
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        # a domain of its own (the core's sync renamed), local: an Amaranth design that
        # instantiates the top keeps its own sync
        m.domains.axis = cd = ClockDomain("axis", local=True)
        m.d.comb += [cd.clk.eq(self.aclk), cd.rst.eq(~self.aresetn)]
        core = self.core
        m.submodules.core = DomainRenamer("axis")(core)
        for port in self.ports:
            self._connect(m, port, getattr(core, port.member))
        for name, member in core.signature.members.items():
            if not is_stream(member):
                inner, outer = getattr(core, name), getattr(self, name)
                m.d.comb += inner.eq(outer) if member.flow == In else outer.eq(inner)
        return m

    def _connect(self, m, port, stream):
        sig = {suffix: getattr(self, f"{port.name}_{suffix}") for suffix in port.signals()}
        raw, layout = Value.cast(stream.payload), stream.payload.shape()
        field = {f.name: raw[f.offset:f.offset + f.width] for f in payload_fields(layout)}
        data = Cat(*(field[f.name] for f in port.data))
        user = Cat(*(field[f.name] for f in port.user))
        h = port.data_bits // 2
        if port.slave:
            tdata = sig["tdata"][:port.data_bits]
            m.d.comb += [stream.valid.eq(sig["tvalid"]), sig["tready"].eq(stream.ready),
                         data.eq(Cat(tdata[h:], tdata[:h]) if port.half else tdata)]
            if port.last:
                m.d.comb += field[LAST].eq(sig["tlast"])
            if port.half:
                m.d.comb += field[HALF].eq(~sig["tkeep"][-1])
            if port.user:
                m.d.comb += user.eq(sig["tuser"])
        else:
            m.d.comb += [sig["tvalid"].eq(stream.valid), stream.ready.eq(sig["tready"]),
                         sig["tdata"].eq(Cat(data[h:], data[:h]) if port.half else data)]
            if port.last:
                m.d.comb += sig["tlast"].eq(field[LAST])
            if port.half:
                lanes = port.tkeep_bits // 2
                m.d.comb += sig["tkeep"].eq(Cat(Const(-1, lanes), (~field[HALF]).replicate(
                    lanes)))
            if port.user:
                m.d.comb += sig["tuser"].eq(user)
