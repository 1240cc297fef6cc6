//! Guard-page tests: input and output slices end exactly at an unmapped page (PROT_NONE), so any
//! read or write past the end faults instead of passing silently. Every registered variant that
//! runs here (f32, int8 and bf16), on tail-heavy shapes (channel counts around each vector width
//! and dot-product group, odd widths).
#![cfg(all(unix, not(miri)))]

mod common;

use common::{data, ACTIVATIONS};
use simdconv::bf16::{self, BConvPlan};
use simdconv::quant::{self, QConvPlan, QuantParams};
use simdconv::{reference, variants, Activation, ConvShape};

/// `len` elements of `size` bytes whose last one sits right before a PROT_NONE page.
struct Guarded {
    base: *mut libc::c_void,
    map_len: usize,
    offset: usize,
    len: usize,
}

impl Guarded {
    fn new(len: usize) -> Guarded {
        Guarded::of(len, 4)
    }

    fn of(len: usize, size: usize) -> Guarded {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let bytes = len * size;
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
        self.typed()
    }

    /// The elements as `T`, made with `Guarded::of(len, size_of::<T>())`.
    fn typed<T: Copy>(&mut self) -> &mut [T] {
        assert_eq!(self.offset % std::mem::align_of::<T>(), 0);
        // SAFETY: `offset .. offset + len * size_of::<T>()` lies in the readable, writable part
        // of the mapping, is aligned for `T` (checked above; a page is), holds plain numbers
        // (any bits are a value of f32, u8, i32 or Bf16) and lives as long as `self`.
        unsafe {
            std::slice::from_raw_parts_mut(
                (self.base as *mut u8).add(self.offset) as *mut T,
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

/// Runs `run` on guarded copies of `input` and a guarded output; returns the output.
fn guarded<X: Copy, Y: Copy + Default>(
    input: &[X],
    out_len: usize,
    run: impl FnOnce(&[X], &mut [Y]),
) -> Vec<Y> {
    let mut gin = Guarded::of(input.len(), std::mem::size_of::<X>());
    gin.typed::<X>().copy_from_slice(input);
    let mut gout = Guarded::of(out_len, std::mem::size_of::<Y>());
    let inp: &[X] = gin.typed::<X>();
    // SAFETY: the same live mapping, only read while `run` runs (a pointer-length copy, so the
    // output mapping can be borrowed mutably beside it).
    let inp = unsafe { std::slice::from_raw_parts(inp.as_ptr(), inp.len()) };
    run(inp, gout.typed::<Y>());
    gout.typed::<Y>().to_vec()
}

#[test]
fn no_low_precision_variant_touches_memory_past_its_slices() {
    let mut pairs = 0;
    for (i, s) in shapes().iter().enumerate() {
        let x = data(s.input_len(), i as u64);
        let w = data(s.weights_len(), i as u64 + 1);
        let qx: Vec<u8> = x.iter().map(|v| (v * 100.0 + 128.0) as u8).collect();
        let qw: Vec<i8> = w.iter().map(|v| (v * 100.0) as i8).collect();
        let params = QuantParams::per_tensor(0.02, 128, 0.01, 0.05, 100);
        for v in quant::variants()
            .iter()
            .filter(|v| v.is_available() && v.supports(s).is_ok())
        {
            let mut plan = QConvPlan::new(v, s, &qw, None, &params).unwrap();
            let mut want = vec![0u8; s.output_len()];
            plan.run(&qx, &mut want).unwrap();
            let got = guarded(&qx, s.output_len(), |inp, out| plan.run(inp, out).unwrap());
            assert!(got == want, "{} on {s}: guarded output differs", v.name());
            pairs += 1;
        }
        let (bx, bw) = (bf16::round(&x), bf16::round(&w));
        for v in bf16::variants()
            .iter()
            .filter(|v| v.is_available() && v.supports(s).is_ok())
        {
            let mut plan = BConvPlan::new(v, s, &bw, None, Activation::Relu).unwrap();
            let mut want = vec![0f32; s.output_len()];
            plan.run(&bx, &mut want).unwrap();
            let got = guarded(&bx, s.output_len(), |inp, out| plan.run(inp, out).unwrap());
            assert!(got == want, "{} on {s}: guarded output differs", v.name());
            pairs += 1;
        }
    }
    println!("{pairs} (low-precision variant, shape) pairs ran against guard pages");
    assert!(pairs > 300);
}
