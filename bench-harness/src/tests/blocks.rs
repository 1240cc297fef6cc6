//! The building blocks: each block's output equals the composition of reference convolutions
//! (and plain pooling / add / concat), for every ISA this CPU runs, in best and fixed modes; FLOP
//! counts match hand-computed values; the small ops match simple references.

use simdconv::ops::{self, Pool};
use simdconv::{reference, Algorithm, Isa, WinogradTile};
use simdconv_bench::blocks::{
    claims, mbconv_stage, reference_run, round_filters, Block, Mode, Op, Prepared,
};
use simdconv_bench::seeded;

/// Errors compound through a block: the bound is the sum of every conv step's tolerance at the
/// loosest algorithm (Winograd F(4x4,3x3)), relative to the largest output magnitude.
fn block_tolerance(b: &Block) -> f64 {
    b.steps
        .iter()
        .map(|s| match &s.op {
            Op::Conv { shape, .. } => {
                reference::tolerance(shape, Algorithm::Winograd(WinogradTile::F4x4_3x3))
            }
            _ => 0.0,
        })
        .sum::<f64>()
}

#[test]
fn blocks_equal_the_composition_of_reference_convolutions() {
    let mut checked = 0;
    for claim in claims() {
        for block in &claim.sides {
            let input = seeded(block.buffers[0], 3);
            let want = reference_run(block, &input);
            let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
            let mut modes: Vec<Mode> = Isa::ALL
                .into_iter()
                .filter(|i| i.is_available())
                .map(Mode::Best)
                .collect();
            modes.push(Mode::Fixed(Isa::Scalar, Algorithm::Direct));
            for mode in modes {
                let mut p = Prepared::new(block, mode).unwrap();
                p.set_input(&input);
                p.run().unwrap();
                let err = p
                    .output()
                    .iter()
                    .zip(&want)
                    .map(|(a, b)| (a - b).abs() as f64)
                    .fold(0.0, f64::max)
                    / scale;
                let tol = block_tolerance(block);
                assert!(
                    err <= tol,
                    "{} / {} ({mode:?}): error {err:e} > {tol:e}; variants {:?}",
                    claim.id,
                    block.name,
                    p.variant_names()
                );
                checked += 1;
            }
        }
    }
    println!("{checked} (block, mode) runs matched the reference composition");
}

#[test]
fn flop_counts_match_hand_computed_values() {
    let c = claims();
    let get = |id: &str| c.iter().find(|c| c.id == id).unwrap();
    // NiN: 3x3 96->96 at 28x28 = 2*784*96*96*9; each 1x1 = 2*784*96*96.
    assert_eq!(get("nin").sides[1].flops(), 130_056_192);
    assert_eq!(get("nin").sides[0].flops(), 130_056_192 + 2 * 14_450_688);
    // Inception 3a: 19,267,584 + 28,901,376 + 173,408,256 + 4,816,896 + 20,070,400 + 9,633,792.
    assert_eq!(get("inception").sides[0].flops(), 256_098_304);
    // Naive: 19,267,584 + 346,816,512 + 240,844,800.
    assert_eq!(get("inception").sides[1].flops(), 606_928_896);
    // Depthwise-separable at 56x56x128: 7,225,344 + 102,760,448 against 924,844,032; the ratio
    // is 1/K + 1/9.
    let d = get("dwsep-56");
    assert_eq!(d.sides[0].flops(), 109_985_792);
    assert_eq!(d.sides[1].flops(), 924_844_032);
    let ratio = d.sides[0].flops() as f64 / d.sides[1].flops() as f64;
    assert!((ratio - (1.0 / 128.0 + 1.0 / 9.0)).abs() < 1e-12);
    // Inverted residual 56x56, 24 -> 144 -> 24: 21,676,032 + 8,128,512 + 21,676,032.
    let ir = get("invres");
    assert_eq!(ir.sides[0].flops(), 51_480_576);
    assert_eq!(ir.sides[1].flops(), 903_168 + 2_032_128 + 903_168);
    assert_eq!(ir.sides[2].flops(), 21_676_032 + 1_170_505_728 + 21_676_032);
    // EfficientNet rounding and the near-doubling of FLOPs per step.
    assert_eq!((round_filters(24, 1.1), round_filters(40, 1.1)), (24, 48));
    assert_eq!(round_filters(40, 1.21), 48);
    let f: Vec<f64> = (0..4).map(|p| mbconv_stage(p).flops() as f64).collect();
    // Rounding (layers up, channels to multiples of 8) makes single steps uneven (one step adds a
    // layer and jumps ~3x); on average FLOPs roughly double per step (1.2 * 1.1^2 * 1.15^2 = 1.92).
    for w in f.windows(2) {
        let g = w[1] / w[0];
        assert!((1.3..3.2).contains(&g), "growth {g}");
    }
    let mean = (f[3] / f[0]).powf(1.0 / 3.0);
    assert!((1.7..2.4).contains(&mean), "mean growth {mean}");
}

#[test]
fn small_ops_match_simple_references() {
    let pool = Pool {
        n: 1,
        h: 5,
        w: 6,
        c: 19,
        window: 3,
        stride: 1,
        pad: 1,
    };
    let x = seeded(pool.input_len().unwrap(), 4);
    let mut want = vec![f32::NEG_INFINITY; pool.output_len().unwrap()];
    for y in 0..5usize {
        for xx in 0..6usize {
            for ky in 0..3 {
                for kx in 0..3 {
                    let (iy, ix) = (y as isize + ky - 1, xx as isize + kx - 1);
                    if (0..5).contains(&iy) && (0..6).contains(&ix) {
                        for ch in 0..19 {
                            let v = x[(iy as usize * 6 + ix as usize) * 19 + ch];
                            let m = &mut want[(y * 6 + xx) * 19 + ch];
                            *m = m.max(v);
                        }
                    }
                }
            }
        }
    }
    let a = seeded(37, 5);
    let b = seeded(37, 6);
    for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
        let mut got = vec![0.0; want.len()];
        ops::max_pool(isa, &pool, &x, &mut got).unwrap();
        assert_eq!(got, want, "max_pool {isa}");
        let mut s = vec![0.0; 37];
        ops::add(isa, &a, &b, &mut s).unwrap();
        assert!(
            s.iter()
                .zip(a.iter().zip(&b))
                .all(|(s, (a, b))| *s == a + b),
            "add {isa}"
        );
        assert!(ops::add(isa, &a, &b[1..], &mut s).is_err());
    }
    let mut cat = vec![0.0; 2 * 5];
    ops::concat_channels(
        &[&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0, 9.0, 10.0]],
        &[2, 3],
        2,
        &mut cat,
    )
    .unwrap();
    assert_eq!(cat, [1.0, 2.0, 5.0, 6.0, 7.0, 3.0, 4.0, 8.0, 9.0, 10.0]);
    assert!(ops::concat_channels(&[&[1.0]], &[2], 1, &mut cat[..2]).is_err());
}
