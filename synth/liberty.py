"""Area-only Liberty files whose cell areas are gate equivalents (GE).

Each cell's area is its footprint in a real library divided by that library's NAND2 footprint, so
``stat -liberty`` prints GE directly. Two footprint tables (X1 / ``_1`` drive strengths):
NanGate45 (the headline figure) and sky130_fd_sc_hd (the other end of the band). The files carry
no timing: they are for area only. The flip-flop is a plain positive-edge D flip-flop; the
synchronous reset and the clock enables are logic in front of it (about 1 GE per bit for reset).
"""

from pathlib import Path

from dnnpress import outputs

__all__ = ["LIBRARIES", "CELLS", "areas", "liberty_text", "write"]

#: cell -> (inputs, output function); the flip-flop is described separately
CELLS = {
    "INV": (("A",), "!A"),
    "BUF": (("A",), "A"),
    "NAND2": (("A", "B"), "!(A&B)"),
    "NOR2": (("A", "B"), "!(A|B)"),
    "AND2": (("A", "B"), "(A&B)"),
    "OR2": (("A", "B"), "(A|B)"),
    "NAND3": (("A", "B", "C"), "!(A&B&C)"),
    "NOR3": (("A", "B", "C"), "!(A|B|C)"),
    "AOI21": (("A1", "A2", "B"), "!((A1&A2)|B)"),
    "OAI21": (("A1", "A2", "B"), "!((A1|A2)&B)"),
    "AOI22": (("A1", "A2", "B1", "B2"), "!((A1&A2)|(B1&B2))"),
    "OAI22": (("A1", "A2", "B1", "B2"), "!((A1|A2)&(B1|B2))"),
    "XOR2": (("A", "B"), "(A^B)"),
    "XNOR2": (("A", "B"), "!(A^B)"),
    "MUX2": (("A", "B", "S"), "((A&!S)|(B&S))"),
}

#: library -> cell -> footprint / NAND2 footprint (shared/conventions.md, "Area in GE")
LIBRARIES = {
    "nangate45": {
        "INV": 0.67, "BUF": 1.00, "NAND2": 1.00, "NOR2": 1.00, "AND2": 1.33, "OR2": 1.33,
        "NAND3": 1.33, "NOR3": 1.33, "AOI21": 1.33, "OAI21": 1.33, "AOI22": 1.67,
        "OAI22": 1.67, "XOR2": 2.00, "XNOR2": 2.00, "MUX2": 2.33, "DFF": 5.67,
    },
    "sky130": {
        "INV": 1.00, "BUF": 1.00, "NAND2": 1.00, "NOR2": 1.00, "AND2": 1.67, "OR2": 1.67,
        "NAND3": 1.33, "NOR3": 1.33, "AOI21": 1.33, "OAI21": 1.33, "AOI22": 2.00,
        "OAI22": 1.67, "XOR2": 2.33, "XNOR2": 2.33, "MUX2": 3.00, "DFF": 5.33,
    },
}


def areas(library):
    """Cell name -> area in GE of ``library``; ``ValueError`` naming the known libraries."""
    if library not in LIBRARIES:
        raise ValueError(f"library must be one of {', '.join(LIBRARIES)}, not {library!r}")
    return dict(LIBRARIES[library])


def _cell(name, area, inputs, function):
    pins = "".join(f"    pin({p}) {{ direction : input; capacitance : 1; }}\n" for p in inputs)
    return (f"  cell({name}) {{\n    area : {area:.2f};\n{pins}"
            f"    pin(Y) {{ direction : output; function : \"{function}\"; }}\n  }}\n")


def _dff(area):
    return (f"  cell(DFF) {{\n    area : {area:.2f};\n"
            "    ff(IQ, IQN) { clocked_on : \"CLK\"; next_state : \"D\"; }\n"
            "    pin(CLK) { direction : input; clock : true; capacitance : 1; }\n"
            "    pin(D) { direction : input; capacitance : 1; }\n"
            "    pin(Q) { direction : output; function : \"IQ\"; }\n  }\n")


def liberty_text(library):
    """The Liberty source of ``library`` (``"nangate45"`` or ``"sky130"``), areas in GE."""
    table = areas(library)
    cells = "".join(_cell(n, table[n], *CELLS[n]) for n in CELLS)
    return (f"/* dnnpress: area-only library, 1 GE = NAND2 area; footprint ratios of {library} */\n"
            f"library(ge_{library}) {{\n  delay_model : table_lookup;\n"
            "  time_unit : \"1ns\";\n  voltage_unit : \"1V\";\n  current_unit : \"1uA\";\n"
            "  capacitive_load_unit (1,ff);\n"
            f"{cells}{_dff(table['DFF'])}}}\n")


def write(library, outdir):
    """Write ``outdir/ge_<library>.lib`` and return its path (rewritten only when it changed, and
    then whole, so runs side by side never read half a file)."""
    path = Path(outdir) / f"ge_{library}.lib"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = liberty_text(library)
    if not path.exists() or path.read_text() != text:
        outputs.write_file(path, lambda f: f.write(text.encode()))
    return path
