"""Memories as SRAM macros: which of a core's memories a memory compiler would make, the logic
left around them, and an SRAM area estimate.

A memory is a macro when every read port is synchronous (the data one cycle after the address,
what an SRAM offers, as Yosys finds after merging registers into the memory) and it holds at
least :data:`MIN_BITS`; memories with an asynchronous read port (tables read in the same cycle)
and small ones (FIFOs of a few words: below that size a memory compiler's decoders and sense
amplifiers outweigh the array) stay in flip-flops. The macro flow
(:func:`synth.flow.macro_script`) maps the others as the main flow does and keeps the macros as
``$mem_v2`` cells, so the NanGate45 total of that netlist is the logic without the macros.

SRAM area model: :data:`UM2_PER_BIT`, the density OpenRAM reports for its FreePDK45 SRAMs
(0.826 Mb/mm², taking 1 Mb = 10**6 bits; OpenRAM documentation, "Results: Comparison with
Fabricated SRAMs"; Guthaus et al., ICCAD 2016), over the NanGate45 NAND2_X1 footprint
(:data:`NAND2_UM2`, 0.798 µm², NanGate FreePDK45 Open Cell Library). That density holds for
macros of tens of kbit and more; the decoders, sense amplifiers and control of a small macro
make it less dense, so for the few-kbit arrays here the estimate is a lower bound, and the
flip-flop mapping of the main flow is an upper bound.
"""

import re
from pathlib import Path

__all__ = ["MIN_BITS", "UM2_PER_BIT", "NAND2_UM2", "GE_PER_BIT", "MODEL", "parse", "summary"]

#: the smallest memory counted as a macro
MIN_BITS = 256
#: µm² per bit: 1 / (0.826 Mb/mm²), OpenRAM FreePDK45
UM2_PER_BIT = 1e6 / 0.826e6
#: NanGate45 NAND2_X1 footprint, µm² (1 GE)
NAND2_UM2 = 0.798
GE_PER_BIT = UM2_PER_BIT / NAND2_UM2
#: the model in one line, for the reports
MODEL = (f"{UM2_PER_BIT:.2f} um2/bit (OpenRAM FreePDK45, 0.826 Mb/mm2) = {GE_PER_BIT:.2f} GE/bit "
         f"of NanGate45 (NAND2_X1 {NAND2_UM2} um2); a lower bound for macros of a few kbit")


def parse(path, top):
    """The memories of a ``dump t:$mem_v2`` taken after ``synth -run begin:fine`` (read
    registers merged into the memories): ``{"module", "cell", "name", "width", "depth",
    "bits", "macro"}`` each; ``macro``: every read port synchronous and at least
    :data:`MIN_BITS` bits. A design of one module (``top``) is dumped without its header."""
    text = Path(path).read_text() if Path(path).exists() else ""
    blocks = re.findall(r"^module (\S+)\n(.*?)^end\n", text, re.M | re.S) or [(top, text)]
    found = []
    for module, body in blocks:
        for cell, block in re.findall(r"^\s*cell \$mem_v2 (\S+)\n(.*?)^\s*end", body,
                                      re.M | re.S):
            p = dict(re.findall(r"parameter \\(\w+) (\S+)", block))
            width, depth = int(p.get("WIDTH", 0)), int(p.get("SIZE", 0))
            clk = p.get("RD_CLK_ENABLE", "0'").split("'")[-1]
            found.append({"module": module.lstrip("\\"), "cell": cell.lstrip("\\"),
                          "name": p.get("MEMID", cell).strip('"\\'), "width": width,
                          "depth": depth, "bits": width * depth,
                          "macro": int(p.get("RD_PORTS", 0)) > 0 and set(clk) == {"1"}
                          and width * depth >= MIN_BITS})
    return found


def summary(memories, logic):
    """The report entry: the macros, their bits and SRAM estimate, the logic without them
    (``logic``: the NanGate45 area dict of the macro netlist) and the total; None without
    macros."""
    macros = [{k: m[k] for k in ("name", "module", "width", "depth", "bits")}
              | {"sram_ge": round(m["bits"] * GE_PER_BIT, 1)} for m in memories if m["macro"]]
    if not macros:
        return None
    bits = sum(m["bits"] for m in macros)
    sram = round(bits * GE_PER_BIT, 1)
    return {"list": macros, "bits": bits, "logic_ge": logic["ge"], "logic_ffs": logic["ffs"],
            "sram_ge": sram, "total_ge": round(logic["ge"] + sram, 1), "model": MODEL}
