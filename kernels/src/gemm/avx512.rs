//! AVX-512F GEMM microkernels, three register tiles of the one generic body:
//! - 14x32 (the default): 28 accumulators + 2 B vectors + 1 broadcast = 31 of 32 zmm;
//! - 6x64: 24 accumulators + 4 B + 1 broadcast; 6 broadcasts per 24 FMAs and only 6 row pointers
//!   (14x32 keeps 14 in general registers and spills some), for K a multiple of 64;
//! - 8x48: 24 accumulators + 3 B + 1 broadcast, for K a multiple of 48 (96, 144, ...) that 32 and
//!   64 would pad;
//! - 7x32: 14 accumulators + 2 B + 1 broadcast, for M a multiple of 7 (Winograd's 49-tile GEMMs
//!   of 28x28 and 14x14 images, where 14 and 6 rows pad).

use super::{IndirectTile, PackedTile, Ukernels};
use crate::simd::avx512::Avx512;

macro_rules! tile {
    ($(#[$doc:meta])* $name:ident, $mr:expr, $nv:expr) => {
        $(#[$doc])*
        pub(crate) const $name: Ukernels = {
            /// # Safety
            /// AVX-512F present; the contract of [`super::ukernel::packed`].
            #[target_feature(enable = "avx512f")]
            unsafe fn packed(t: &PackedTile) {
                super::ukernel::packed::<Avx512, $mr, $nv>(Avx512::assume(), t)
            }
            /// # Safety
            /// AVX-512F present; the contract of [`super::ukernel::indirect`].
            #[target_feature(enable = "avx512f")]
            unsafe fn indirect(t: &IndirectTile) {
                super::ukernel::indirect::<Avx512, $mr, $nv>(Avx512::assume(), t)
            }
            Ukernels {
                mr: $mr,
                nr: $nv * 16,
                packed,
                indirect,
            }
        };
    };
}

tile!(
    /// 14 rows x 2 zmm.
    UKERNELS,
    14,
    2
);
tile!(
    /// 6 rows x 4 zmm.
    UKERNELS_6X64,
    6,
    4
);
tile!(
    /// 8 rows x 3 zmm.
    UKERNELS_8X48,
    8,
    3
);
tile!(
    /// 7 rows x 2 zmm.
    UKERNELS_7X32,
    7,
    2
);
