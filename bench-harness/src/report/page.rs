//! The page kit shared by the report and the comparison page: the page shell (head, style,
//! title), headings, notes, chart frames, tables, the machine card, and HTML escaping. Sections
//! compose pages from these; nothing else writes a page's frame.

use std::fmt::Write as _;

use plotters::style::RGBColor;

use crate::machine::MachineProfile;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Shared page style.
pub const STYLE: &str = "body{font-family:sans-serif;margin:24px;max-width:1400px;color:#222}
h1{font-size:26px}h2{font-size:21px;margin-top:36px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;text-align:right}
th{background:#f0f0f0}td.l{text-align:left}tr.win td{background:#e6f4e6;font-weight:bold}
tr.tie td{background:#fff3cf}.warn{background:#fff3cf;border-left:4px solid #c80;padding:6px 10px;max-width:1000px}tr.fail td{background:#fbe0e0;color:#900}td.c{text-align:center}
.card td{text-align:left}.chart{margin:12px 0}.note{color:#555;font-size:14px;max-width:1000px}";

/// A page being composed: sections append to it, [`Page::finish`] closes it.
pub struct Page {
    html: String,
}

impl Page {
    /// The shell: doctype, `<title>` and style, then `heading` as the page's `<h1>` (both plain
    /// text, escaped here).
    pub fn new(title: &str, heading: &str) -> Page {
        Page {
            html: format!(
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
                esc(title),
                esc(heading)
            ),
        }
    }
    /// A section heading (plain text).
    pub fn heading(&mut self, text: &str) {
        let _ = writeln!(self.html, "<h2>{}</h2>", esc(text));
    }
    /// A sub-heading (plain text).
    pub fn subheading(&mut self, text: &str) {
        let _ = writeln!(self.html, "<h3>{}</h3>", esc(text));
    }
    /// A paragraph of explanatory text; `html` is trusted markup (escape any data in it).
    pub fn note(&mut self, html: &str) {
        let _ = writeln!(self.html, "<p class=\"note\">{html}</p>");
    }
    /// A warning box (plain text, escaped here).
    pub fn warning(&mut self, text: &str) {
        let _ = writeln!(self.html, "<p class=\"warn\">{}</p>", esc(text));
    }
    /// A chart frame around an SVG drawn by `charts`.
    pub fn chart(&mut self, svg: &str) {
        let _ = writeln!(self.html, "<div class=\"chart\">{svg}</div>");
    }
    /// Appends trusted markup (a table built with [`Table`]).
    pub fn raw(&mut self, html: &str) {
        self.html.push_str(html);
    }
    /// Closes the page.
    pub fn finish(mut self) -> String {
        self.html.push_str("</body></html>\n");
        self.html
    }
}

/// A table built row by row; cells are plain text (escaped here), numbers right-aligned,
/// cells marked `l` left-aligned.
pub struct Table {
    html: String,
}

impl Table {
    /// A table with these column headers; `class` is the table's CSS class ("" for none).
    pub fn new(class: &str, headers: &[&str]) -> Table {
        let mut html = if class.is_empty() {
            "<table><tr>".to_string()
        } else {
            format!("<table class=\"{class}\"><tr>")
        };
        for h in headers {
            let _ = write!(html, "<th>{}</th>", esc(h));
        }
        if headers.is_empty() {
            html.truncate(html.len() - "<tr>".len());
        } else {
            html.push_str("</tr>\n");
        }
        Table { html }
    }
    /// A row: `(text, left-aligned)` per cell; `highlight` marks it as a winner.
    pub fn row(&mut self, cells: &[(String, bool)], highlight: bool) {
        self.row_class(cells, if highlight { Some(RowClass::Win) } else { None });
    }
    /// A row with an optional class (winner, tie, failure).
    pub fn row_class(&mut self, cells: &[(String, bool)], class: Option<RowClass>) {
        self.html.push_str(match class {
            Some(RowClass::Win) => "<tr class=\"win\">",
            Some(RowClass::Tie) => "<tr class=\"tie\">",
            Some(RowClass::Fail) => "<tr class=\"fail\">",
            None => "<tr>",
        });
        for (text, left) in cells {
            let class = if *left { " class=\"l\"" } else { "" };
            let _ = write!(self.html, "<td{class}>{}</td>", esc(text));
        }
        self.html.push_str("</tr>\n");
    }
    /// A row of a header cell, then centred cells each on its own background colour (a heat
    /// map); `None` leaves a cell blank.
    pub fn swatch_row(&mut self, head: &str, cells: &[Option<(String, RGBColor)>]) {
        let _ = write!(self.html, "<tr><th>{}</th>", esc(head));
        for c in cells {
            match c {
                Some((text, RGBColor(r, g, b))) => {
                    let _ = write!(
                        self.html,
                        "<td class=\"c\" style=\"background:rgb({r},{g},{b})\">{}</td>",
                        esc(text)
                    );
                }
                None => self.html.push_str("<td></td>"),
            }
        }
        self.html.push_str("</tr>\n");
    }
    /// A row of a header cell and a value cell (the machine card's layout).
    pub fn pair(&mut self, key: &str, value: &str) {
        let _ = writeln!(
            self.html,
            "<tr><th>{}</th><td>{}</td></tr>",
            esc(key),
            esc(value)
        );
    }
    /// The finished table.
    pub fn finish(mut self) -> String {
        self.html.push_str("</table>\n");
        self.html
    }
}

/// How a table row is marked.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RowClass {
    /// A clear winner.
    Win,
    /// Tied for first.
    Tie,
    /// Failed a check (error over tolerance).
    Fail,
}

/// Left-aligned cell text.
pub fn l(s: impl Into<String>) -> (String, bool) {
    (s.into(), true)
}

/// Right-aligned cell text.
pub fn r(s: impl Into<String>) -> (String, bool) {
    (s.into(), false)
}

/// The machine card: model, flags, cores, caches, clock, build and the measured ceilings.
pub fn machine_card(m: &MachineProfile) -> String {
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
        let drift = c.drift_text(&crate::machine::ceiling_values(m));
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
