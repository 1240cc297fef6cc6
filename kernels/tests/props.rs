//! Property tests: random valid shapes agree with the reference in every variant; random
//! invalid shapes and wrong buffer lengths give a `ConvError`, never a panic.

mod common;

use common::{data, Case, ACTIVATIONS};
use proptest::prelude::*;
use simdconv::{variants, Activation, Algorithm, ConvError, ConvPlan, ConvShape, Isa, Padding};

#[cfg(miri)]
const CASES: u32 = 4;
#[cfg(not(miri))]
const CASES: u32 = 96;

prop_compose! {
    fn small_shape()(
        n in 1usize..3, h in 1usize..10, w in 1usize..10,
        cg in 1usize..12, kg in 1usize..12, groups in 1usize..4, depthwise in any::<bool>(),
        r in 1usize..6, s in 1usize..6, sh in 1usize..4, sw in 1usize..4,
        dh in 1usize..3, dw in 1usize..3,
        pt in 0usize..4, pl in 0usize..4, pb in 0usize..4, pr in 0usize..4,
    ) -> Option<ConvShape> {
        let (c, k, g) = if depthwise { (cg * groups, cg * groups, cg * groups) } else { (cg * groups, kg * groups, groups) };
        ConvShape::builder(n, h, w, c, k, r, s)
            .stride_hw(sh, sw)
            .dilation_hw(dh, dw)
            .padding(Padding { top: pt, left: pl, bottom: pb, right: pr })
            .groups(g)
            .build()
            .ok()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn random_valid_shapes_match_the_reference(shape in small_shape(), act in 0usize..4, bias in any::<bool>(), seed in any::<u64>()) {
        prop_assume!(shape.is_some());
        let shape = shape.unwrap();
        let case = Case::new(&shape, ACTIVATIONS[act], bias, seed).map_err(TestCaseError::fail)?;
        for v in variants().iter().filter(|v| v.is_available() && v.supports(&shape).is_ok()) {
            if let Err(e) = case.check(v) {
                prop_assert!(false, "{}", e);
            }
        }
    }

    #[test]
    fn arbitrary_fields_never_panic(
        n in 0usize..4, h in 0usize..6, w in 0usize..6, c in 0usize..6, k in 0usize..6,
        r in 0usize..8, s in 0usize..8, st in 0usize..3, d in 0usize..4, p in 0usize..5, g in 0usize..7,
    ) {
        let shape = ConvShape::builder(n, h, w, c, k, r, s).stride(st).dilation(d).pad(p).groups(g).build();
        match shape {
            Err(e) => prop_assert!(!e.to_string().is_empty()),
            Ok(shape) => {
                let weights = data(shape.weights_len(), 1);
                for v in variants() {
                    match v.plan(&shape, &weights, None, Activation::Relu) {
                        Ok(mut plan) => {
                            let input = data(shape.input_len(), 2);
                            let mut out = vec![0.0; shape.output_len()];
                            prop_assert!(plan.run(&input, &mut out).is_ok());
                            // Wrong lengths are errors, not panics.
                            prop_assert!(plan.run(&input[..input.len() - 1], &mut out).is_err());
                            let mut longer = vec![0.0; shape.output_len() + 1];
                            prop_assert!(plan.run(&input, &mut longer).is_err());
                        }
                        Err(e) => prop_assert!(!e.to_string().is_empty()),
                    }
                }
            }
        }
    }

    #[test]
    fn huge_fields_overflow_cleanly(h in 1usize..usize::MAX, w in 1usize..usize::MAX, c in 1usize..usize::MAX) {
        let r = ConvShape::builder(1, h, w, c, 3, 1, 1).build();
        if let Ok(s) = r {
            prop_assert!(s.input_len() == h * w * c);
        }
    }
}

#[test]
fn errors_name_the_field_and_value() {
    let e = ConvShape::builder(1, 8, 8, 6, 8, 3, 3)
        .groups(4)
        .build()
        .unwrap_err();
    assert!(
        e.to_string().contains("groups = 4") && e.to_string().contains("c = 6"),
        "{e}"
    );
    let e = ConvShape::builder(1, 2, 8, 6, 8, 5, 3).build().unwrap_err();
    assert!(e.to_string().contains("r = 5"), "{e}");
    let e = ConvShape::builder(1, 0, 8, 6, 8, 3, 3).build().unwrap_err();
    assert!(e.to_string().contains("h = 0"), "{e}");
    let e = ConvShape::builder(usize::MAX, 2, 2, 2, 2, 1, 1)
        .build()
        .unwrap_err();
    assert!(matches!(e, ConvError::Overflow { .. }), "{e}");

    let s = ConvShape::builder(1, 9, 9, 4, 4, 5, 5)
        .stride(2)
        .build()
        .unwrap();
    let w = vec![0.0; s.weights_len()];
    let e = ConvPlan::new(
        &s,
        Algorithm::Winograd(simdconv::WinogradTile::F4x4_3x3),
        Isa::Scalar,
        &w,
        None,
        Activation::None,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Winograd F(4x4,3x3) needs a 3x3 kernel, stride 1, dilation 1 and groups 1; got 5x5, stride 2x2, dilation 1x1, groups 1"
    );
    let e = ConvPlan::new(
        &s,
        Algorithm::Direct,
        Isa::Scalar,
        &w[1..],
        None,
        Activation::None,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "weights length = {}, but the shape needs exactly {}",
            w.len() - 1,
            w.len()
        )
    );
    let e = ConvPlan::new(
        &s,
        Algorithm::Direct,
        Isa::Scalar,
        &w,
        Some(&[1.0]),
        Activation::None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("bias length = 1"), "{e}");
    let e = ConvPlan::new(
        &s,
        Algorithm::Direct,
        Isa::Scalar,
        &w,
        None,
        Activation::Clamp { min: 1.0, max: 0.0 },
    )
    .unwrap_err();
    assert!(e.to_string().contains("min = 1"), "{e}");
    let e = ConvPlan::new(
        &s,
        Algorithm::Depthwise,
        Isa::Scalar,
        &w,
        None,
        Activation::None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("groups = 1, c = 4, k = 4"), "{e}");
    for isa in Isa::ALL.into_iter().filter(|i| !i.is_available()) {
        let e = ConvPlan::new(&s, Algorithm::Direct, isa, &w, None, Activation::None).unwrap_err();
        assert!(
            matches!(
                e,
                ConvError::IsaUnavailable { .. } | ConvError::NoVariant { .. }
            ),
            "{e}"
        );
        println!("{isa}: {e}");
    }
}

#[test]
fn every_algorithm_has_scalar_and_portable_variants() {
    for alg in Algorithm::ALL {
        for isa in [Isa::Scalar, Isa::Portable] {
            assert!(
                variants()
                    .iter()
                    .any(|v| v.algorithm() == alg && v.isa() == isa),
                "no {alg} variant for {isa}"
            );
        }
    }
}
