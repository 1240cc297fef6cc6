//! Scratch memory stays bounded: it must not grow with fields that do not add work.

use simdconv::{variants, Activation, ConvShape, Padding};

/// Padding far wider than the kernel (legal: its columns are just never read much) must not make
/// any variant's scratch grow with it: a plan's scratch stays within a small multiple of the
/// input and output, whatever the padding.
#[test]
fn scratch_does_not_grow_with_oversized_padding() {
    let wide = Padding {
        top: 1,
        left: 2,
        bottom: 1,
        right: 100_000,
    };
    let shape = ConvShape::builder(1, 4, 4, 3, 8, 3, 3)
        .stride_hw(1, 100_000)
        .padding(wide)
        .build()
        .unwrap();
    let weights = vec![0.5; shape.weights_len()];
    for v in variants()
        .iter()
        .filter(|v| v.is_available() && v.supports(&shape).is_ok())
    {
        let plan = v.plan(&shape, &weights, None, Activation::None).unwrap();
        // im2col's bounded patch block is the largest legitimate scratch (about 0.5 MiB).
        assert!(
            plan.scratch_bytes() < 1 << 20,
            "{}: {} bytes of scratch for a {} float input",
            v.name(),
            plan.scratch_bytes(),
            shape.input_len()
        );
    }
}
