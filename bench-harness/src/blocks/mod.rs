//! The seed blocks: the classic claims about CNN building blocks (1x1 bottlenecks, Inception,
//! depthwise-separable convolution, inverted residuals, compound scaling), each built from the
//! registered kernels and the small ops (`simdconv::ops`), so the FLOP ratio of each claim can be
//! set beside a measured time ratio.

mod seed;

use std::time::Instant;

use simdconv::ops::{self, Pool};
#[cfg(test)]
use simdconv::reference;
use simdconv::{
    variants, Activation, Algorithm, AlignedBuf, ConvPlan, ConvShape, Element, Isa, Variant,
};

use crate::schema::results::BlockMode;
use crate::seeded;

pub(crate) use seed::{claims, Claim};
#[cfg(test)]
pub(crate) use seed::{mbconv_stage, round_filters};

/// One step of a block. Buffers are numbered; buffer 0 is the block input.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// A convolution (weights and bias seeded per step).
    Conv {
        /// Its shape.
        shape: ConvShape,
        /// Fused activation.
        act: Activation,
    },
    /// 3x3 (or other) max-pool.
    Pool(Pool),
    /// Concatenation along channels of `channels[i]`-channel inputs over `pixels` pixels.
    Concat {
        /// Channels per input.
        channels: Vec<usize>,
        /// Pixels (n * h * w).
        pixels: usize,
    },
    /// Residual add.
    Add,
}

/// A step: an op, its input buffers and its output buffer.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// Short name, e.g. `3x3 96->128`.
    pub name: String,
    /// What it does.
    pub op: Op,
    /// Input buffer indices.
    pub srcs: Vec<usize>,
    /// Output buffer index.
    pub dst: usize,
}

/// A block: a small graph of steps over numbered buffers.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// Display name.
    pub name: String,
    /// Length of every buffer (0 = input).
    pub buffers: Vec<usize>,
    /// The steps, in execution order.
    pub steps: Vec<Step>,
    /// The output buffer.
    pub output: usize,
}

impl Block {
    /// Convolution FLOPs of the whole block (pooling, adds and copies are not counted).
    pub(crate) fn flops(&self) -> u64 {
        self.steps
            .iter()
            .map(|s| match &s.op {
                Op::Conv { shape, .. } => shape.flops(),
                _ => 0,
            })
            .sum()
    }
}

/// Builds blocks step by step (NHWC, batch 1).
pub(crate) struct Builder {
    block: Block,
}

/// A block convolution's filter: a full `R x R` convolution or a depthwise one.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ConvKind {
    /// Every output channel reads every input channel.
    Full(usize),
    /// One `R x R` filter per channel (groups = C = K).
    Depthwise(usize),
}

impl Builder {
    /// A block whose input is `hw x hw x c`.
    pub(crate) fn new(name: &str, hw: usize, c: usize) -> Builder {
        Builder {
            block: Block {
                name: name.into(),
                buffers: vec![hw * hw * c],
                steps: Vec::new(),
                output: 0,
            },
        }
    }

    fn push(&mut self, name: String, op: Op, srcs: Vec<usize>, len: usize) -> usize {
        self.block.buffers.push(len);
        let dst = self.block.buffers.len() - 1;
        self.block.steps.push(Step {
            name,
            op,
            srcs,
            dst,
        });
        self.block.output = dst;
        dst
    }

    /// A square stride-1 convolution with "same" padding on `src` (`hw x hw x c`), `k` output
    /// channels (`c` when depthwise).
    pub(crate) fn conv(
        &mut self,
        src: usize,
        hw: usize,
        c: usize,
        k: usize,
        kind: ConvKind,
        act: Activation,
    ) -> usize {
        let (rs, groups, name) = match kind {
            ConvKind::Full(rs) => (rs, 1, format!("{rs}x{rs} {c}->{k} @{hw}")),
            ConvKind::Depthwise(rs) => (rs, c, format!("dw {rs}x{rs} {c} @{hw}")),
        };
        let shape = ConvShape::builder(1, hw, hw, c, k, rs, rs)
            .pad((rs - 1) / 2)
            .groups(groups)
            .build()
            .expect("block layers are valid");
        let len = shape.output_len();
        self.push(name, Op::Conv { shape, act }, vec![src], len)
    }

    /// 3x3 stride-1 max-pool with padding 1.
    pub(crate) fn max_pool3(&mut self, src: usize, hw: usize, c: usize) -> usize {
        let pool = Pool {
            n: 1,
            h: hw,
            w: hw,
            c,
            window: 3,
            stride: 1,
            pad: 1,
        };
        self.push(
            format!("maxpool 3x3 {c} @{hw}"),
            Op::Pool(pool),
            vec![src],
            hw * hw * c,
        )
    }

    /// Concatenation along channels.
    pub(crate) fn concat(&mut self, srcs: &[usize], channels: &[usize], hw: usize) -> usize {
        let total: usize = channels.iter().sum();
        let op = Op::Concat {
            channels: channels.to_vec(),
            pixels: hw * hw,
        };
        self.push(
            format!("concat -> {total} @{hw}"),
            op,
            srcs.to_vec(),
            hw * hw * total,
        )
    }

    /// Residual add.
    pub(crate) fn add(&mut self, a: usize, b: usize) -> usize {
        let len = self.block.buffers[a];
        self.push("residual add".into(), Op::Add, vec![a, b], len)
    }

    /// The block.
    pub(crate) fn finish(self) -> Block {
        self.block
    }
}

/// How each conv of a block gets its variant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Mode {
    /// The fastest variant of this ISA for each layer, chosen by a short timing pass at plan
    /// time (as cuDNN's "find" does); the measurement proper is criterion's.
    Best(Isa),
    /// One algorithm for every layer that it supports (depthwise layers fall back to Depthwise).
    Fixed(Isa, Algorithm),
}

impl Mode {
    /// The ISA.
    pub(crate) fn isa(&self) -> Isa {
        match *self {
            Mode::Best(i) | Mode::Fixed(i, _) => i,
        }
    }
    /// The mode as records store it.
    pub(crate) fn record(&self) -> BlockMode {
        match *self {
            Mode::Best(_) => BlockMode::Best,
            Mode::Fixed(_, a) => BlockMode::Fixed(a),
        }
    }
}

/// A block ready to run: one plan per conv step, weights seeded, buffers allocated.
pub(crate) struct Prepared {
    block: Block,
    plans: Vec<Option<ConvPlan>>,
    bufs: Vec<AlignedBuf>,
    isa: Isa,
}

fn weights_for(shape: &ConvShape, seed: u64) -> (Vec<f32>, Vec<f32>) {
    // Scaled by 1/sqrt(fan-in) so activations stay O(1) through deep stacks.
    let scale = 1.0 / (shape.reduction_len() as f32).sqrt();
    let w = seeded(shape.weights_len(), seed)
        .iter()
        .map(|v| v * scale)
        .collect();
    let b = seeded(shape.k(), seed ^ 0xb1a5)
        .iter()
        .map(|v| v * 0.1)
        .collect();
    (w, b)
}

impl Prepared {
    /// Plans every conv of `block` for `mode`.
    pub(crate) fn new(block: &Block, mode: Mode) -> Result<Prepared, String> {
        let isa = mode.isa();
        let mut plans = Vec::new();
        for (i, step) in block.steps.iter().enumerate() {
            let Op::Conv { shape, act } = &step.op else {
                plans.push(None);
                continue;
            };
            let (w, b) = weights_for(shape, i as u64 + 1);
            // Best: what auto may pick on this ISA (of the Winograd point sets of one tile size,
            // the most accurate), each timed here.
            let candidates: Vec<&Variant> = match mode {
                Mode::Best(_) => {
                    let opts = simdconv::auto::AutoOptions {
                        isas: Some(vec![isa]),
                        ..Default::default()
                    };
                    simdconv::auto::candidates(shape, &opts).unwrap_or_default()
                }
                Mode::Fixed(_, alg) => variants()
                    .iter()
                    .filter(|v| crate::here::runs(v, shape, Some(&[isa])))
                    .filter(|v| {
                        v.algorithm() == alg
                            || (shape.is_depthwise()
                                && v.algorithm() == Algorithm::Depthwise
                                && alg.supports(shape).is_err())
                    })
                    .collect(),
            };
            let mut best: Option<(f64, ConvPlan)> = None;
            let input = AlignedBuf::zeroed(shape.input_len()).map_err(|e| e.to_string())?;
            let mut out = AlignedBuf::zeroed(shape.output_len()).map_err(|e| e.to_string())?;
            for v in candidates {
                let mut plan = v
                    .plan(shape, &w, Some(&b), *act)
                    .map_err(|e| format!("{}: {e}", step.name))?;
                let mut t = f64::MAX;
                if matches!(mode, Mode::Best(_)) {
                    for _ in 0..3 {
                        let s = Instant::now();
                        plan.run(&input, &mut out).map_err(|e| e.to_string())?;
                        t = t.min(s.elapsed().as_secs_f64());
                    }
                }
                if best.as_ref().is_none_or(|(bt, _)| t < *bt) {
                    best = Some((t, plan));
                }
            }
            let (_, plan) =
                best.ok_or_else(|| format!("{}: no {} variant runs {shape}", step.name, isa))?;
            plans.push(Some(plan));
        }
        let bufs = block
            .buffers
            .iter()
            .map(|&n| AlignedBuf::zeroed(n))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        Ok(Prepared {
            block: block.clone(),
            plans,
            bufs,
            isa,
        })
    }

    /// The variant chosen for each step (`-` for non-conv steps).
    pub(crate) fn variant_names(&self) -> Vec<String> {
        self.plans
            .iter()
            .map(|p| {
                p.as_ref()
                    .map_or("-".to_string(), |p| p.variant_name().to_string())
            })
            .collect()
    }

    /// Copies `input` into buffer 0.
    pub(crate) fn set_input(&mut self, input: &[f32]) {
        self.bufs[0].copy_from_slice(input);
    }

    /// The output buffer.
    #[cfg(test)]
    pub(crate) fn output(&self) -> &[f32] {
        &self.bufs[self.block.output]
    }

    /// Runs step `i`.
    pub(crate) fn run_step(&mut self, i: usize) -> Result<(), String> {
        let step = &self.block.steps[i];
        let mut dst = std::mem::take(&mut self.bufs[step.dst]);
        let r = match &step.op {
            Op::Conv { .. } => {
                let plan = self.plans[i].as_mut().expect("conv steps have plans");
                plan.run(&self.bufs[step.srcs[0]], &mut dst)
                    .map_err(|e| e.to_string())
            }
            Op::Pool(p) => ops::max_pool(self.isa, p, &self.bufs[step.srcs[0]], &mut dst)
                .map_err(|e| e.to_string()),
            Op::Concat { channels, pixels } => {
                let parts: Vec<&[f32]> = step.srcs.iter().map(|&s| &self.bufs[s][..]).collect();
                ops::concat_channels(&parts, channels, *pixels, &mut dst).map_err(|e| e.to_string())
            }
            Op::Add => ops::add(
                self.isa,
                &self.bufs[step.srcs[0]],
                &self.bufs[step.srcs[1]],
                &mut dst,
            )
            .map_err(|e| e.to_string()),
        };
        self.bufs[step.dst] = dst;
        r
    }

    /// Runs the whole block.
    pub(crate) fn run(&mut self) -> Result<(), String> {
        for i in 0..self.block.steps.len() {
            self.run_step(i)?;
        }
        Ok(())
    }
}

/// The block computed with `simdconv::reference` convolutions and plain scalar pooling, adds and
/// copies (the test oracle).
#[cfg(test)]
pub(crate) fn reference_run(block: &Block, input: &[f32]) -> Vec<f32> {
    let mut bufs: Vec<Vec<f32>> = block.buffers.iter().map(|&n| vec![0.0; n]).collect();
    bufs[0].copy_from_slice(input);
    for (i, step) in block.steps.iter().enumerate() {
        let out = match &step.op {
            Op::Conv { shape, act } => {
                let (w, b) = weights_for(shape, i as u64 + 1);
                reference::conv(shape, &bufs[step.srcs[0]], &w, Some(&b), *act).expect("valid")
            }
            Op::Pool(p) => {
                let (ph, pw) = p.out_hw().expect("valid");
                let src = &bufs[step.srcs[0]];
                let mut o = vec![f32::NEG_INFINITY; ph * pw * p.c];
                for y in 0..ph {
                    for x in 0..pw {
                        for ky in 0..p.window {
                            for kx in 0..p.window {
                                let (iy, ix) = (
                                    (y + ky) as isize - p.pad as isize,
                                    (x + kx) as isize - p.pad as isize,
                                );
                                if iy < 0 || ix < 0 || iy >= p.h as isize || ix >= p.w as isize {
                                    continue;
                                }
                                for ch in 0..p.c {
                                    let v = src[(iy as usize * p.w + ix as usize) * p.c + ch];
                                    let m = &mut o[(y * pw + x) * p.c + ch];
                                    *m = m.max(v);
                                }
                            }
                        }
                    }
                }
                o
            }
            Op::Concat { channels, pixels } => {
                let mut o = Vec::with_capacity(block.buffers[step.dst]);
                for px in 0..*pixels {
                    for (&s, &c) in step.srcs.iter().zip(channels) {
                        o.extend_from_slice(&bufs[s][px * c..(px + 1) * c]);
                    }
                }
                o
            }
            Op::Add => bufs[step.srcs[0]]
                .iter()
                .zip(&bufs[step.srcs[1]])
                .map(|(a, b)| a + b)
                .collect(),
        };
        bufs[step.dst] = out;
    }
    bufs.swap_remove(block.output)
}

/// Bytes a step moves at least once.
pub(crate) fn step_bytes(block: &Block, step: &Step) -> u64 {
    let io: usize =
        step.srcs.iter().map(|&s| block.buffers[s]).sum::<usize>() + block.buffers[step.dst];
    match &step.op {
        Op::Conv { shape, .. } => shape.compulsory_bytes(),
        _ => (io * f32::BYTES) as u64,
    }
}
