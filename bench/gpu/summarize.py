#!/usr/bin/env python3
"""Markdown tables for docs/performance.md from the JSON of the GPU benchmarks.

  --static   static_cubic_fit's JSON (copy, hand-written kernel, ctgrad static value_and_grad)
  --dynamic  dynamic_loops' JSON (ctgrad dynamic layer on cuda)
  --torch    torch_cuda.py's JSON (PyTorch on cuda)
  --session  run_gpu.sh's session.txt (date, device, versions, commands), printed first

Any of them may be left out; the tables then show what is there. Speed-ups are PyTorch's time
divided by ctgrad's (above 1: ctgrad is faster).
"""
import argparse
import json


def load(path):
    if not path:
        return None
    with open(path) as f:
        return json.load(f)


def by_program(doc):
    return {r["program"]: r for r in doc["results"]} if doc else {}


def fmt_us(us):
    if us is None:
        return "n/a"
    if us >= 1000:
        return f"{us / 1000:.3g} ms"
    return f"{us:.3g} µs"


def ratio(num, den):
    return "n/a" if num is None or den is None else f"{num / den:.1f}x"


def static_table(static, dynamic, torch):
    print(f"**Cubic fit, value and 4 partials, float32** (device: {static['device']}, compute capability "
          f"{static['compute_capability']}; median of {static['repetitions']} repetitions, cudaEvents; "
          f"results checked against a float64 kernel: {'ok' if static['results_agree'] else 'MISMATCH'})")
    print()
    print("GB/s: ctgrad static and the hand-written kernel count x and y read once (2 N 4 bytes); the copy "
          "counts read + write (2 x the 2 N 4 bytes copied). % of copy: the method's GB/s over the copy's.")
    print()
    dyn, tor = by_program(dynamic), by_program(torch)
    print("| N | copy GB/s (r+w) | hand kernel | GB/s | % of copy | ctgrad static | GB/s | % of copy "
          "| ctgrad dynamic fwd+bwd | PyTorch fwd+bwd | PyTorch / static | PyTorch / dynamic |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for entry in static["sizes"]:
        n, m = entry["n"], entry["methods"]
        copy, hand, ours = m["copy"], m["hand"], m["ctgrad"]
        static_us = ours["median_s"] * 1e6
        d = dyn.get(f"cubic_{n}", {}).get("median_us")
        t = tor.get(f"cubic_{n}", {}).get("median_us")
        print(f"| {n:,} | {copy['bytes_per_s'] / 1e9:.0f} "
              f"| {fmt_us(hand['median_s'] * 1e6)} | {hand['bytes_per_s'] / 1e9:.0f} | {100 * hand['ratio_to_copy']:.0f}% "
              f"| {fmt_us(static_us)} | {ours['bytes_per_s'] / 1e9:.0f} | **{100 * ours['ratio_to_copy']:.0f}%** "
              f"| {fmt_us(d)} | {fmt_us(t)} | {ratio(t, static_us)} | {ratio(t, d)} |")
    print()


def loops_table(dynamic, torch):
    dyn, tor = by_program(dynamic), by_program(torch)
    names = list(dict.fromkeys([*dyn, *tor]))
    any_doc = dynamic or torch
    print(f"**Dynamic layer on cuda, per step** (median of {any_doc['repetitions']} repetitions; "
          "steps per repetition and warm-up steps in the table)")
    print()
    print("| program | steps (warm-up) | PyTorch us/step | ctgrad dynamic us/step | speed-up |")
    print("|---|---|---:|---:|---:|")
    for name in names:
        d, t = dyn.get(name, {}), tor.get(name, {})
        counts = d or t
        dm, tm = d.get("median_us"), t.get("median_us")
        print(f"| {name} | {counts['steps']} ({counts['warmup']}) | "
              f"{'n/a' if tm is None else f'{tm:.1f}'} | {'n/a' if dm is None else f'{dm:.1f}'} | {ratio(tm, dm)} |")
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--static")
    parser.add_argument("--dynamic")
    parser.add_argument("--torch")
    parser.add_argument("--session")
    args = parser.parse_args()
    if args.session:
        with open(args.session) as f:
            print("```")
            print(f.read().rstrip())
            print("```")
            print()
    static, dynamic, torch = load(args.static), load(args.dynamic), load(args.torch)
    if torch:
        print(f"PyTorch {torch['torch']} (CUDA {torch['torch_cuda']}) on {torch['device']}")
        print()
    if static:
        static_table(static, dynamic, torch)
    if dynamic or torch:
        loops_table(dynamic, torch)


if __name__ == "__main__":
    main()
