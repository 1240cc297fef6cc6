//! Shapes that `ConvShape` accepts but no machine can run: planning them with weights of the right
//! length must return `Ok` or a `ConvError` naming what is too large, never panic (overflow
//! checks are on in test builds) or abort on an allocation.
#![cfg(not(miri))]

use simdconv::{variants, Activation, ConvError, ConvShape};

/// One huge case: (n, h, w, c, k, r, s, pad, groups).
type Case = [usize; 9];

/// Each with a small weight tensor and a huge batch or map.
const HUGE: &[Case] = &[
    [1 << 52, 8, 8, 1, 1, 1, 1, 0, 1],
    [1 << 34, 8, 8, 16, 16, 3, 3, 1, 1],
    [1 << 40, 8, 8, 16, 16, 3, 3, 1, 1],
    [1 << 44, 8, 8, 4, 4, 3, 3, 1, 4],
    [1 << 30, 64, 64, 8, 8, 3, 3, 1, 1],
    [1, 1 << 28, 1 << 28, 8, 8, 3, 3, 1, 1],
    [1, 1 << 28, 1 << 28, 8, 8, 1, 1, 0, 1],
    [1 << 44, 8, 8, 8, 8, 5, 5, 2, 8],
    [1 << 36, 16, 16, 16, 16, 3, 3, 1, 1],
];

#[test]
fn huge_shapes_plan_or_refuse_without_panicking() {
    let mut refused = 0;
    for &[n, h, w, c, k, r, s, pad, g] in HUGE {
        let Ok(shape) = ConvShape::builder(n, h, w, c, k, r, s)
            .pad(pad)
            .groups(g)
            .build()
        else {
            continue;
        };
        let weights = vec![0.5f32; shape.weights_len()];
        for v in variants() {
            if !v.is_available() || v.supports(&shape).is_err() {
                continue;
            }
            match v.plan(&shape, &weights, None, Activation::None) {
                Ok(plan) => {
                    // A plan that was made must have been able to allocate its scratch.
                    assert!(plan.scratch_bytes() < usize::MAX);
                }
                Err(e) => {
                    refused += 1;
                    let msg = e.to_string();
                    assert!(
                        matches!(
                            e,
                            ConvError::Overflow { .. } | ConvError::OutOfMemory { .. }
                        ),
                        "{}: {shape}: unexpected error {msg}",
                        v.name()
                    );
                }
            }
        }
    }
    assert!(
        refused > 0,
        "no huge shape was refused: the test no longer reaches the checks"
    );
}

#[test]
fn ops_refuse_sizes_that_overflow() {
    use simdconv::ops::{concat_channels, max_pool, Pool};
    use simdconv::Isa;
    let pool = Pool {
        n: 1 << 40,
        h: 1 << 20,
        w: 1 << 20,
        c: 8,
        window: 3,
        stride: 1,
        pad: 1,
    };
    let e = pool.input_len().unwrap_err();
    assert!(e.to_string().contains("N*H*W*C"), "{e}");
    assert!(max_pool(Isa::Scalar, &pool, &[], &mut []).is_err());
    let wide = Pool {
        n: 1,
        h: 4,
        w: 4,
        c: 1,
        window: usize::MAX,
        stride: 1,
        pad: usize::MAX - 1,
    };
    let e = wide.out_hw().unwrap_err();
    assert!(e.to_string().contains("H + 2*pad"), "{e}");
    let e = concat_channels(&[&[], &[]], &[usize::MAX, 2], 1, &mut []).unwrap_err();
    assert!(e.to_string().contains("concatenated channels"), "{e}");
    let e = concat_channels(&[&[]], &[1 << 40], 1 << 40, &mut []).unwrap_err();
    assert!(e.to_string().contains("pixels*channels"), "{e}");
}

#[test]
fn comparing_unequal_lengths_is_an_infinite_error() {
    use simdconv::reference::max_relative_error;
    assert_eq!(
        max_relative_error(&[1.0], &[1.0, 2.0], &[1.0]),
        f64::INFINITY
    );
    assert_eq!(max_relative_error(&[1.0], &[1.0], &[]), f64::INFINITY);
    assert_eq!(max_relative_error(&[1.0], &[1.0], &[1.0]), 0.0);
}

#[test]
fn a_pool_window_far_larger_than_the_image_costs_only_its_taps() {
    use simdconv::ops::{max_pool, Pool};
    use simdconv::Isa;
    // One output whose window (2^40 on a side, almost all padding) ends on the image's first
    // row and column: the loop must visit that one pixel, not 2^80 window positions.
    let pool = Pool {
        n: 1,
        h: 2,
        w: 2,
        c: 3,
        window: 1 << 40,
        stride: 1 << 41,
        pad: (1 << 40) - 1,
    };
    assert_eq!(pool.out_hw().unwrap(), (1, 1));
    let input: Vec<f32> = (0..12).map(|i| i as f32).collect();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = vec![0.0f32; 3];
        max_pool(Isa::Scalar, &pool, &input, &mut out).unwrap();
        let _ = tx.send(out);
    });
    let out = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("max_pool hung on a huge window");
    assert_eq!(out, [0.0, 1.0, 2.0]);
}
