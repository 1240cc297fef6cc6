//! `tuning.html`: what a tune measured and how well each rule picks. Regret of auto and of the
//! baseline rules on held-out layers, then a crossover heatmap per kernel size and stride: the
//! measured winning algorithm over (input size, channels) on the grid's C = K layers, ties
//! marked, and the boundary of auto's leave-one-out picks drawn over it; then auto's misses and
//! the machine. `compare` uses the same heatmaps to set two CPUs' maps side by side.

mod compare;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use maud::{html, Markup};
use plotters::prelude::*;
use simdconv::auto::{TunedLayer, TuningMap};
use simdconv::{variants, Algorithm, Variant};

use super::charts::{self, algorithm_color_of, DrawResult, Tip};
use super::page::{l, machine_card, r, Page, RowClass, Svg, Table};
use crate::schema::results::{utc, write_atomic, FileError};
use crate::schema::tuning::{Evaluation, Pick, Rule, TuningFile};

pub(crate) use compare::compare_page;

const SPATIAL: [usize; 5] = [7, 14, 28, 56, 112];
const CHANNELS: [usize; 8] = [8, 16, 32, 64, 128, 256, 512, 1024];

/// The frame of a cell whose winner differs from the first map's (comparison page).
const FRAME: RGBColor = RGBColor(220, 0, 170);

/// A heatmap's layers: kernel size, stride, depthwise.
pub(crate) type Kind = (usize, usize, bool);

/// The kinds the grid holds, in page order.
pub(crate) const KINDS: [Kind; 12] = [
    (1, 1, false),
    (1, 2, false),
    (3, 1, false),
    (3, 2, false),
    (5, 1, false),
    (5, 2, false),
    (7, 1, false),
    (7, 2, false),
    (3, 1, true),
    (3, 2, true),
    (5, 1, true),
    (5, 2, true),
];

/// `c` blended with white: `f` of the colour, the rest white.
fn pale(c: RGBColor, f: f64) -> RGBColor {
    let m = |v: u8| (f64::from(v) * f + 255.0 * (1.0 - f)).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

fn kind_title((rs, stride, dw): Kind) -> String {
    let d = if dw { "depthwise " } else { "" };
    format!("{d}{rs}x{rs} stride {stride}")
}

/// The registry row of a stored variant name (`None`: a name this build does not know).
fn row(variant: &str) -> Option<&'static Variant> {
    variants().iter().find(|v| v.name() == variant)
}

/// The algorithm of a stored variant name, from the registry.
pub(crate) fn algorithm_of(variant: &str) -> Option<Algorithm> {
    row(variant).map(Variant::algorithm)
}

fn short(alg: Option<Algorithm>) -> &'static str {
    use simdconv::WinogradTile::{F2x2_3x3, F4x4_3x3, F4x4_3x3Half, F6x6_3x3, F6x6_3x3Integer};
    match alg {
        Some(Algorithm::Direct) => "D",
        Some(Algorithm::Im2col) => "I",
        Some(Algorithm::Winograd(F2x2_3x3)) => "W2",
        Some(Algorithm::Winograd(F4x4_3x3)) => "W4",
        Some(Algorithm::Winograd(F4x4_3x3Half)) => "W4h",
        Some(Algorithm::Winograd(F6x6_3x3)) => "W6",
        Some(Algorithm::Winograd(F6x6_3x3Integer)) => "W6i",
        Some(Algorithm::Pointwise) => "P",
        Some(Algorithm::Depthwise) => "DW",
        None => "?",
    }
}

/// One measured cell: the winner, whether another algorithm ties it, and the layer.
pub(crate) struct Cell<'a> {
    /// The layer.
    pub layer: &'a TunedLayer,
    /// Fastest variant.
    pub best: String,
    /// Another algorithm's best variant whose interval overlaps the winner's.
    pub tied_with: Option<String>,
}

/// The winner of a measured layer, and a tie when the best variant of another algorithm has an
/// interval overlapping the winner's.
pub(crate) fn cell(layer: &TunedLayer) -> Option<Cell<'_>> {
    let best = layer.best(|_| true)?;
    let alg = algorithm_of(&best.variant);
    let tied_with = layer
        .times
        .iter()
        .filter(|t| algorithm_of(&t.variant) != alg && t.samples > 1)
        .filter(|t| t.time_ns.lower <= best.time_ns.upper)
        .min_by(|a, b| a.time_ns.point.total_cmp(&b.time_ns.point))
        .map(|t| t.variant.clone());
    Some(Cell {
        layer,
        best: best.variant.clone(),
        tied_with,
    })
}

/// The grid layer of `kind` at (spatial, channels), C = K.
fn grid_layer(map: &TuningMap, kind: Kind, hw: usize, c: usize) -> Option<&TunedLayer> {
    let (rs, stride, dw) = kind;
    map.layers.iter().find(|l| {
        let s = &l.shape;
        s.h == hw
            && s.c == c
            && s.k == c
            && s.r == rs
            && s.stride_h == stride
            && s.n == 1
            && (s.groups == c) == dw
            && (dw || s.groups == 1)
            && l.name.starts_with("grid_")
    })
}

/// A heatmap of `kind`: measured winner per cell (algorithm colour; `~` and a lighter shade
/// for a tie), the boundary between different leave-one-out picks of auto as thick lines, and
/// cells in `outline` (layer names) framed in black.
pub(crate) fn heatmap(
    map: &TuningMap,
    kind: Kind,
    loo: &BTreeMap<String, String>,
    outline: &[String],
) -> DrawResult<Option<Svg>> {
    let any = SPATIAL.iter().any(|&hw| {
        CHANNELS
            .iter()
            .any(|&c| grid_layer(map, kind, hw, c).is_some())
    });
    if !any {
        return Ok(None);
    }
    let (cw, ch, left, top) = (62i32, 30i32, 56i32, 24i32);
    let (w, h) = (
        left + cw * SPATIAL.len() as i32 + 10,
        top + ch * CHANNELS.len() as i32 + 30,
    );
    let svg = charts::svg_with_tips(w as u32, h as u32, |root| {
        let mut tips: Vec<Tip> = Vec::new();
        let font = ("sans-serif", 11).into_font();
        root.draw(&Text::new(kind_title(kind), (left, 4), font.clone()))?;
        // Rows: channels, largest at the top.
        let row_of = |i: usize| top + ch * (CHANNELS.len() - 1 - i) as i32;
        for (j, hw) in SPATIAL.iter().enumerate() {
            let x = left + cw * j as i32;
            root.draw(&Text::new(
                format!("{hw}"),
                (x + cw / 2 - 8, h - 24),
                font.clone(),
            ))?;
        }
        root.draw(&Text::new("input H = W", (left + 80, h - 12), font.clone()))?;
        for (i, c) in CHANNELS.iter().enumerate() {
            root.draw(&Text::new(
                format!("C={c}"),
                (4, row_of(i) + 10),
                font.clone(),
            ))?;
        }
        let mut picks: Vec<Vec<Option<Algorithm>>> =
            vec![vec![None; SPATIAL.len()]; CHANNELS.len()];
        for (i, &c) in CHANNELS.iter().enumerate() {
            for (j, &hw) in SPATIAL.iter().enumerate() {
                let (x, y) = (left + cw * j as i32, row_of(i));
                let Some(cell) = grid_layer(map, kind, hw, c).and_then(cell) else {
                    root.draw(&Rectangle::new(
                        [(x, y), (x + cw, y + ch)],
                        RGBColor(245, 245, 245).filled(),
                    ))?;
                    continue;
                };
                let alg = algorithm_of(&cell.best);
                let base = algorithm_color_of(alg.map_or("?", Algorithm::name));
                let fill = if cell.tied_with.is_some() {
                    pale(base, 0.35)
                } else {
                    pale(base, 0.8)
                };
                root.draw(&Rectangle::new([(x, y), (x + cw, y + ch)], fill.filled()))?;
                root.draw(&Rectangle::new(
                    [(x, y), (x + cw, y + ch)],
                    WHITE.stroke_width(1),
                ))?;
                let isa = row(&cell.best).map_or("?", |v| v.isa().name());
                let tie = if cell.tied_with.is_some() { "~" } else { "" };
                root.draw(&Text::new(
                    format!("{tie}{} {isa}", short(alg)),
                    (x + 4, y + 9),
                    font.clone(),
                ))?;
                let loo_pick = loo.get(&cell.layer.name);
                if let Some(p) = loo_pick {
                    picks[i][j] = algorithm_of(p);
                }
                if outline.contains(&cell.layer.name) {
                    root.draw(&Rectangle::new(
                        [(x + 2, y + 2), (x + cw - 2, y + ch - 2)],
                        FRAME.stroke_width(3),
                    ))?;
                }
                let mut tip = format!("{}: best {}", cell.layer.name, cell.best);
                if let Some(t) = &cell.tied_with {
                    tip.push_str(&format!(", tied with {t}"));
                }
                if let Some(p) = loo_pick {
                    tip.push_str(&format!("; auto without this layer picks {p}"));
                }
                tips.push((x + cw / 2, y + ch / 2, tip));
            }
        }
        boundary(root, &picks, left, cw, ch, &row_of)?;
        Ok(tips)
    })?;
    Ok(Some(svg))
}

/// Thick lines between adjacent cells whose leave-one-out picks are different algorithms.
fn boundary<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    picks: &[Vec<Option<Algorithm>>],
    left: i32,
    cw: i32,
    ch: i32,
    row_of: &dyn Fn(usize) -> i32,
) -> DrawResult<()>
where
    DB::ErrorType: 'static,
{
    let line = BLACK.stroke_width(3);
    for i in 0..picks.len() {
        for j in 0..picks[i].len() {
            let Some(a) = &picks[i][j] else { continue };
            let (x, y) = (left + cw * j as i32, row_of(i));
            if let Some(Some(b)) = picks[i].get(j + 1) {
                if a != b {
                    root.draw(&PathElement::new(vec![(x + cw, y), (x + cw, y + ch)], line))?;
                }
            }
            if let Some(Some(b)) = picks.get(i + 1).map(|row| &row[j]) {
                if a != b {
                    root.draw(&PathElement::new(vec![(x, y), (x + cw, y)], line))?;
                }
            }
        }
    }
    Ok(())
}

/// The legend under the heatmaps; `boundary`: the page draws auto's leave-one-out boundary.
pub(crate) fn legend(boundary: bool) -> Markup {
    html! {
        p.note {
            @for a in Algorithm::ALL {
                @let RGBColor(r, g, b) = pale(charts::algorithm_color(a), 0.8);
                span style=(format!("background:rgb({r},{g},{b});padding:1px 6px;margin-right:6px")) {
                    (short(Some(a))) " " (a.name())
                }
            }
            " Cell text: winning algorithm and ISA; " b { "~" }
            " and a paler shade: another algorithm's best is within the winner's interval (a tie)."
            @if boundary {
                " Thick black lines: where auto's leave-one-out pick (the map without that layer) changes algorithm: the learned boundary."
            } @else {
                " Magenta frames: the winning algorithm differs from the first map's at that layer."
            }
            " Grey: not measured (over the grid's FLOP cap, or the budget ran out). Hover a cell for the variants."
        }
    }
}

/// The regret table: every rule, auto first.
pub(crate) fn regret_table(ev: &Evaluation) -> Markup {
    let mut t = Table::new(
        "",
        &[
            "rule",
            "what it does",
            "geomean regret",
            "max regret",
            "worst layer",
            "picked the best",
        ],
    );
    for s in &ev.baselines {
        t.row_class(
            &[
                l(s.rule.name()),
                l(s.description.clone()),
                r(format!("{:.3}", s.geomean_regret)),
                r(format!("{:.3}", s.max_regret)),
                l(s.worst_layer.clone()),
                r(format!("{} / {}", s.picked_best, ev.held_out)),
                r(format!("{} / {}", s.best_or_tied, ev.held_out)),
                r(s.over_1_10.to_string()),
            ],
            (s.rule == Rule::Auto).then_some(RowClass::Win),
        );
    }
    t.finish()
}

fn misses(file: &TuningFile, ev: &Evaluation) -> Markup {
    let mut t = Table::new(
        "",
        &[
            "held-out layer",
            "shape",
            "auto picked",
            "fastest",
            "regret",
        ],
    );
    let mut rows: Vec<&Pick> = ev
        .picks
        .iter()
        .filter(|p| p.rule == Rule::Auto && p.regret > 1.0)
        .collect();
    rows.sort_by(|a, b| b.regret.total_cmp(&a.regret));
    for p in rows.iter().take(25) {
        let Some(layer) = file.map.layers.iter().find(|l| l.name == p.layer) else {
            continue;
        };
        let best = layer
            .best(|_| true)
            .map(|b| b.variant.clone())
            .unwrap_or_default();
        let shape = layer
            .shape
            .shape()
            .map(|s| crate::schema::results::ShapeRecord::of(&s).to_string())
            .unwrap_or_default();
        t.row(
            &[
                l(p.layer.clone()),
                l(shape),
                l(p.variant.clone()),
                l(best),
                r(format!("{:.3}", p.regret)),
            ],
            false,
        );
    }
    t.finish()
}

/// Leave-one-out picks of auto by layer name.
pub(crate) fn loo_picks(file: &TuningFile) -> BTreeMap<String, String> {
    file.evaluation
        .iter()
        .flat_map(|e| e.leave_one_out.iter())
        .map(|p| (p.layer.clone(), p.variant.clone()))
        .collect()
}

/// Renders the page.
pub(crate) fn render(file: &TuningFile) -> Result<String, Box<dyn std::error::Error>> {
    let m = &file.machine;
    let mut page = Page::new(
        &format!("simdconv tuning map: {}", m.model),
        &format!("Tuning map: {}", m.model),
    );
    let st = &file.settings;
    let started = st.provenance.started_unix.map_or("?".into(), utc);
    page.text(&format!(
        "{} of {} layers measured (budget {:.0} s; started {started}, written {}); ISAs: {}; command: {}; CPUs allowed: {}.",
        file.map.layers.len(),
        st.layers_planned,
        st.budget_s,
        utc(file.created_unix),
        st.isas.as_ref().map_or("all this CPU runs".into(), |l| l.join(", ")),
        st.provenance.command.as_deref().unwrap_or("?"),
        st.provenance.cpus_allowed.as_deref().unwrap_or("?"),
    ));
    if let Some(ev) = &file.evaluation {
        page.heading("Regret on held-out layers");
        page.text(&format!(
            "Regret = time of the picked variant / time of the fastest measured variant, on {} held-out layers (a fixed quarter of the map, by a hash of the name); auto learned from the other {}. The baselines are other libraries' published rules re-implemented over this suite's variants at the widest ISA (reports/README.md says how each was mapped).",
            ev.held_out, ev.learned_from
        ));
        page.add(regret_table(ev));
        page.heading("Crossover maps");
        page.add(legend(true));
        let loo = loo_picks(file);
        let mut maps = Vec::new();
        for kind in KINDS {
            maps.extend(heatmap(&file.map, kind, &loo, &[])?);
        }
        page.add(html! { div.row { @for svg in &maps { div { (svg) } } } });
        page.heading("Where auto missed (held-out layers, regret > 1)");
        page.add(misses(file, ev));
    }
    if file.evaluation.is_none() {
        page.heading("Regret on held-out layers");
        page.note(html! {
            "Not yet: the map needs at least one measured held-out layer and one layer to learn from. Run "
            code { "tune" } " again with the same " code { "--out" } " to continue."
        });
    }
    page.heading("Machine");
    page.add(machine_card(m));
    Ok(page.finish())
}

/// Renders and writes `dir/tuning.html` atomically.
pub(crate) fn write(file: &TuningFile, dir: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir).map_err(|e| FileError::Io(dir.display().to_string(), e))?;
    let html = render(file)?;
    let path = dir.join("tuning.html");
    write_atomic(&path, html.as_bytes())?;
    Ok(path)
}
