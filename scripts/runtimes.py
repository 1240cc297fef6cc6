"""The runtime reference: each layer of a results.json, as a one-node ONNX model, run by
onnxruntime on one thread, f32 (Conv) and int8 (QLinearConv, u8 activations, s8 weights per
output channel), timed by onnxruntime's own profiler: the convolution node's time, apart from
the whole call (which adds the runtime's input and output handling and any layout reorder).
Writes runtimes.json beside the results (schema below); `simdconv-bench report` reads it.

    scripts/runtimes.sh RESULTS_DIR [--runs N]     (creates the venv, pins to one core)

runtimes.json, schema "simdconv-runtimes/1":
  {"schema": ..., "runtime": "onnxruntime", "version": "1.x", "threads": 1,
   "layers": [{"layer": name, "dtype": "f32" | "int8", "op": "Conv" | "QLinearConv",
               "kernels": the kernels run (reorders included),
               "node_ns": median time of the convolution's node, "nodes_ns": of every node
               (reorders included), "call_ns": of the whole call, "runs": N}]}
"""

import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper


def conv_attrs(s):
    return dict(
        kernel_shape=[s["r"], s["s"]],
        strides=[s["stride_h"], s["stride_w"]],
        pads=[s["pad_top"], s["pad_left"], s["pad_bottom"], s["pad_right"]],
        dilations=[s["dilation_h"], s["dilation_w"]],
        group=s["groups"],
    )


def model(s, dtype, rng):
    """A one-node model of shape `s` (NCHW, as ONNX has it) and its input."""
    n, c, h, w, k = s["n"], s["c"], s["h"], s["w"], s["k"]
    cg = c // s["groups"]
    wshape = [k, cg, s["r"], s["s"]]
    yshape = [n, k, s["p"], s["q"]]
    if dtype == "f32":
        x = rng.standard_normal((n, c, h, w)).astype(np.float32)
        wt = rng.standard_normal(wshape).astype(np.float32)
        b = rng.standard_normal(k).astype(np.float32)
        inits = [
            helper.make_tensor("W", TensorProto.FLOAT, wshape, wt.ravel()),
            helper.make_tensor("B", TensorProto.FLOAT, [k], b),
        ]
        node = helper.make_node("Conv", ["X", "W", "B"], ["Y"], **conv_attrs(s))
        xt, yt = TensorProto.FLOAT, TensorProto.FLOAT
    else:
        x = rng.integers(0, 256, (n, c, h, w), dtype=np.uint8)
        wt = rng.integers(-127, 128, wshape, dtype=np.int8)
        b = rng.integers(-1000, 1000, k, dtype=np.int32)
        inits = [
            helper.make_tensor("xs", TensorProto.FLOAT, [], [0.02]),
            helper.make_tensor("xz", TensorProto.UINT8, [], [128]),
            helper.make_tensor("W", TensorProto.INT8, wshape, wt.ravel().tolist()),
            helper.make_tensor("ws", TensorProto.FLOAT, [k], [0.01] * k),
            helper.make_tensor("wz", TensorProto.INT8, [k], [0] * k),
            helper.make_tensor("ys", TensorProto.FLOAT, [], [0.5]),
            helper.make_tensor("yz", TensorProto.UINT8, [], [0]),
            helper.make_tensor("B", TensorProto.INT32, [k], b.tolist()),
        ]
        node = helper.make_node(
            "QLinearConv",
            ["X", "xs", "xz", "W", "ws", "wz", "ys", "yz", "B"],
            ["Y"],
            **conv_attrs(s),
        )
        xt, yt = TensorProto.UINT8, TensorProto.UINT8
    graph = helper.make_graph(
        [node],
        "layer",
        [helper.make_tensor_value_info("X", xt, [n, c, h, w])],
        [helper.make_tensor_value_info("Y", yt, yshape)],
        inits,
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m, x, node.op_type


def measure(m, x, op, runs, tmp):
    path = os.path.join(tmp, "m.onnx")
    onnx.save(m, path)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.enable_profiling = True
    so.profile_file_prefix = os.path.join(tmp, "prof")
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    for _ in range(3):
        sess.run(None, {"X": x})
    calls = []
    for _ in range(runs):
        t = time.perf_counter_ns()
        sess.run(None, {"X": x})
        calls.append(time.perf_counter_ns() - t)
    prof = sess.end_profiling()
    events = json.load(open(prof))
    os.remove(prof)
    # Node events: "cat": "Node", name "<node>_kernel_time", args.op_name the kernel run. The
    # runtime reorders the layout around the convolution (f32: ReorderInput/ReorderOutput to
    # its blocked NCHWc; int8: Transpose to NHWC), as separate nodes: the convolution's own time
    # is its node's, the reorders are counted apart.
    nodes = [
        (e["dur"] * 1000, e.get("args", {}).get("op_name", ""))
        for e in events
        if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time")
    ]
    per_run = len(nodes) // (runs + 3) if nodes else 0
    conv, every = [], []
    if per_run:
        tail = nodes[-runs * per_run :]
        for i in range(runs):
            chunk = tail[i * per_run : (i + 1) * per_run]
            conv.append(sum(d for d, o in chunk if "Conv" in o))
            every.append(sum(d for d, _ in chunk))
    return {
        "op": op,
        "kernels": sorted({o for _, o in nodes}),
        "node_ns": statistics.median(conv) if conv else None,
        "nodes_ns": statistics.median(every) if every else None,
        "call_ns": statistics.median(calls),
        "runs": runs,
    }


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: runtimes.py RESULTS_DIR [--runs N]")
    out = sys.argv[1]
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 30
    res = json.load(open(os.path.join(out, "results.json")))
    seen, layers = set(), []
    for r in res["results"]:
        if r["layer"] not in seen:
            seen.add(r["layer"])
            layers.append((r["layer"], r["shape"]))
    dtypes = ["f32"] + (["int8"] if res.get("precision") else [])
    rng = np.random.default_rng(7)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, s in layers:
            for dt in dtypes:
                m, x, op = model(s, dt, rng)
                r = measure(m, x, op, runs, tmp)
                r.update(layer=name, dtype=dt)
                rows.append(r)
                ms = lambda v: v / 1e6 if v else float("nan")  # noqa: E731
                print(
                    f"{name:<24} {dt:<5} {op:<12} conv node {ms(r['node_ns']):8.3f} ms  "
                    f"all nodes {ms(r['nodes_ns']):8.3f} ms  call {ms(r['call_ns']):8.3f} ms"
                )
    doc = {
        "schema": "simdconv-runtimes/1",
        "runtime": "onnxruntime",
        "version": ort.__version__,
        "threads": 1,
        "layers": rows,
    }
    with open(os.path.join(out, "runtimes.json"), "w") as f:
        json.dump(doc, f, indent=1)
    print(f"wrote {os.path.join(out, 'runtimes.json')}")


if __name__ == "__main__":
    main()
