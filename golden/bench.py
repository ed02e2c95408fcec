"""Golden-model speed: words/s of EBPC encode and decode on 1 M-word maps (``make bench-golden``).

Prints a table and writes ``build/reports/golden_ebpc.json``. Each figure is the best of
``--repeat`` runs on one core of this machine.
"""

import argparse
import json
import platform
import time

import numpy as np

from dnnpress.paths import REPORTS

from . import datagen, ebpc


def best_time(fn, repeat):
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def run(n, repeat, kinds, seed=1):
    rows = []
    for kind in kinds:
        x = datagen.make(kind, np.random.default_rng(seed), n)
        znz, bpc = ebpc.encode(x)
        assert np.array_equal(ebpc.decode(znz, bpc, n), x)
        te = best_time(lambda: ebpc.encode(x), repeat)                  # noqa: B023
        td = best_time(lambda: ebpc.decode(znz, bpc, n), repeat)        # noqa: B023
        rows.append({"map": kind, "words": n, "zeros": float(np.mean(x == 0)),
                     "ratio": n / (len(znz) + len(bpc)),
                     "encode_words_per_s": n / te, "decode_words_per_s": n / td})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", type=int, default=1 << 20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--maps", nargs="+", default=["relu", "sparse50", "dense", "zeros"],
                    choices=list(datagen.KINDS))
    args = ap.parse_args(argv)
    rows = run(args.words, args.repeat, args.maps)
    print(f"EBPC golden model, {args.words} words per map, best of {args.repeat}, "
          f"{platform.processor() or platform.machine()}")
    print(f"{'map':<12}{'zeros':>7}{'ratio':>8}{'encode Mw/s':>13}{'decode Mw/s':>13}")
    for r in rows:
        print(f"{r['map']:<12}{r['zeros']:>7.2f}{r['ratio']:>8.2f}"
              f"{r['encode_words_per_s'] / 1e6:>13.2f}{r['decode_words_per_s'] / 1e6:>13.2f}")
    REPORTS.mkdir(parents=True, exist_ok=True)
    out = REPORTS / "golden_ebpc.json"
    out.write_text(json.dumps({"words": args.words, "repeat": args.repeat, "rows": rows},
                              indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
