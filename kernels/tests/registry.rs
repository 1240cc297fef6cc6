//! The registry as data: every row's name is derived from its element types, algorithm, ISA and
//! tile; names are
//! unique; and the kernel a row builds computes the tile the row declares. (That every algorithm
//! has scalar and portable rows is `props.rs`'s test.)

use simdconv::{variants, Algorithm, ConvShape, Tile};

/// A small shape each algorithm supports.
fn shape_for(a: Algorithm) -> ConvShape {
    let b = match a {
        Algorithm::Direct | Algorithm::Im2col | Algorithm::Winograd(_) => {
            ConvShape::builder(1, 6, 6, 8, 40, 3, 3).pad(1)
        }
        Algorithm::Pointwise => ConvShape::builder(1, 4, 4, 8, 40, 1, 1),
        Algorithm::Depthwise => ConvShape::builder(1, 6, 6, 24, 24, 3, 3).pad(1).groups(24),
    };
    b.build().unwrap()
}

#[test]
fn names_are_derived_and_unique() {
    let mut seen = std::collections::HashSet::new();
    for v in variants() {
        let want = format!(
            "{}-{}-{}-{}",
            v.types(),
            v.algorithm().name(),
            v.isa().name(),
            v.tile()
        );
        assert_eq!(v.name(), want);
        // Every row is f32 today; older files' names (no type) read as f32 rows.
        assert_eq!(v.types(), simdconv::Types::F32);
        let old = v.name().strip_prefix("f32-").unwrap();
        assert_eq!(simdconv::canonical_name(old), v.name());
        assert_eq!(simdconv::canonical_name(v.name()), v.name());
        assert!(seen.insert(v.name()), "{} registered twice", v.name());
        match v.tile() {
            Tile::Gemm { mr, nr } => {
                assert!(mr >= 1 && nr % v.isa().lanes() == 0, "{}", v.name());
                assert_eq!((v.tile_mr(), v.tile_nr()), (Some(mr), Some(nr)));
            }
            Tile::Channels(c) => {
                assert_eq!(v.algorithm(), Algorithm::Depthwise, "{}", v.name());
                assert_eq!(c, v.isa().lanes(), "{}", v.name());
            }
        }
    }
}

#[test]
fn every_row_builds_the_tile_it_declares() {
    let mut checked = 0;
    for v in variants() {
        if !v.is_available() {
            println!("skipped: {} (no {} on this CPU)", v.name(), v.isa());
            continue;
        }
        let s = shape_for(v.algorithm());
        let w = vec![0.5f32; s.weights_len()];
        let plan = v.plan(&s, &w, None, Default::default()).unwrap();
        assert_eq!(plan.kernel_tile(), v.tile(), "{}", v.name());
        assert_eq!(plan.variant_name(), v.name());
        assert_eq!((plan.algorithm(), plan.isa()), (v.algorithm(), v.isa()));
        checked += 1;
    }
    assert!(
        checked >= Algorithm::ALL.len() * 2,
        "only {checked} rows ran"
    );
}
