//! The page kit shared by the report and the comparison page: the page shell (head, style,
//! title), headings, notes, chart frames, tables, the machine card. Sections compose pages from
//! these; nothing else writes a page's frame.
//!
//! Everything is built with maud's `html!`, which escapes every value it interpolates, so text
//! from a results file (layer, variant, claim, ISA, machine names) cannot become markup. The one
//! piece of markup not built here is a chart's SVG, which plotters writes (escaping its text)
//! and [`Svg`] carries to the page.

use maud::{html, Markup, PreEscaped, Render, DOCTYPE};
use plotters::style::RGBColor;

use crate::schema::machine::MachineProfile;

/// A chart drawn by plotters (its text escaped by plotters' SVG backend, its tooltips built with
/// maud in `charts`): the only pre-rendered markup a page accepts.
pub(crate) struct Svg(String);

impl Svg {
    /// Wraps SVG that `charts` rendered.
    pub(crate) fn rendered(svg: String) -> Svg {
        Svg(svg)
    }
}

impl std::ops::Deref for Svg {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Render for Svg {
    fn render(&self) -> Markup {
        PreEscaped(self.0.clone())
    }
}

/// Shared page style.
pub(crate) const STYLE: &str = "body{font-family:sans-serif;margin:24px;max-width:1400px;color:#222}
h1{font-size:26px}h2{font-size:21px;margin-top:36px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f0f0f0}td.l{text-align:left}tr.win td{background:#e6f4e6;font-weight:bold}
tr.tie td{background:#fff3cf}.warn{background:#fff3cf;border-left:4px solid #c80;padding:6px 10px;max-width:1000px}tr.fail td{background:#fbe0e0;color:#900}td.c{text-align:center}
.card td{text-align:left}.chart{margin:12px 0}.note{color:#555;font-size:14px;max-width:1000px}
.row{display:flex;flex-wrap:wrap;gap:8px}";

/// A page being composed: sections append to it, [`Page::finish`] renders it.
pub(crate) struct Page {
    title: String,
    heading: String,
    body: Vec<Markup>,
}

impl Page {
    /// A page titled `title`, with `heading` as its `<h1>`.
    pub(crate) fn new(title: &str, heading: &str) -> Page {
        Page {
            title: title.into(),
            heading: heading.into(),
            body: Vec::new(),
        }
    }
    /// A section heading.
    pub(crate) fn heading(&mut self, text: &str) {
        self.body.push(html! { h2 { (text) } });
    }
    /// A sub-heading.
    pub(crate) fn subheading(&mut self, text: &str) {
        self.body.push(html! { h3 { (text) } });
    }
    /// A paragraph of explanatory text with markup (built with `html!`).
    pub(crate) fn note(&mut self, content: Markup) {
        self.body.push(html! { p.note { (content) } });
    }
    /// A paragraph of plain text.
    pub(crate) fn text(&mut self, text: &str) {
        self.note(html! { (text) });
    }
    /// A warning box (plain text).
    pub(crate) fn warning(&mut self, text: &str) {
        self.body.push(html! { p.warn { (text) } });
    }
    /// A chart frame around an SVG drawn by `charts`.
    pub(crate) fn chart(&mut self, svg: &Svg) {
        self.body.push(html! { div.chart { (svg) } });
    }
    /// Appends a block built with `html!` (a table, a row of charts).
    pub(crate) fn add(&mut self, block: Markup) {
        self.body.push(block);
    }
    /// Renders the page.
    pub(crate) fn finish(self) -> String {
        html! {
            (DOCTYPE)
            html {
                head {
                    meta charset="utf-8";
                    title { (self.title) }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    h1 { (self.heading) }
                    @for b in &self.body { (b) "\n" }
                }
            }
        }
        .into_string()
    }
}

/// A table built row by row; cells are plain text, numbers right-aligned, cells marked `l`
/// left-aligned.
pub(crate) struct Table {
    class: Option<String>,
    headers: Vec<String>,
    rows: Vec<Markup>,
}

impl Table {
    /// A table with these column headers; `class` is the table's CSS class ("" for none).
    pub(crate) fn new(class: &str, headers: &[&str]) -> Table {
        Table {
            class: (!class.is_empty()).then(|| class.to_string()),
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }
    /// A row: `(text, left-aligned)` per cell; `highlight` marks it as a winner.
    pub(crate) fn row(&mut self, cells: &[(String, bool)], highlight: bool) {
        self.row_class(cells, if highlight { Some(RowClass::Win) } else { None });
    }
    /// A row with an optional class (winner, tie, failure).
    pub(crate) fn row_class(&mut self, cells: &[(String, bool)], class: Option<RowClass>) {
        let class = class.map(|c| match c {
            RowClass::Win => "win",
            RowClass::Tie => "tie",
            RowClass::Fail => "fail",
        });
        self.rows.push(html! {
            tr class=[class] {
                @for (text, left) in cells { td class=[left.then_some("l")] { (text) } }
            }
        });
    }
    /// A row of a header cell, then centred cells each on its own background colour (a heat
    /// map); `None` leaves a cell blank.
    pub(crate) fn swatch_row(&mut self, head: &str, cells: &[Option<(String, RGBColor)>]) {
        self.rows.push(html! {
            tr {
                th { (head) }
                @for c in cells {
                    @match c {
                        Some((text, RGBColor(r, g, b))) => {
                            td.c style=(format!("background:rgb({r},{g},{b})")) { (text) }
                        }
                        None => { td {} }
                    }
                }
            }
        });
    }
    /// A row of a header cell and a value cell (the machine card's layout).
    pub(crate) fn pair(&mut self, key: &str, value: &str) {
        self.rows.push(html! { tr { th { (key) } td { (value) } } });
    }
    /// The finished table.
    pub(crate) fn finish(self) -> Markup {
        html! {
            table class=[self.class] {
                @if !self.headers.is_empty() {
                    tr { @for h in &self.headers { th { (h) } } }
                }
                @for r in &self.rows { (r) "\n" }
            }
        }
    }
}

/// How a table row is marked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum RowClass {
    /// A clear winner.
    Win,
    /// Tied for first.
    Tie,
    /// Failed a check (error over tolerance).
    Fail,
}

/// Left-aligned cell text.
pub(crate) fn l(s: impl Into<String>) -> (String, bool) {
    (s.into(), true)
}

/// Right-aligned cell text.
pub(crate) fn r(s: impl Into<String>) -> (String, bool) {
    (s.into(), false)
}

/// The machine card: model, flags, cores, caches, clock, build and the measured ceilings.
pub(crate) fn machine_card(m: &MachineProfile) -> Markup {
    let caches: Vec<String> = m
        .caches
        .iter()
        .map(|c| format!("L{} {} {} KiB", c.level, c.kind, c.size / 1024))
        .collect();
    let bws: Vec<String> = m
        .bandwidth
        .iter()
        .map(|b| format!("{} {:.1} GB/s ({} KiB)", b.level, b.gbs, b.bytes / 1024))
        .collect();
    let cores = format!(
        "{} logical, {} physical",
        m.logical_cores,
        m.physical_cores.map_or("?".into(), |p| p.to_string())
    );
    let clock = m
        .clock_ghz
        .map_or("unknown".into(), |g| format!("{g:.2} GHz"));
    let mut t = Table::new("card", &[]);
    t.pair("model", &format!("{} ({})", m.model, m.vendor));
    t.pair("arch, flags", &format!("{}: {}", m.arch, m.flags.join(" ")));
    t.pair("cores", &cores);
    t.pair("caches", &caches.join(", "));
    t.pair("nominal clock", &clock);
    t.pair(
        "os, rustc, git",
        &format!("{}; {}; {}", m.os, m.rustc, m.git_revision),
    );
    t.pair("build target features", &m.build_target_features.join(" "));
    t.pair("measured FMA peak, GFLOP/s (1 core)", &m.peaks_text(1));
    t.pair("measured read bandwidth (1 core)", &bws.join(", "));
    t.pair(
        "roof of the scalar variants",
        "LLVM auto-vectorises the scalar kernels to the build's baseline vectors (see build target features: sse2 on x86-64, NEON on aarch64) with separate multiply and add, so the scalar peak is measured on that code, not one lane at a time",
    );
    if let Some(c) = &m.check {
        t.pair("ceiling spread", &c.spread_text());
        let drift = c.drift_text(&m.ceiling_values());
        if !drift.is_empty() {
            t.pair("re-measured at the end of the run", &drift);
        }
        for (when, l) in [
            ("load while measuring ceilings", &c.load_ceilings),
            ("load during the run", &c.load_run),
        ] {
            if let Some(l) = l {
                t.pair(
                    when,
                    &format!(
                        "{:.1} other runnable tasks on average, {:.1}% hypervisor steal, load average {:.2} ({} samples)",
                        l.others_running, l.steal_pct, l.load1, l.samples
                    ),
                );
            }
        }
    }
    t.finish()
}
