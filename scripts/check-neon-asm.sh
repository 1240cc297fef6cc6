#!/usr/bin/env bash
# Checks that the NEON hot loops really are NEON multiply-accumulates: disassembles the aarch64
# release build of the command-line binary and, for every body behind the NEON entry point
# (`simd::neon::entry`, one symbol per body thanks to v0 mangling, see .cargo/config.toml),
# asserts that it contains its multiply-accumulate on v registers (`fmla .4s` for f32, `mla .4s`
# for the int8 widening path) and that no loop containing one has a call (`bl`/`blr`) in it
# (calls into the panic machinery, the cold side of a bounds check, excepted).
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-gnu
# The command-line binary: it reaches every row (f32, int8, bf16) through the registries.
cargo build --release -p simdconv-bench --bin simdconv-bench --target "$target" >/dev/null 2>&1 \
  || cargo build --release -p simdconv-bench --bin simdconv-bench --target "$target"
bin=target/$target/release/simdconv-bench
asm=$(mktemp)
trap 'rm -f "$asm"' EXIT
aarch64-linux-gnu-objdump -d -C --no-show-raw-insn "$bin" > "$asm"
python3 - "$asm" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
# One entry instantiation per body: (label, pattern on the demangled symbol, the instruction).
syms = [("gemm packed 8x12", r"ukernel::Packed<8, 3>", "fmla"),
        ("gemm indirect 8x12", r"ukernel::Indirect<8, 3>", "fmla"),
        ("depthwise row 4c", r"depthwise::row::Row>", "fmla"),
        ("winograd input", r"winograd::transforms::InputBody>", "fmla"),
        ("winograd output", r"winograd::transforms::OutputBody>", "fmla"),
        ("int8 gemm 8x12", r"lowp::gemm::Band<simdconv::simd::int8::Q8, simdconv::simd::neon::Neon, 8, 3>", "mla"),
        ("int8 depthwise 4c", r"quant::depthwise::Rows<simdconv::simd::neon::Neon>", "mla")]
fail = False
for sym, pat, mac in syms:
    m = None
    for h in re.finditer(r"^[0-9a-f]+ <(.*?)>:\n(.*?)(?:\n\n|\Z)", text, re.S | re.M):
        if "simd::neon::entry" in h.group(1) and re.search(pat, h.group(1)):
            m = h
            break
    if not m:
        print(f"FAIL {sym}: no simd::neon::entry symbol matching {pat}"); fail = True; continue
    body = m.group(2)
    ins = []
    for line in body.splitlines():
        p = re.match(r"\s*([0-9a-f]+):\s+(\S+)\s*(.*)", line)
        if p:
            ins.append((int(p.group(1), 16), p.group(2), p.group(3)))
    fmla = [i for i in ins if i[1] == mac and re.match(r"v\d+\.4s", i[2])]
    # Loops: backward branches inside the function.
    loops = []
    for addr, op, args in ins:
        if op.startswith("b") and op not in ("bl", "blr", "bic", "bif", "bit", "bsl"):
            t = re.search(r"\b([0-9a-f]+) <", args)
            if t and int(t.group(1), 16) < addr:
                loops.append((int(t.group(1), 16), addr))
    hot = [l for l in loops if any(l[0] <= a <= l[1] for a, _, _ in fmla)]
    # Calls to the panic machinery are the cold targets of bounds checks, never taken on valid
    # input; any other call (memcpy, memset, a non-inlined helper) in a hot loop is a failure.
    cold = re.compile(r"panic|slice_index_fail|index_fail|unwrap_failed")
    calls_in_hot = [(a, op, args) for a, op, args in ins if op in ("bl", "blr")
                    and not cold.search(args) and any(l[0] <= a <= l[1] for l in hot)]
    innermost = min(hot, key=lambda l: l[1] - l[0]) if hot else None
    n_inner = sum(1 for a, _, _ in fmla if innermost and innermost[0] <= a <= innermost[1])
    ok = bool(fmla) and bool(hot) and not calls_in_hot
    print(f"{'ok  ' if ok else 'FAIL'} {sym}: {len(fmla)} {mac} (v regs), {len(hot)} loops with {mac}, "
          f"innermost has {n_inner} {mac}, calls in those loops: {len(calls_in_hot)}")
    fail |= not ok
sys.exit(1 if fail else 0)
PY
