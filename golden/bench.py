"""Golden-model speed and memory (``make bench-golden``).

EBPC: words/s of encode and decode on 1 M-word maps at both word widths, and the peak memory
each allocates per word (tracemalloc, which numpy reports its buffers to; the output counts) on
the same maps (``--memory-words``: larger maps give smaller figures, the fixed temporaries of
one piece spread over more words; decoding under tracemalloc is slow).
HC-P: weights/s of dictionary decode. Prints two tables and writes
``build/reports/golden_ebpc.json`` and ``build/reports/golden_dict.json``. Each speed is the
best of ``--repeat`` runs on one core of this machine.
"""

import argparse
import json
import platform
import time
import tracemalloc

import numpy as np

from dnnpress.paths import REPORTS

from . import datagen, dict_codec, ebpc

#: HC-P decode cases: (label, sparsity, k, G, B, R); G, B, R as the CLI's defaults unless said
DICT_CASES = [("pruned50", 0.5, 0, 4, 4, 4), ("pruned50", 0.5, 4, 4, 4, 4),
              ("pruned50", 0.5, 4, 1, 8, 4), ("dense", 0.0, 2, 4, 8, 4)]


def best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def peak_bytes(fn):
    """Peak memory ``fn()`` allocates, its result included, in bytes (tracemalloc)."""
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        if not tracing:
            tracemalloc.stop()


def ebpc_memory(kind, n, word_bits, seed=1, decode=True):
    """Peak bytes per word of EBPC encode and decode (None unless ``decode``) of an ``n``-word
    map of ``kind``."""
    x = datagen.make(kind, np.random.default_rng(seed), n, word_bits)
    znz, bpc = ebpc.encode(x, word_bits)
    return (peak_bytes(lambda: ebpc.encode(x, word_bits)) / n,
            peak_bytes(lambda: ebpc.decode(znz, bpc, n, word_bits)) / n if decode else None)


def run(n, repeat, kinds, word_bits=(8, 16), memory_words=1 << 20, seed=1):
    rows = []
    for wb in word_bits:
        for kind in kinds:
            x = datagen.make(kind, np.random.default_rng(seed), n, wb)
            znz, bpc = ebpc.encode(x, wb)
            assert np.array_equal(ebpc.decode(znz, bpc, n, wb), x)
            te = best_time(lambda: ebpc.encode(x, wb), repeat)                  # noqa: B023
            td = best_time(lambda: ebpc.decode(znz, bpc, n, wb), repeat)        # noqa: B023
            me, md = ebpc_memory(kind, memory_words, wb, seed) if memory_words else (None,) * 2
            rows.append({"map": kind, "word_bits": wb, "words": n,
                         "zeros": float(np.mean(x == 0)), "ratio": n / (len(znz) + len(bpc)),
                         "encode_words_per_s": n / te, "decode_words_per_s": n / td,
                         "memory_words": memory_words, "encode_bytes_per_word": me,
                         "decode_bytes_per_word": md})
    return rows


def run_dict(n, repeat, seed=1):
    rows = []
    for label, sparsity, k, g, b, r in DICT_CASES:
        rng = np.random.default_rng(seed)
        w = rng.normal(0.0, 1.0, n) * (rng.random(n) >= sparsity)
        t = dict_codec.trim(dict_codec.quantise(w)[0], k)
        e = dict_codec.encode(t, k, g, b, r)
        assert np.array_equal(dict_codec.decode(e.stream)[0], t)
        td = best_time(lambda: dict_codec.decode(e.stream), repeat)           # noqa: B023
        rows.append({"weights": label, "n": n, "k": k, "G": g, "B": b, "R": r,
                     "ratio": e.ratio(), "decode_weights_per_s": n / td})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=1 << 20, help="words per map for the speeds")
    ap.add_argument("--memory-words", type=int, default=1 << 20,
                    help="words per map for the memory figures (0: skip them)")
    ap.add_argument("--weights", type=int, default=1 << 18, help="weights per HC-P tensor")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--maps", nargs="+", default=["relu", "sparse50", "dense", "zeros"],
                    choices=list(datagen.KINDS))
    ap.add_argument("--word-bits", type=int, nargs="+", default=[8, 16], choices=[8, 16])
    args = ap.parse_args(argv)
    cpu = platform.processor() or platform.machine()
    rows = run(args.words, args.repeat, args.maps, args.word_bits, args.memory_words)
    print(f"EBPC golden model, {args.words} words per map (memory: {args.memory_words}), "
          f"best of {args.repeat}, {cpu}")
    print(f"{'bits':>4}  {'map':<12}{'zeros':>7}{'ratio':>8}{'encode Mw/s':>13}"
          f"{'decode Mw/s':>13}{'encode B/w':>12}{'decode B/w':>12}")
    for r in rows:
        mem = "".join(f"{v:>12.1f}" if v is not None else f"{'-':>12}"
                      for v in (r["encode_bytes_per_word"], r["decode_bytes_per_word"]))
        print(f"{r['word_bits']:>4}  {r['map']:<12}{r['zeros']:>7.2f}{r['ratio']:>8.2f}"
              f"{r['encode_words_per_s'] / 1e6:>13.2f}{r['decode_words_per_s'] / 1e6:>13.2f}"
              + mem)
    drows = run_dict(args.weights, args.repeat)
    print(f"HC-P dictionary decode, {args.weights} weights per tensor, best of {args.repeat}")
    print(f"{'weights':<10}{'k':>3}{'G':>4}{'B':>4}{'R':>4}{'ratio':>8}{'decode Mw/s':>13}")
    for r in drows:
        print(f"{r['weights']:<10}{r['k']:>3}{r['G']:>4}{r['B']:>4}{r['R']:>4}{r['ratio']:>8.2f}"
              f"{r['decode_weights_per_s'] / 1e6:>13.2f}")
    REPORTS.mkdir(parents=True, exist_ok=True)
    for name, data in (("golden_ebpc.json", {"words": args.words, "repeat": args.repeat,
                                             "rows": rows}),
                       ("golden_dict.json", {"weights": args.weights, "repeat": args.repeat,
                                             "rows": drows})):
        (REPORTS / name).write_text(json.dumps(data, indent=2))
        print(f"wrote {REPORTS / name}")


if __name__ == "__main__":
    main()
