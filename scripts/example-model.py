#!/usr/bin/env python3
"""Writes an example ONNX model as an exporter writes it, batch norm folded into the convolutions
(Conv with bias), a symbolic batch, 224x224 images: MobileNetV2 (width 1.0; Clip for ReLU6, Add
residuals) or ResNet-50 (v1.5: the stride on the 3x3; MaxPool stem, Relu, Add). Weights are
graph inputs with their shapes (PyTorch's export_params=False), so the file stays small; the
suite reads only shapes.

Then checks the model with onnx's checker and compares every convolution's output size from
onnx's own shape inference with the one `simdconv-bench shapes --shapes` reads.

    scripts/example-model.py {mobilenet_v2|resnet50} OUT.onnx   (with the venv: scripts/venv.sh)
"""
import re
import subprocess
import sys

import onnx
from onnx import TensorProto, helper

# (expansion t, output channels c, repeats n, first stride s), as in the MobileNetV2 paper.
BLOCKS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
          (6, 160, 3, 2), (6, 320, 1, 1)]


class Graph:
    def __init__(self):
        self.nodes, self.inputs, self.count = [], [], 0

    def weight(self, name, dims):
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
        return name

    def conv(self, x, cin, cout, k, stride=1, groups=1, relu6=True, name=None, act="Clip"):
        self.count += 1
        name = name or f"conv{self.count}"
        w = self.weight(f"{name}.weight", [cout, cin // groups, k, k])
        b = self.weight(f"{name}.bias", [cout])
        y = f"{name}.out"
        self.nodes.append(helper.make_node(
            "Conv", [x, w, b], [y], name=name, kernel_shape=[k, k], strides=[stride, stride],
            pads=[k // 2] * 4, group=groups, dilations=[1, 1]))
        if not relu6:
            return y
        ins = [y, "zero", "six"] if act == "Clip" else [y]
        self.nodes.append(helper.make_node(act, ins, [f"{name}.act"], name=f"{name}.{act}"))
        return f"{name}.act"


def mobilenet_v2():
    g = Graph()
    g.nodes.append(helper.make_node("Constant", [], ["zero"], name="zero",
                                    value=helper.make_tensor("z", TensorProto.FLOAT, [], [0.0])))
    g.nodes.append(helper.make_node("Constant", [], ["six"], name="six",
                                    value=helper.make_tensor("s", TensorProto.FLOAT, [], [6.0])))
    x = g.conv("input", 3, 32, 3, stride=2, name="features.0")
    cin = 32
    for i, (t, c, n, s) in enumerate(BLOCKS):
        for j in range(n):
            stride = s if j == 0 else 1
            name = f"features.{i + 1}.{j}"
            y = x
            hidden = cin * t
            if t != 1:
                y = g.conv(y, cin, hidden, 1, name=f"{name}.expand")
            y = g.conv(y, hidden, hidden, 3, stride=stride, groups=hidden, name=f"{name}.dw")
            y = g.conv(y, hidden, c, 1, relu6=False, name=f"{name}.project")
            if stride == 1 and cin == c:
                g.nodes.append(helper.make_node("Add", [x, y], [f"{name}.add"], name=f"{name}.add"))
                y = f"{name}.add"
            x, cin = y, c
    x = g.conv(x, cin, 1280, 1, name="features.18")
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"], name="pool"))
    g.nodes.append(helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten", axis=1))
    fc_w = g.weight("classifier.weight", [1000, 1280])
    fc_b = g.weight("classifier.bias", [1000])
    g.nodes.append(helper.make_node("Gemm", ["flat", fc_w, fc_b], ["logits"], name="classifier",
                                    transB=1))
    return finish(g, "mobilenet_v2")


def resnet50():
    g = Graph()
    x = g.conv("input", 3, 64, 7, stride=2, name="conv1", act="Relu")
    g.nodes.append(helper.make_node("MaxPool", [x], ["pool1"], name="maxpool", kernel_shape=[3, 3],
                                    strides=[2, 2], pads=[1, 1, 1, 1]))
    x, cin = "pool1", 64
    for i, (width, n, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]):
        for j in range(n):
            s = stride if j == 0 else 1
            name = f"layer{i + 1}.{j}"
            y = g.conv(x, cin, width, 1, name=f"{name}.conv1", act="Relu")
            y = g.conv(y, width, width, 3, stride=s, name=f"{name}.conv2", act="Relu")
            y = g.conv(y, width, width * 4, 1, relu6=False, name=f"{name}.conv3")
            short = x
            if j == 0:
                short = g.conv(x, cin, width * 4, 1, stride=s, relu6=False,
                               name=f"{name}.downsample")
            g.nodes.append(helper.make_node("Add", [short, y], [f"{name}.add"], name=f"{name}.add"))
            g.nodes.append(helper.make_node("Relu", [f"{name}.add"], [f"{name}.out"],
                                            name=f"{name}.relu"))
            x, cin = f"{name}.out", width * 4
    g.nodes.append(helper.make_node("GlobalAveragePool", [x], ["pooled"], name="pool"))
    g.nodes.append(helper.make_node("Flatten", ["pooled"], ["flat"], name="flatten", axis=1))
    fc_w = g.weight("fc.weight", [1000, 2048])
    fc_b = g.weight("fc.bias", [1000])
    g.nodes.append(helper.make_node("Gemm", ["flat", fc_w, fc_b], ["logits"], name="fc",
                                    transB=1))
    return finish(g, "resnet50")


def finish(g, name):
    image = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 224, 224])
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 1000])
    graph = helper.make_graph(g.nodes, name, [image] + g.inputs, [logits])
    model = helper.make_model(graph, producer_name="simdconv scripts/example-model.py",
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def main():
    which, out = sys.argv[1], sys.argv[2]
    model = {"mobilenet_v2": mobilenet_v2, "resnet50": resnet50}[which]()
    onnx.checker.check_model(model)
    onnx.save(model, out)
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in inferred.graph.value_info}
    expect = {n.name: shapes[n.output[0]][2:] for n in model.graph.node if n.op_type == "Conv"}
    listing = subprocess.run(
        ["cargo", "run", "--release", "-q", "-p", "simdconv-bench", "--", "shapes", "--shapes",
         out, "--benchdnn"], check=True, capture_output=True, text=True).stdout
    got = {}
    for line in listing.splitlines():
        m = re.search(r'oh(\d+)ow(\d+).*n"[^:]+:([^*"]+)(?:\*(\d+))?"', line)
        if m:
            got[m.group(3)] = ([int(m.group(1)), int(m.group(2))], int(m.group(4) or 1))
    # A layer read once stands for every identical convolution after it (its multiplicity).
    runs = sum(c for _, c in got.values())
    bad = [(k, v, expect[k]) for k, (v, _) in got.items() if expect[k] != v]
    print(f"{out}: {len(expect)} convolutions, {len(got)} distinct layers read, {runs} with "
          f"repeats; output sizes differing from onnx shape inference: {bad or 'none'}")
    sys.exit(1 if bad or runs != len(expect) else 0)


if __name__ == "__main__":
    main()
