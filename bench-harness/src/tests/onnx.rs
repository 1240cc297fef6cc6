//! ONNX models through `--shapes`: the convolutions read with their geometry (pads, `auto_pad`,
//! groups, dilations, 1-D, the quantized ops), the shape propagation op by op, `value_info`,
//! identical layers counted, and each refusal or unknown shape with the message it gives.

use crate::schema::layer::Layer;
use crate::schema::results::CoverageGap;
use crate::shapes::onnx::{self, Attr, Attr::*, Builder};

fn read(b: Builder) -> Result<(Vec<Layer>, Vec<CoverageGap>), String> {
    onnx::layers(&b.bytes(), "m")
}

/// The model's one layer.
fn one(b: Builder) -> Layer {
    let (mut ls, gaps) = read(b).unwrap();
    assert_eq!((ls.len(), gaps.len()), (1, 0), "{ls:?} {gaps:?}");
    ls.remove(0)
}

/// A model `x -> Conv -> y` with these input and weight dimensions and attributes.
fn conv(x: &[Option<i64>], w: &[i64], attrs: Vec<(&str, Attr)>) -> Builder {
    Builder::default()
        .input("x", x)
        .weight("w", w)
        .node("Conv", "c", &["x", "w"], &["y"], attrs)
}

fn s(v: &[i64]) -> Vec<Option<i64>> {
    v.iter().map(|&d| Some(d)).collect()
}

#[test]
fn the_sample_model_reads_every_convolution() {
    let (ls, gaps) = onnx::layers(&onnx::sample(), "sample").unwrap();
    assert!(gaps.is_empty(), "{gaps:?}");
    let names: Vec<&str> = ls.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "sample:stem",
            "sample:dw",
            "sample:pw",
            "sample:dilated",
            "sample:c1x7",
            "sample:c7x1"
        ]
    );
    let by = |n: &str| ls.iter().find(|l| l.name == format!("sample:{n}")).unwrap();
    let stem = by("stem").shape;
    assert_eq!(
        (
            stem.n,
            stem.h,
            stem.c,
            stem.k,
            stem.stride_h,
            stem.pad_top,
            stem.p
        ),
        (1, 64, 3, 16, 2, 1, 32)
    );
    let dw = by("dw").shape;
    assert_eq!((dw.groups, dw.pad_top, dw.pad_bottom, dw.p), (16, 1, 1, 32));
    assert_eq!(by("pw").count, 2, "pw and pw2 are one layer run twice");
    // After MaxPool, a Reshape computed from Shape/Gather/Concat, and a Resize x2.
    let dil = by("dilated").shape;
    assert_eq!((dil.h, dil.dilation_h, dil.pad_left, dil.p), (32, 2, 2, 32));
    let r = by("c1x7").shape;
    assert_eq!((r.r, r.s, r.pad_top, r.pad_left, r.q), (1, 7, 0, 3, 32));
    let c = by("c7x1").shape;
    assert_eq!((c.r, c.s, c.pad_top, c.pad_right, c.p), (7, 1, 3, 0, 32));
    assert!(ls.iter().all(|l| l.networks == ["sample"]));
    let f = onnx::facts(&onnx::sample(), &["m0", "to", "u0", "logits"]).unwrap();
    assert_eq!(f[0], Ok(vec![1, 16, 16, 16]));
    assert_eq!(f[1], Ok(vec![4]));
    assert_eq!(f[2], Ok(vec![1, 16, 32, 32]));
    assert_eq!(f[3], Ok(vec![1, 10]));
}

#[test]
fn auto_pad_gives_onnx_padding() {
    let pads = |auto: &'static str| {
        let l = one(conv(
            &s(&[1, 8, 8, 8]),
            &[8, 8, 3, 3],
            vec![("auto_pad", Str(auto)), ("strides", Ints(vec![2, 2]))],
        ));
        (l.shape.pad_top, l.shape.pad_bottom, l.shape.p)
    };
    // Input 8, kernel 3, stride 2: SAME gives 4 outputs and one row of padding.
    assert_eq!(pads("SAME_UPPER"), (0, 1, 4));
    assert_eq!(pads("SAME_LOWER"), (1, 0, 4));
    assert_eq!(pads("VALID"), (0, 0, 3));
    assert_eq!(pads("NOTSET"), (0, 0, 3));
    let e = read(conv(
        &s(&[1, 8, 8, 8]),
        &[8, 8, 3, 3],
        vec![("auto_pad", Str("SAME"))],
    ))
    .unwrap_err();
    assert!(e.contains("node 'c' (Conv): auto_pad \"SAME\""), "{e}");
}

#[test]
fn batch_groups_one_d_and_quantized_convolutions() {
    let l = one(conv(
        &s(&[4, 32, 14, 14]),
        &[64, 8, 3, 3],
        vec![("group", Int(4)), ("pads", Ints(vec![1, 0, 1, 2]))],
    ));
    assert_eq!(
        (
            l.shape.n,
            l.shape.groups,
            l.shape.pad_top,
            l.shape.pad_left,
            l.shape.pad_right,
            l.shape.q
        ),
        (4, 4, 1, 0, 2, 14)
    );
    // A symbolic batch reads as 1.
    assert_eq!(
        one(conv(
            &[None, Some(8), Some(9), Some(9)],
            &[8, 8, 1, 1],
            vec![]
        ))
        .shape
        .n,
        1
    );
    // 1-D: a single row.
    let l = one(conv(
        &s(&[1, 8, 100]),
        &[16, 8, 5],
        vec![("strides", Ints(vec![2]))],
    ));
    assert_eq!(
        (
            l.shape.h,
            l.shape.w,
            l.shape.r,
            l.shape.s,
            l.shape.stride_w,
            l.shape.q
        ),
        (1, 100, 1, 5, 2, 48)
    );
    // QLinearConv's weights are input 3; ConvInteger's input 1.
    let q = Builder::default()
        .input("x", &s(&[1, 8, 10, 10]))
        .weight("w", &[16, 8, 3, 3])
        .weight("k", &[])
        .node(
            "QLinearConv",
            "q",
            &["x", "k", "k", "w", "k", "k", "k", "k"],
            &["y"],
            vec![],
        )
        .node(
            "ConvInteger",
            "i",
            &["x", "w"],
            &["z"],
            vec![("pads", Ints(vec![1, 1, 1, 1]))],
        );
    let (ls, _) = read(q).unwrap();
    assert_eq!(
        ls.iter()
            .map(|l| (l.shape.k, l.shape.p))
            .collect::<Vec<_>>(),
        [(16, 8), (16, 10)]
    );
}

#[test]
fn unknown_shapes_are_listed_with_the_reason() {
    // A symbolic height: the only convolution cannot be measured, which is an error.
    let e = read(conv(&[None, Some(8), None, Some(8)], &[8, 8, 3, 3], vec![])).unwrap_err();
    assert!(
        e.contains("none of its 1 convolutions") && e.contains("symbolic dimension 'N' (axis 2)"),
        "{e}"
    );
    // An op the propagation does not follow, beside a convolution that is measured.
    let b = conv(&s(&[1, 8, 8, 8]), &[8, 8, 3, 3], vec![])
        .node("TopK", "top", &["y"], &["t"], vec![])
        .node("Conv", "after", &["t", "w"], &["z"], vec![]);
    let (ls, gaps) = read(b).unwrap();
    assert_eq!(ls.len(), 1);
    assert_eq!(gaps[0].layer, "m:after");
    assert!(
        gaps[0]
            .reason
            .contains("does not propagate shapes through TopK"),
        "{gaps:?}"
    );
    // value_info gives the shape the propagation cannot.
    let b = conv(&s(&[1, 8, 8, 8]), &[8, 8, 3, 3], vec![])
        .node("TopK", "top", &["y"], &["t"], vec![])
        .info("t", &s(&[1, 8, 6, 6]))
        .node("Conv", "after", &["t", "w"], &["z"], vec![]);
    let (ls, gaps) = read(b).unwrap();
    assert_eq!((ls.len(), gaps.len(), ls[1].shape.h), (2, 0, 6));
    // A Reshape to a shape computed at run time.
    let b = conv(&s(&[1, 8, 8, 8]), &[8, 8, 3, 3], vec![])
        .input("dims", &s(&[4]))
        .node("Reshape", "r", &["y", "dims"], &["t"], vec![])
        .node("Conv", "after", &["t", "w"], &["z"], vec![]);
    let (_, gaps) = read(b).unwrap();
    assert!(
        gaps[0]
            .reason
            .contains("node 'r' (Reshape): input 1 (shape) is computed at run time"),
        "{gaps:?}"
    );
    // 3-D and transposed convolutions are listed, not measured.
    let b = conv(&s(&[1, 8, 8, 8]), &[8, 8, 3, 3], vec![])
        .input("v", &s(&[1, 8, 4, 8, 8]))
        .weight("w3", &[8, 8, 3, 3, 3])
        .node("Conv", "c3", &["v", "w3"], &["v1"], vec![])
        .node("ConvTranspose", "up", &["y", "w"], &["u"], vec![]);
    let (_, gaps) = read(b).unwrap();
    let reasons: Vec<&str> = gaps.iter().map(|g| g.reason.as_str()).collect();
    assert!(
        reasons[0].contains("3-D convolution") && reasons[1].contains("ConvTranspose"),
        "{reasons:?}"
    );
}

#[test]
fn malformed_models_are_refused_naming_the_node() {
    let bad = |b: Builder, want: &str| {
        let e = read(b).unwrap_err();
        assert!(e.contains(want), "{e:?} should say {want:?}");
    };
    bad(
        conv(&s(&[1, 8, 8, 8]), &[8, 4, 3, 3], vec![]),
        "node 'c' (Conv): 8 input channels, weights [8, 4, 3, 3] and group 1 do not agree",
    );
    bad(
        conv(
            &s(&[1, 8, 8, 8]),
            &[8, 8, 3, 3],
            vec![("strides", Ints(vec![1, 1, 1]))],
        ),
        "strides has 3 values for 2 spatial axes",
    );
    bad(
        conv(
            &s(&[1, 8, 8, 8]),
            &[8, 8, 3, 3],
            vec![("pads", Ints(vec![1, -1, 1, 1]))],
        ),
        "pads: dimension -1 is out of range",
    );
    bad(
        conv(&s(&[1, 8, 2, 2]), &[8, 8, 5, 5], vec![]),
        "a window of 5 does not fit 2",
    );
    bad(
        conv(&s(&[1, 8, 8, 8]), &[8, 8, -3, 3], vec![]),
        "initializer 'w': dimension -3 is out of range",
    );
    bad(
        conv(
            &s(&[1, 8, 8, 8]),
            &[8, 8, 3, 3],
            vec![("kernel_shape", Ints(vec![5, 5]))],
        ),
        "kernel_shape [5, 5] differs",
    );
    bad(
        conv(&s(&[1, 8, 8, 8]), &[8, 8, 3, 3], vec![]).info("y", &s(&[1, 8, 7, 7])),
        "tensor 'y': value_info says [1, 8, 7, 7], but node 'c' (Conv) gives [1, 8, 6, 6]",
    );
    bad(
        Builder::default().input("x", &s(&[1, 3, 8, 8])),
        "none of its 0 convolutions",
    );
    let e = onnx::layers(b"\xff\xff\xff", "m").unwrap_err();
    assert!(e.contains("not an ONNX model"), "{e}");
}

/// The shape each op gives, through a chain that ends in the tensor `out`.
fn through(b: Builder, out: &str) -> Result<Vec<usize>, String> {
    onnx::facts(&b.bytes(), &[out]).unwrap().remove(0)
}

#[test]
fn the_layout_ops_propagate_shapes() {
    let x = || Builder::default().input("x", &s(&[1, 8, 10, 12]));
    let op = |op: &str, ins: &[&str], attrs: Vec<(&str, Attr)>| {
        through(
            x().ints("a", &[0, 0, 1, 2, 0, 0, 3, 4])
                .ints("p", &[2, -1])
                .ints("st", &[1, -3])
                .ints("en", &[100, -1])
                .ints("ax", &[2, 3])
                .floats("sc", &[1.0, 1.0, 0.5, 2.0])
                .weight("w", &[12, 5])
                .node(op, "o", ins, &["y"], attrs),
            "y",
        )
    };
    assert_eq!(op("Pad", &["x", "a"], vec![]), Ok(vec![1, 8, 14, 18]));
    assert_eq!(
        op("Transpose", &["x"], vec![("perm", Ints(vec![0, 2, 3, 1]))]),
        Ok(vec![1, 10, 12, 8])
    );
    assert_eq!(op("Transpose", &["x"], vec![]), Ok(vec![12, 10, 8, 1]));
    assert_eq!(op("Reshape", &["x", "p"], vec![]), Ok(vec![2, 480]));
    assert_eq!(
        op("Flatten", &["x"], vec![("axis", Int(2))]),
        Ok(vec![8, 120])
    );
    assert_eq!(
        op("Slice", &["x", "st", "en", "ax"], vec![]),
        Ok(vec![1, 8, 9, 2])
    );
    assert_eq!(
        op("Resize", &["x", "", "sc"], vec![]),
        Ok(vec![1, 8, 5, 24])
    );
    assert_eq!(op("Upsample", &["x", "sc"], vec![]), Ok(vec![1, 8, 5, 24]));
    assert_eq!(
        op("Unsqueeze", &["x", "ax"], vec![]),
        Ok(vec![1, 8, 1, 1, 10, 12])
    );
    assert_eq!(
        op("ReduceMean", &["x"], vec![("axes", Ints(vec![2, 3]))]),
        Ok(vec![1, 8, 1, 1])
    );
    assert_eq!(
        op(
            "ReduceMean",
            &["x"],
            vec![("axes", Ints(vec![-1])), ("keepdims", Int(0))]
        ),
        Ok(vec![1, 8, 10])
    );
    assert_eq!(op("MatMul", &["x", "w"], vec![]), Ok(vec![1, 8, 10, 5]));
    assert_eq!(
        op("DepthToSpace", &["x"], vec![("blocksize", Int(2))]),
        Ok(vec![1, 2, 20, 24])
    );
    assert_eq!(
        op("SpaceToDepth", &["x"], vec![("blocksize", Int(2))]),
        Ok(vec![1, 32, 5, 6])
    );
    assert_eq!(
        op(
            "AveragePool",
            &["x"],
            vec![
                ("kernel_shape", Ints(vec![3, 3])),
                ("strides", Ints(vec![2, 2])),
                ("ceil_mode", Int(1))
            ]
        ),
        Ok(vec![1, 8, 5, 6])
    );
    assert_eq!(
        op(
            "MaxPool",
            &["x"],
            vec![
                ("kernel_shape", Ints(vec![3, 3])),
                ("strides", Ints(vec![2, 2]))
            ]
        ),
        Ok(vec![1, 8, 4, 5])
    );
    assert_eq!(op("GlobalMaxPool", &["x"], vec![]), Ok(vec![1, 8, 1, 1]));
    assert_eq!(
        op("Mul", &["x", "sc"], vec![]),
        Err("node 'o' (Mul): shapes [1, 8, 10, 12] and [4] do not broadcast (12 and 4)".into())
    );
    assert_eq!(
        op("Concat", &["x", "x"], vec![("axis", Int(-3))]),
        Ok(vec![1, 16, 10, 12])
    );
    let split = through(
        x().node("Split", "o", &["x"], &["y", "z"], vec![("axis", Int(1))]),
        "z",
    );
    assert_eq!(split, Ok(vec![1, 4, 10, 12]));
    let up = through(
        x().weight("w", &[8, 4, 4, 4]).node(
            "ConvTranspose",
            "o",
            &["x", "w"],
            &["y"],
            vec![
                ("strides", Ints(vec![2, 2])),
                ("pads", Ints(vec![1, 1, 1, 1])),
            ],
        ),
        "y",
    );
    assert_eq!(up, Ok(vec![1, 4, 20, 24]));
    let gemm = through(
        Builder::default()
            .input("a", &s(&[7, 3]))
            .weight("b", &[5, 3])
            .node("Gemm", "g", &["a", "b"], &["y"], vec![("transB", Int(1))]),
        "y",
    );
    assert_eq!(gemm, Ok(vec![7, 5]));
}
