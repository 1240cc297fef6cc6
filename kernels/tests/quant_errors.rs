//! The int8 plan's refusals, each naming the field and the value that stops it; and the int8
//! peak probe's count of operations.

use simdconv::quant::{variants, QConvPlan, QVariant, QuantParams};
use simdconv::{Activation, ConvError, ConvShape};

fn scalar(alg: &str) -> &'static QVariant {
    variants()
        .iter()
        .find(|v| v.name() == format!("u8s8u8-{alg}-scalar-2x4"))
        .unwrap()
}

fn shape() -> ConvShape {
    ConvShape::builder(1, 4, 4, 8, 4, 3, 3)
        .pad(1)
        .build()
        .unwrap()
}

fn params() -> QuantParams {
    QuantParams::per_tensor(0.1, 3, 0.01, 0.2, 7)
}

fn err(p: &QuantParams, weights: usize, bias: Option<usize>) -> String {
    let s = shape();
    let b = bias.map(|n| vec![0i32; n]);
    match QConvPlan::new(scalar("direct"), &s, &vec![1; weights], b.as_deref(), p) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn bad_buffers_name_the_buffer_and_lengths() {
    let s = shape();
    let e = err(&params(), 5, None);
    assert!(e.contains("weights") && e.contains('5'), "{e}");
    let e = err(&params(), s.weights_len(), Some(3));
    assert!(e.contains("bias") && e.contains('3'), "{e}");
    let mut p = params();
    p.weight_scales = vec![1.0; 3];
    let e = err(&p, s.weights_len(), None);
    assert!(e.contains("weight_scales"), "{e}");
    let mut plan = QConvPlan::new(
        scalar("direct"),
        &s,
        &vec![1; s.weights_len()],
        None,
        &params(),
    )
    .unwrap();
    let e = plan.run(&[0; 3], &mut vec![0; s.output_len()]).unwrap_err();
    assert!(
        matches!(
            e,
            ConvError::BufferLength {
                buffer: "input",
                got: 3,
                ..
            }
        ),
        "{e}"
    );
    let e = plan.run(&vec![0; s.input_len()], &mut [0; 2]).unwrap_err();
    assert!(
        matches!(
            e,
            ConvError::BufferLength {
                buffer: "output",
                got: 2,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn bad_scales_and_bounds_name_the_field() {
    let n = shape().weights_len();
    for (field, v) in [
        ("input_scale", f32::NAN),
        ("output_scale", 0.0),
        ("weight_scales", -1.0),
    ] {
        let mut p = params();
        match field {
            "input_scale" => p.input_scale = v,
            "output_scale" => p.output_scale = v,
            _ => p.weight_scales = vec![v],
        }
        let e = err(&p, n, None);
        assert!(e.contains(field) && e.contains(&v.to_string()), "{e}");
    }
    // A multiplier that underflows f32 to zero is refused, naming the scale.
    let mut p = params();
    p.weight_scales = vec![1e-30];
    p.input_scale = 1e-20;
    let e = err(&p, n, None);
    assert!(
        e.contains("weight_scales") && e.contains("channel 0"),
        "{e}"
    );
    let mut p = params();
    (p.output_min, p.output_max) = (200, 100);
    let e = err(&p, n, None);
    assert!(e.contains("output_min") && e.contains("200"), "{e}");
}

#[test]
fn accumulators_that_could_overflow_i32_are_refused() {
    // 9 taps x 8000 channels = 72,000 terms of up to 255 * 128 each.
    let s = ConvShape::builder(1, 3, 3, 8000, 1, 3, 3).build().unwrap();
    let e = QConvPlan::new(
        scalar("direct"),
        &s,
        &vec![0; s.weights_len()],
        None,
        &params(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("reduction length") && e.contains("72000"), "{e}");
}

#[test]
fn unsupported_shapes_name_the_algorithm_and_field() {
    let s = shape();
    let e = QConvPlan::new(
        scalar("pointwise"),
        &s,
        &vec![0; s.weights_len()],
        None,
        &params(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        e.contains("Pointwise") && e.contains("1x1") && e.contains("3x3"),
        "{e}"
    );
}

#[test]
fn activations_become_output_bounds() {
    let p = params().with_activation(Activation::Relu6).unwrap();
    // zero 7, scale 0.2: 6 / 0.2 = 30 steps above the zero point.
    assert_eq!((p.output_min, p.output_max), (7, 37));
    let p = params().with_activation(Activation::Relu).unwrap();
    assert_eq!((p.output_min, p.output_max), (7, 255));
    let e = params()
        .with_activation(Activation::Clamp { min: 1.0, max: 0.0 })
        .unwrap_err();
    assert!(e.to_string().contains("min"), "{e}");
}

#[test]
fn the_dot_probe_does_the_operations_it_counts() {
    use simdconv::quant::probe::{dot_loop, dot_loop_ops, BF16_ISAS, DOT_ISAS};
    for isa in DOT_ISAS.into_iter().chain(BF16_ISAS) {
        let Some(total) = dot_loop(isa, 7) else {
            println!("{isa}: not on this CPU, skipped");
            continue;
        };
        // Every product is 1 x 1: the sum over all lanes of all chains is the multiply-adds.
        assert_eq!(total as u64 * 2, dot_loop_ops(isa, 7).unwrap(), "{isa}");
    }
    assert!(dot_loop("neon", 1).is_none() && dot_loop_ops("neon", 1).is_none());
}

#[test]
fn padding_far_beyond_the_image_is_refused_not_copied() {
    // A 1x7 image padded by 2^25 rows: a tiny output, a padded copy of gigabytes.
    let s = ConvShape::builder(2, 1, 7, 14, 14, 1, 1)
        .stride(524_288)
        .padding(simdconv::Padding {
            top: 1 << 25,
            left: 4,
            bottom: 2,
            right: 2,
        })
        .groups(14)
        .build()
        .unwrap();
    let v = variants()
        .iter()
        .find(|v| v.name() == "u8s8u8-depthwise-scalar-1c")
        .unwrap();
    let e = QConvPlan::new(v, &s, &vec![1; s.weights_len()], None, &params())
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("padding") && e.contains("33554432"), "{e}");
}

#[test]
fn bf16_plans_refuse_int8_rows_bad_buffers_and_activations() {
    use simdconv::bf16::{self, BConvPlan};
    let s = shape();
    let w = vec![simdconv::Bf16::from_f32(1.0); s.weights_len()];
    let e = BConvPlan::new(scalar("direct"), &s, &w, None, Activation::None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("u8s8u8-direct-scalar-2x4") && e.contains("bf16bf16f32"),
        "{e}"
    );
    let row = bf16::variants()
        .iter()
        .find(|v| v.name() == "bf16bf16f32-direct-scalar-2x4")
        .unwrap();
    let e = QConvPlan::new(row, &s, &vec![1; s.weights_len()], None, &params())
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("bf16bf16f32-direct-scalar-2x4") && e.contains("u8s8u8"),
        "{e}"
    );
    let e = BConvPlan::new(row, &s, &w[1..], None, Activation::None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("weights") && e.contains(&(s.weights_len() - 1).to_string()),
        "{e}"
    );
    let clamp = Activation::Clamp { min: 1.0, max: 0.0 };
    let e = BConvPlan::new(row, &s, &w, None, clamp)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("min = 1") && e.contains("max = 0"), "{e}");
    let mut plan = BConvPlan::new(row, &s, &w, Some(&vec![0.0; s.k()]), Activation::None).unwrap();
    let x = vec![simdconv::Bf16::from_f32(1.0); s.input_len()];
    let e = plan.run(&x, &mut [0.0; 3]).err().unwrap().to_string();
    assert!(e.contains("output") && e.contains('3'), "{e}");
    let wide = ConvShape::builder(1, 4, 4, 8, 4, 3, 3)
        .pad(1_000_000)
        .build()
        .unwrap();
    let w = vec![simdconv::Bf16::default(); wide.weights_len()];
    let e = BConvPlan::new(row, &wide, &w, None, Activation::None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("padding") && e.contains("bf16"), "{e}");
}
