//! Interpolation points -> the transforms of Winograd F(m x m, 3x3), built the Toom-Cook way
//! (Lavin & Gray; Barabasz et al. on choosing the points), at compile time.
//!
//! With alpha = m + 2 points `a_0 .. a_{alpha-2}` and infinity, the 1-D correlation is
//! `y = A^T [(G g) . (B^T d)]` where, for j < alpha - 1,
//! - `A^T[i][j] = a_j^i` (the evaluation of an m-term polynomial, transposed),
//! - `G[j][k] = a_j^k / f_j` with `f_j = prod_{l != j} (a_j - a_l)`,
//! - row j of `B^T` holds the coefficients of `M_j(x) = prod_{l != j} (x - a_l)`,
//!
//! and the point at infinity gives `A^T`'s last column `e_{m-1}`, `G`'s last row `e_2` and `B^T`'s
//! last row, the coefficients of `M(x) = prod_l (x - a_l)`. The scale `1/f_j` sits in G, which is
//! applied once at plan time in f64, so `B^T` and `A^T` hold small dyadic numbers that f32 holds
//! exactly for every point set here.
//!
//! Points come in `a, -a` pairs where a set allows (listed adjacently): row `-a` of `B^T` is then
//! `±(-1)^c` times row `a`, and column `-a` of `A^T` is `(-1)^i` times column `a`. The transforms
//! use that to build both rows from one even and one odd half-sum, as hand-written ones do.
//! This file is plain arithmetic on slices; nothing here knows about vectors.

/// The run-time transforms of one point set, alpha = `AL`.
pub(crate) struct Tables<const AL: usize> {
    /// `B^T` (alpha x alpha).
    pub bt: [[f32; AL]; AL],
    /// `bt_mirror[r] = ±1`: row r of `B^T` is `±(-1)^c` times row r - 1; 0 otherwise.
    pub bt_mirror: [i8; AL],
    /// `A^T`, its first m = alpha - 2 rows used.
    pub at: [[f32; AL]; AL],
    /// `at_pair[c]`: column c of `A^T` is `(-1)^i` times column c - 1.
    pub at_pair: [bool; AL],
}

/// Coefficients (ascending) of `prod (x - a_l)` over the finite points except `skip`
/// (`usize::MAX`: none).
const fn poly<const AL: usize>(points: &[f64], skip: usize) -> [f64; AL] {
    let mut c = [0.0; AL];
    c[0] = 1.0;
    let mut l = 0;
    while l < points.len() {
        if l != skip {
            // Multiply by (x - a_l).
            let a = points[l];
            let mut i = AL - 1;
            while i > 0 {
                c[i] = c[i - 1] - a * c[i];
                i -= 1;
            }
            c[0] = -a * c[0];
        }
        l += 1;
    }
    c
}

/// `x^i`.
const fn pow(x: f64, i: usize) -> f64 {
    let mut r = 1.0;
    let mut n = 0;
    while n < i {
        r *= x;
        n += 1;
    }
    r
}

impl<const AL: usize> Tables<AL> {
    /// The tables of `points` (alpha - 1 finite points, distinct).
    pub const fn new(points: &[f64]) -> Tables<AL> {
        assert!(points.len() == AL - 1, "alpha - 1 finite points");
        let mut t = Tables {
            bt: [[0.0; AL]; AL],
            bt_mirror: [0; AL],
            at: [[0.0; AL]; AL],
            at_pair: [false; AL],
        };
        let mut r = 0;
        while r < AL {
            let p = poly::<AL>(points, if r < AL - 1 { r } else { usize::MAX });
            let mut c = 0;
            while c < AL {
                t.bt[r][c] = p[c] as f32;
                c += 1;
            }
            r += 1;
        }
        let m = AL - 2;
        let mut i = 0;
        while i < m {
            let mut j = 0;
            while j < AL - 1 {
                t.at[i][j] = pow(points[j], i) as f32;
                j += 1;
            }
            t.at[i][AL - 1] = if i == m - 1 { 1.0 } else { 0.0 };
            i += 1;
        }
        // Pairs a, -a, adjacent, neither already in a pair.
        let mut j = 1;
        while j < AL - 1 {
            if points[j] == -points[j - 1] && points[j] != 0.0 && t.bt_mirror[j - 1] == 0 {
                t.bt_mirror[j] = mirror_sign(&t.bt[j - 1], &t.bt[j]);
                t.at_pair[j] = true;
            }
            j += 1;
        }
        t
    }

    /// How much the transforms can grow a value, for the overflow bound:
    /// `|Y| <= growth * C * max|x| * max|w|`, the product of the squared largest row sums of
    /// `B^T`, `A^T` and `G` (`g` its largest row sum, computed with G at plan time).
    pub fn growth(&self, g: f64) -> f64 {
        let rows = |m: &[[f32; AL]], n: usize| {
            m[..n]
                .iter()
                .map(|r| r.iter().map(|v| f64::from(v.abs())).sum::<f64>())
                .fold(0.0, f64::max)
        };
        let (b, a) = (rows(&self.bt, AL), rows(&self.at, AL - 2));
        (a * b * g).powi(2)
    }
}

/// `s` if `row[c] == s (-1)^c prev[c]` for every c (s = ±1), else 0.
const fn mirror_sign<const AL: usize>(prev: &[f32; AL], row: &[f32; AL]) -> i8 {
    let mut s: i8 = 1;
    while s >= -1 {
        let mut ok = true;
        let mut c = 0;
        while c < AL {
            let sign = if c % 2 == 0 { s as f32 } else { -(s as f32) };
            if row[c] != sign * prev[c] {
                ok = false;
            }
            c += 1;
        }
        if ok {
            return s;
        }
        s -= 2;
    }
    0
}

/// `G` (alpha x 3) of `points`, in f64: row j < alpha - 1 is `a_j^k / f_j`, the last `e_2`.
pub(crate) fn g_matrix(points: &[f64]) -> Vec<[f64; 3]> {
    let mut g: Vec<[f64; 3]> = points
        .iter()
        .enumerate()
        .map(|(j, &a)| {
            let f: f64 = points
                .iter()
                .enumerate()
                .filter(|&(l, _)| l != j)
                .map(|(_, &b)| a - b)
                .product();
            [1.0 / f, a / f, a * a / f]
        })
        .collect();
    g.push([0.0, 0.0, 1.0]);
    g
}

/// The largest row sum of |G|.
pub(crate) fn g_row_sum(points: &[f64]) -> f64 {
    g_matrix(points)
        .iter()
        .map(|r| r.iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 1-D algorithm the tables define, in f64, against the correlation itself.
    fn check<const AL: usize>(points: &[f64]) {
        let t = Tables::<AL>::new(points);
        let g = g_matrix(points);
        let m = AL - 2;
        let w = [0.3, -1.7, 2.1];
        let d: Vec<f64> = (0..AL).map(|i| (i as f64 * 0.37).sin() + 0.1).collect();
        let u: Vec<f64> = g
            .iter()
            .map(|r| (0..3).map(|k| r[k] * w[k]).sum())
            .collect();
        let v: Vec<f64> = (0..AL)
            .map(|r| (0..AL).map(|c| f64::from(t.bt[r][c]) * d[c]).sum())
            .collect();
        for i in 0..m {
            let y: f64 = (0..AL).map(|j| f64::from(t.at[i][j]) * u[j] * v[j]).sum();
            let want: f64 = (0..3).map(|k| w[k] * d[i + k]).sum();
            assert!(
                (y - want).abs() < 1e-9,
                "{points:?}: y[{i}] = {y}, want {want}"
            );
        }
        // The mirror flags say what the rows and columns are.
        for r in 1..AL {
            if t.bt_mirror[r] != 0 {
                let s = f32::from(t.bt_mirror[r]);
                for c in 0..AL {
                    let sign = if c % 2 == 0 { s } else { -s };
                    assert_eq!(t.bt[r][c], sign * t.bt[r - 1][c]);
                }
            }
            if t.at_pair[r] {
                for i in 0..m {
                    let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
                    assert_eq!(t.at[i][r], sign * t.at[i][r - 1]);
                }
            }
        }
    }

    #[test]
    fn every_point_set_computes_the_correlation() {
        for set in crate::WinogradTile::ALL {
            match set.m() + 2 {
                4 => check::<4>(set.points()),
                6 => check::<6>(set.points()),
                8 => check::<8>(set.points()),
                a => panic!("alpha {a}"),
            }
        }
    }

    #[test]
    fn the_standard_tables_are_the_published_ones() {
        // F(4,3) with {0, 1, -1, 2, -2}: Lavin & Gray's B^T and A^T.
        let t = Tables::<6>::new(&[0.0, 1.0, -1.0, 2.0, -2.0]);
        assert_eq!(t.bt[0], [4.0, 0.0, -5.0, 0.0, 1.0, 0.0]);
        assert_eq!(t.bt[1], [0.0, -4.0, -4.0, 1.0, 1.0, 0.0]);
        assert_eq!(t.bt[2], [0.0, 4.0, -4.0, -1.0, 1.0, 0.0]);
        assert_eq!(t.bt[5], [0.0, 4.0, 0.0, -5.0, 0.0, 1.0]);
        assert_eq!(t.at[3], [0.0, 1.0, -1.0, 8.0, -8.0, 1.0]);
        assert_eq!(t.bt_mirror, [0, 0, 1, 0, 1, 0]);
        assert_eq!(t.at_pair, [false, false, true, false, true, false]);
        assert_eq!(g_matrix(&[0.0, 1.0, -1.0, 2.0, -2.0])[0], [0.25, 0.0, 0.0]);
        // The overflow bound of F(4,3) the docs state: 19^2 * 10^2 * 1.
        assert_eq!(t.growth(g_row_sum(&[0.0, 1.0, -1.0, 2.0, -2.0])), 36100.0);
    }
}
