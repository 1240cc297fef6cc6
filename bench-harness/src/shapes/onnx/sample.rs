//! Writing small ONNX models: a builder for tests, and [`sample`], a model that passes through
//! the ops the reader follows (the fuzzer's seed).

use prost::Message as _;

use super::proto::{
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto::dimension,
    tensor_shape_proto::Dimension, type_proto, AttributeProto, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

/// An attribute value.
pub(crate) enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Str(&'static str),
}

/// A graph under construction.
#[derive(Default)]
pub(crate) struct Builder {
    g: GraphProto,
}

/// A declared tensor: `Some(d)` a dimension, `None` a symbolic one.
fn value_info(name: &str, dims: &[Option<i64>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            denotation: None,
            value: Some(match d {
                Some(v) => dimension::Value::DimValue(*v),
                None => dimension::Value::DimParam("N".into()),
            }),
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            denotation: None,
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(TensorShapeProto { dim }),
            })),
        }),
        ..ValueInfoProto::default()
    }
}

impl Builder {
    /// A graph input.
    pub(crate) fn input(mut self, name: &str, dims: &[Option<i64>]) -> Self {
        self.g.input.push(value_info(name, dims));
        self
    }

    /// A `value_info` entry.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn info(mut self, name: &str, dims: &[Option<i64>]) -> Self {
        self.g.value_info.push(value_info(name, dims));
        self
    }

    /// A float initializer of these dimensions (no data: the reader reads only dimensions).
    pub(crate) fn weight(mut self, name: &str, dims: &[i64]) -> Self {
        self.g.initializer.push(TensorProto {
            name: Some(name.into()),
            dims: dims.to_vec(),
            data_type: Some(DataType::Float as i32),
            ..TensorProto::default()
        });
        self
    }

    /// A 1-D int64 initializer, its values as raw little-endian bytes (as exporters write).
    pub(crate) fn ints(mut self, name: &str, v: &[i64]) -> Self {
        self.g.initializer.push(TensorProto {
            name: Some(name.into()),
            dims: vec![v.len() as i64],
            data_type: Some(DataType::Int64 as i32),
            raw_data: Some(v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            ..TensorProto::default()
        });
        self
    }

    /// A 1-D float initializer.
    pub(crate) fn floats(mut self, name: &str, v: &[f32]) -> Self {
        self.g.initializer.push(TensorProto {
            name: Some(name.into()),
            dims: vec![v.len() as i64],
            data_type: Some(DataType::Float as i32),
            float_data: v.to_vec(),
            ..TensorProto::default()
        });
        self
    }

    /// A node.
    pub(crate) fn node(
        mut self,
        op: &str,
        name: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: Vec<(&str, Attr)>,
    ) -> Self {
        let attribute = attrs
            .into_iter()
            .map(|(key, a)| {
                let mut p = AttributeProto {
                    name: Some(key.into()),
                    ..AttributeProto::default()
                };
                let ty = match a {
                    Attr::Int(v) => (p.i = Some(v), AttributeType::Int).1,
                    Attr::Ints(v) => (p.ints = v, AttributeType::Ints).1,
                    Attr::Str(s) => (p.s = Some(s.as_bytes().to_vec()), AttributeType::String).1,
                };
                p.r#type = Some(ty as i32);
                p
            })
            .collect();
        self.g.node.push(NodeProto {
            op_type: Some(op.into()),
            name: Some(name.into()),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            attribute,
            ..NodeProto::default()
        });
        self
    }

    /// The model's bytes (opset 17).
    pub(crate) fn bytes(self) -> Vec<u8> {
        ModelProto {
            ir_version: Some(8),
            opset_import: vec![OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(17),
            }],
            producer_name: Some("simdconv".into()),
            graph: Some(self.g),
            ..ModelProto::default()
        }
        .encode_to_vec()
    }
}

/// A small MobileNet-like model through the ops the reader follows: a symbolic batch, a
/// strided stem with explicit pads, BatchNormalization and Clip, a depthwise 3x3 with
/// `auto_pad`, a residual 1x1, a pool, a Reshape computed from Shape and Gather, a Resize, a
/// dilated 3x3, a 1x7 and a 7x1, a second identical 1x1, and a head.
pub fn sample() -> Vec<u8> {
    use Attr::*;
    let conv =
        |b: Builder,
         name: &'static str,
         x: &'static str,
         w: &'static str,
         y: &'static str,
         attrs: Vec<(&'static str, Attr)>| { b.node("Conv", name, &[x, w], &[y], attrs) };
    let b = sample_inputs();
    let b = conv(
        b,
        "stem",
        "image",
        "w_stem",
        "s0",
        vec![
            ("strides", Ints(vec![2, 2])),
            ("pads", Ints(vec![1, 1, 1, 1])),
        ],
    )
    .node(
        "BatchNormalization",
        "bn",
        &["s0", "w_pw", "w_pw", "w_pw", "w_pw"],
        &["s1"],
        vec![],
    )
    .node("Clip", "relu6", &["s1"], &["s2"], vec![]);
    let b = conv(
        b,
        "dw",
        "s2",
        "w_dw",
        "d0",
        vec![("group", Int(16)), ("auto_pad", Str("SAME_UPPER"))],
    );
    let b = conv(b, "pw", "d0", "w_pw", "p0", vec![]).node(
        "Add",
        "res",
        &["p0", "s2"],
        &["r0"],
        vec![],
    );
    let b = b
        .node(
            "MaxPool",
            "pool",
            &["r0"],
            &["m0"],
            vec![
                ("kernel_shape", Ints(vec![2, 2])),
                ("strides", Ints(vec![2, 2])),
            ],
        )
        .node("Shape", "shape", &["m0"], &["sh"], vec![])
        .node("Gather", "batch", &["sh", "gather_at"], &["nb"], vec![])
        .node(
            "Concat",
            "to",
            &["nb", "tail"],
            &["to"],
            vec![("axis", Int(0))],
        )
        .node("Reshape", "reshape", &["m0", "to"], &["m1"], vec![])
        .node("Resize", "up", &["m1", "", "scales"], &["u0"], vec![]);
    let b = conv(
        b,
        "dilated",
        "u0",
        "w_dil",
        "t0",
        vec![
            ("dilations", Ints(vec![2, 2])),
            ("pads", Ints(vec![2, 2, 2, 2])),
        ],
    );
    let b = conv(
        b,
        "c1x7",
        "t0",
        "w_1x7",
        "t1",
        vec![("pads", Ints(vec![0, 3, 0, 3]))],
    );
    let b = conv(
        b,
        "c7x1",
        "t1",
        "w_7x1",
        "t2",
        vec![("pads", Ints(vec![3, 0, 3, 0]))],
    );
    let b = conv(b, "pw2", "d0", "w_pw", "p1", vec![]);
    b.node("GlobalAveragePool", "gap", &["t2"], &["g0"], vec![])
        .node("Flatten", "flat", &["g0"], &["f0"], vec![])
        .node("Gemm", "head", &["f0", "fc"], &["logits"], vec![])
        .bytes()
}

/// The sample model's input and initializers.
fn sample_inputs() -> Builder {
    Builder::default()
        .input("image", &[None, Some(3), Some(64), Some(64)])
        .weight("w_stem", &[16, 3, 3, 3])
        .weight("w_dw", &[16, 1, 3, 3])
        .weight("w_pw", &[16, 16, 1, 1])
        .weight("w_dil", &[16, 16, 3, 3])
        .weight("w_1x7", &[16, 16, 1, 7])
        .weight("w_7x1", &[16, 16, 7, 1])
        .weight("fc", &[16, 10])
        .ints("gather_at", &[0])
        .ints("tail", &[16, 16, 16])
        .floats("scales", &[1.0, 1.0, 2.0, 2.0])
}
