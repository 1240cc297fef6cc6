//! Guard-page tests: input and output slices end exactly at an unmapped page (PROT_NONE), so any
//! read or write past the end faults instead of passing silently. Every registered variant that
//! runs here, on tail-heavy shapes (channel counts around each vector width, odd widths).
#![cfg(all(unix, not(miri)))]

mod common;

use common::{data, ACTIVATIONS};
use simdconv::{reference, variants, ConvShape};

/// `len` floats whose last one sits right before a PROT_NONE page.
struct Guarded {
    base: *mut libc::c_void,
    map_len: usize,
    offset: usize,
    len: usize,
}

impl Guarded {
    fn new(len: usize) -> Guarded {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let bytes = len * 4;
        let data_pages = bytes.div_ceil(page).max(1);
        let map_len = (data_pages + 1) * page;
        // SAFETY: an anonymous private mapping; checked for failure below.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(base, libc::MAP_FAILED, "mmap failed");
        // SAFETY: the last page lies inside the mapping just made.
        let rc = unsafe {
            libc::mprotect(
                (base as *mut u8).add(data_pages * page) as *mut _,
                page,
                libc::PROT_NONE,
            )
        };
        assert_eq!(rc, 0, "mprotect failed");
        Guarded {
            base,
            map_len,
            offset: data_pages * page - bytes,
            len,
        }
    }

    fn slice(&mut self) -> &mut [f32] {
        // SAFETY: `offset .. offset + 4 * len` lies in the readable, writable part of the mapping,
        // is 4-byte aligned (page - 4 * len is a multiple of 4) and lives as long as `self`.
        unsafe {
            std::slice::from_raw_parts_mut(
                (self.base as *mut u8).add(self.offset) as *mut f32,
                self.len,
            )
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping made in `new`.
        unsafe { libc::munmap(self.base, self.map_len) };
    }
}

fn shapes() -> Vec<ConvShape> {
    let mut v = Vec::new();
    for c in [1, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33] {
        for k in [1, 7, 8, 9, 16, 17, 31, 33] {
            v.push(
                ConvShape::builder(1, 3, 5, c, k, 3, 3)
                    .pad(1)
                    .build()
                    .unwrap(),
            );
            v.push(ConvShape::builder(1, 2, 3, c, k, 1, 1).build().unwrap());
        }
        v.push(
            ConvShape::builder(1, 5, 3, c, c, 3, 3)
                .pad(1)
                .groups(c)
                .build()
                .unwrap(),
        );
        v.push(
            ConvShape::builder(1, 6, 7, c, c, 5, 5)
                .stride(2)
                .pad(2)
                .groups(c)
                .build()
                .unwrap(),
        );
        v.push(
            ConvShape::builder(1, 7, 6, c, c + 1, 3, 3)
                .stride(2)
                .build()
                .unwrap(),
        );
    }
    v
}

#[test]
fn no_variant_touches_memory_past_its_slices() {
    let mut pairs = 0;
    for (i, s) in shapes().iter().enumerate() {
        let input = data(s.input_len(), i as u64);
        let weights = data(s.weights_len(), i as u64 + 1);
        let bias = data(s.k(), 7);
        let act = ACTIVATIONS[i % 4];
        let (want, mag) =
            reference::conv_with_magnitude(s, &input, &weights, Some(&bias), act).unwrap();
        let mut gin = Guarded::new(s.input_len());
        gin.slice().copy_from_slice(&input);
        let mut gout = Guarded::new(s.output_len());
        for v in variants()
            .iter()
            .filter(|v| v.is_available() && v.supports(s).is_ok())
        {
            let mut plan = v.plan(s, &weights, Some(&bias), act).unwrap();
            gout.slice().fill(f32::NAN);
            let inp: &[f32] = &gin.slice()[..];
            // A copy of the pointer-length pair: the input mapping is only read.
            // SAFETY: the same live mapping as `gin.slice()`, read-only while `plan.run` runs.
            let inp = unsafe { std::slice::from_raw_parts(inp.as_ptr(), inp.len()) };
            plan.run(inp, gout.slice()).unwrap();
            let err = reference::max_relative_error(gout.slice(), &want, &mag);
            assert!(
                err <= reference::tolerance(s, v.algorithm()),
                "{} on {s}: error {err:e}",
                v.name()
            );
            pairs += 1;
        }
    }
    println!("{pairs} (variant, shape) pairs ran against guard pages");
    assert!(pairs > 500);
}
