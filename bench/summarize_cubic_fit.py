#!/usr/bin/env python3
"""Turns bench/cubic_fit's JSON (Google Benchmark, with repetitions) and bench/cubic_fit_torch.py's
JSON into the Markdown tables of docs/performance.md: median time per call, GB/s (x and y read
once), and ratios against the hand-written loops, the read-only bound and ctgrad_eval.

usage: summarize_cubic_fit.py CUBIC_FIT.json [TORCH.json]
"""
import json
import sys

ORDER = ["hand_fused", "hand_fused_omp_simd", "hand_multipass", "xtensor_temporaries", "read_x_y",
         "ctgrad_eval", "ctgrad_value_and_grad", "torch_forward", "torch_autograd", "torch_manual_grad"]
LABEL = {
    "hand_fused": "(i) hand-written, one loop",
    "hand_fused_omp_simd": "(i') same + `omp simd` reduction",
    "hand_multipass": "(i-b) seed's passes, literal",
    "xtensor_temporaries": "(ii) xtensor, temporaries",
    "read_x_y": "(iii) read x, y once",
    "ctgrad_eval": "(iv) ctgrad eval",
    "ctgrad_value_and_grad": "(v) ctgrad value_and_grad",
    "torch_forward": "PyTorch forward (no_grad)",
    "torch_autograd": "PyTorch autograd",
    "torch_manual_grad": "PyTorch seed step 2 (manual)",
}


def load_cpp(path):
    data = json.load(open(path))
    out = {}
    spread = {}
    for b in data["benchmarks"]:
        if b.get("run_type") != "aggregate":
            continue
        name, n = b["run_name"].split("/")[:2]
        unit = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b.get("time_unit", "ns")]
        if b["aggregate_name"] == "median":
            out[(name, int(n))] = b["real_time"] * unit
        elif b["aggregate_name"] == "cv":
            spread[(name, int(n))] = b["real_time"]
    return data.get("context", {}), out, spread


def main():
    context, times, cv = load_cpp(sys.argv[1])
    if len(sys.argv) > 2:
        for r in json.load(open(sys.argv[2]))["results"]:
            times[(r["name"], r["n"])] = r["median_s"]
            cv[(r["name"], r["n"])] = (r["max_s"] - r["min_s"]) / r["median_s"]
    sizes = sorted({n for _, n in times})
    for n in sizes:
        t = {name: times[(name, m)] for name, m in times if m == n}
        print(f"\n**N = {n:,}** ({2 * n * 4 / 1e6:g} MB of input)\n")
        print("| method | median time | GB/s | spread | vs (i) | vs (i') | vs (iii) | vs (iv) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for name in ORDER:
            if name not in t:
                continue
            s = t[name]
            time_text = f"{s * 1e6:,.3g} µs" if s < 1e-3 else f"{s * 1e3:,.3g} ms"
            gbs = 2 * n * 4 / s / 1e9
            ratio = lambda ref: f"{s / t[ref]:.2f}x" if ref in t else "-"
            spread = cv.get((name, n))
            spread_text = f"{spread * 100:.0f}%" if spread is not None else "-"
            print(f"| {LABEL[name]} | {time_text} | {gbs:.1f} | {spread_text} | {ratio('hand_fused')} | "
                  f"{ratio('hand_fused_omp_simd')} | {ratio('read_x_y')} | {ratio('ctgrad_eval')} |")
    print("\nTime ratios: below 1 is faster than the reference column. Spread: coefficient of variation"
          " over the repetitions (C++), (max - min) / median (PyTorch).")
    print("\nTargets (from the issue):")
    for n in sizes:
        v, i, i2, iii, iv = (times.get((k, n)) for k in
                             ("ctgrad_value_and_grad", "hand_fused", "hand_fused_omp_simd", "read_x_y", "ctgrad_eval"))
        if None in (v, i, i2, iii, iv):
            continue
        print(f"- N = {n:,}: (v)/(i) time {v / i:.2f} ({'met' if v <= i else 'MISSED'}); "
              f"(v)/(i') time {v / i2:.2f}; (v) at {iii / v * 100:.0f}% of (iii)'s bytes/s"
              f"{(' (' + ('met' if iii / v >= 0.7 else 'MISSED') + ', target >= 70% at N = 1e7)') if n == 10_000_000 else ''}; "
              f"(v)/(iv) time {v / iv:.2f} ({'met' if v <= 1.5 * iv else 'MISSED'}, target <= 1.5)")


if __name__ == "__main__":
    main()
