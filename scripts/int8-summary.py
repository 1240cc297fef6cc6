#!/usr/bin/env python3
"""Summarizes `cargo bench --bench int8`: per layer, the best f32 variant (any algorithm, and the
best that is not Winograd), the best int8 variant, their GOP/s, and f32 time / int8 time with the
interval from criterion's medians' 95% intervals (a ratio whose interval includes 1 is a tie).

Usage: scripts/int8-summary.py [CRITERION_DIR]   (default target/criterion)
"""
import json
import os
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"


def read(group, fn):
    base = os.path.join(root, group, fn, "new")
    est = json.load(open(os.path.join(base, "estimates.json")))["median"]
    bench = json.load(open(os.path.join(base, "benchmark.json")))
    flops = (bench.get("throughput") or {}).get("Elements")
    ci = est["confidence_interval"]
    return est["point_estimate"], ci["lower_bound"], ci["upper_bound"], flops


def best(rows):
    return min(rows, key=lambda r: r[1][0]) if rows else None


print(f"{'layer':<22} {'best f32':<34} {'GF/s':>6}  {'best int8':<32} {'GOP/s':>6}  {'f32/int8':>8} {'interval':>14}  {'vs f32 non-Winograd':>19}")
for group in sorted(os.listdir(root)):
    if not group.startswith("int8_"):
        continue
    rows = []
    for fn in sorted(os.listdir(os.path.join(root, group))):
        if os.path.exists(os.path.join(root, group, fn, "new", "estimates.json")):
            rows.append((fn, read(group, fn)))
    f32 = best([r for r in rows if r[0].startswith("f32-")])
    f32d = best([r for r in rows if r[0].startswith("f32-") and "winograd" not in r[0]])
    q = best([r for r in rows if r[0].startswith("u8s8u8-")])
    if not (f32 and q):
        continue
    (fn, (m, lo, hi, flops)), (qn, (qm, qlo, qhi, _)) = f32, q
    ratio, rlo, rhi = m / qm, lo / qhi, hi / qlo
    verdict = "tie" if rlo <= 1 <= rhi else ""
    gf = lambda t: flops / t if flops else float("nan")
    print(f"{group[5:]:<22} {fn:<34} {gf(m):6.1f}  {qn:<32} {gf(qm):6.1f}  {ratio:7.2f}x [{rlo:.2f}, {rhi:.2f}] {verdict:<4} {f32d[1][0] / qm:6.2f}x ({f32d[0]})")
