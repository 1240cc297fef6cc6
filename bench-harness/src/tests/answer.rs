//! The answers: winner, ties and margins; the report's winner table, tooltips and speedup bars
//! from 1x; the CSV; the console's line format.

use super::common::{record, results, results_with_tie};
use simdconv_bench::answer::{verdict, verdicts};
use simdconv_bench::console;
use simdconv_bench::export::{csv, COLUMNS};
use simdconv_bench::report::{self, bars};
use simdconv_bench::schema::results::Interval;

#[test]
fn overlapping_intervals_are_a_tie_and_the_runner_up_is_clearly_slower() {
    let r = results_with_tie();
    let vs = verdicts(&r);
    assert_eq!(vs.len(), 2);
    let clear = &vs[0];
    assert_eq!(clear.winner.variant, "f32-winograd-f4-avx2-6x16");
    assert!(!clear.is_tie());
    assert_eq!(clear.runner_up.unwrap().variant, "f32-direct-avx2-6x16");
    let m = clear.margin().unwrap();
    assert!((m.point - 2.5).abs() < 1e-9 && m.lower < m.point && m.point < m.upper);
    let tie = &vs[1];
    assert!(tie.is_tie());
    assert_eq!(tie.winner.variant, "f32-direct-avx2-6x16");
    assert_eq!(tie.tied.len(), 1);
    assert_eq!(tie.tied[0].variant, "f32-winograd-f2-avx2-6x16");
    assert_eq!(tie.runner_up.unwrap().variant, "f32-im2col-avx2-6x16");
    assert_eq!(
        tie.headline(),
        "tie: f32-direct-avx2-6x16, f32-winograd-f2-avx2-6x16"
    );
    // Separate the intervals and the tie becomes a win.
    let mut a = tie.winner.clone();
    let mut b = tie.tied[0].clone();
    a.gflops.lower = 102.0;
    b.gflops.upper = 99.0;
    let v = verdict(&[&b, &a]).unwrap();
    assert!(!v.is_tie() && v.winner.variant == "f32-direct-avx2-6x16");
    assert!(verdict(&[]).is_none());
}

#[test]
fn the_page_opens_with_the_winner_table_and_names_ties() {
    let html = report::render(&results_with_tie()).unwrap();
    let winner = html.find("Winner per layer").expect("winner section");
    assert!(
        winner < html.find("Roofline").unwrap(),
        "the answer comes first"
    );
    assert!(html.contains("tie: f32-direct-avx2-6x16, f32-winograd-f2-avx2-6x16"));
    assert!(html.contains("<tr class=\"tie\">") && html.contains("<tr class=\"win\">"));
    // Best per ISA and per algorithm, and the claims guidance when no claims were measured.
    assert!(html.contains("What SIMD buys: the best variant of each ISA"));
    assert!(html.contains("What the algorithm buys"));
    assert!(html.contains("--suite blocks"));
    // Provenance: the revision of the binary.
    assert!(html.contains("binary built from revision <code>abc1234</code>"));
}

#[test]
fn every_roofline_point_has_a_tooltip() {
    let html = report::render(&results()).unwrap();
    for v in [
        "f32-direct-scalar-4x4",
        "f32-direct-avx2-6x16",
        "f32-winograd-f4-scalar-4x4",
        "f32-winograd-f4-avx2-6x16",
    ] {
        let tip = format!("<title>smoke_3x3_14 / {v}: ");
        assert!(html.contains(&tip), "no tooltip for {v}");
    }
    assert!(html.contains("<title>smoke_3x3_14 / f32-winograd-f4-avx2-6x16: 150.0 GFLOP/s [148.5, 151.5], 1.50x avx2 peak"));
    // The winner of each layer on each ISA is labelled.
    assert!(texts(&html).iter().any(|t| t == "smoke_3x3_14"));
    // Winograd's effective roof is drawn (avx2 peak 100 x 4).
    assert!(html.contains("winograd-f4 effective roof 400"));
}

/// The trimmed contents of every `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            Some(
                t.split_once('>')?
                    .1
                    .split_once("</text>")?
                    .0
                    .trim()
                    .to_string(),
            )
        })
        .collect()
}

/// `(x, width)` of the `<rect>`s filled with `fill`.
fn rects(svg: &str, fill: &str) -> Vec<(f64, f64)> {
    svg.split("<rect")
        .skip(1)
        .filter(|r| r.contains(&format!("fill=\"{fill}\"")))
        .map(|r| {
            let attr = |n: &str| -> f64 {
                r.split(&format!(" {n}=\""))
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            (attr("x"), attr("width"))
        })
        .collect()
}

#[test]
fn speedup_bars_grow_from_one_with_labels_and_whiskers() {
    use plotters::style::RGBColor;
    let iv = |p: f64| Interval {
        point: p,
        lower: p * 0.9,
        upper: p * 1.1,
    };
    let series: Vec<bars::Series> = vec![
        (
            "faster".into(),
            RGBColor(10, 20, 30),
            vec![Some(iv(2.0)), None],
        ),
        (
            "slower".into(),
            RGBColor(40, 50, 60),
            vec![None, Some(iv(0.5))],
        ),
    ];
    let cats = vec!["a_long_layer_name_56".to_string(), "b".to_string()];
    let svg = bars::hbars("t", "speedup", &cats, &series, bars::Scale::Ratio).unwrap();
    // The bars (the legend's swatches are the last rect of each colour).
    let up = rects(&svg, "#0A141E")[0];
    let down = rects(&svg, "#28323C")[0];
    // One bar starts where the other ends: at 1x, the faster to the right, the slower left.
    assert!((up.0 - (down.0 + down.1)).abs() <= 1.0, "{up:?} {down:?}");
    assert!(
        (up.1 - down.1).abs() <= 2.0,
        "2x and 0.5x are equally long on a log axis"
    );
    let t = texts(&svg);
    let has = |s: &str| t.iter().any(|x| x == s);
    assert!(has("2.00x") && has("0.50x"), "value labels");
    assert!(
        has("a_long_layer_name_56"),
        "category names are written out"
    );
    assert!(
        has("1x") && has("2x") && has("1/2x"),
        "ticks at powers of two"
    );
    assert!(svg.contains("<title>a_long_layer_name_56 / faster: 2.00x [1.80x, 2.20x]</title>"));
}

#[test]
fn csv_has_one_documented_row_per_result() {
    let mut r = results_with_tie();
    r.results[4].layer = "tie, \"quoted\"".into();
    r.results[5].layer = "tie, \"quoted\"".into();
    r.results[6].layer = "tie, \"quoted\"".into();
    let text = csv(&r);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], COLUMNS.join(","));
    assert_eq!(lines.len(), 1 + r.results.len());
    let col = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
    let win = lines
        .iter()
        .find(|l| l.starts_with("smoke_3x3_14,f32-winograd-f4-avx2-6x16,"))
        .unwrap();
    let cells: Vec<&str> = win.split(',').collect();
    assert_eq!(cells.len(), COLUMNS.len());
    assert_eq!(cells[col("verdict")], "win");
    assert_eq!(cells[col("gflops")], "150");
    assert_eq!(cells[col("within_tolerance")], "true");
    let quoted: Vec<&&str> = lines
        .iter()
        .filter(|l| l.starts_with("\"tie, \"\"quoted\"\"\","))
        .collect();
    assert_eq!(quoted.len(), 3);
    assert_eq!(quoted.iter().filter(|l| l.ends_with(",tie,1")).count(), 2);
}

#[test]
fn console_lines_have_count_rate_interval_peak_and_eta() {
    let r = results();
    let rec = &r.results[3];
    let text = console::result_text(rec, &r.machine);
    assert_eq!(
        text.split_whitespace().collect::<Vec<_>>(),
        [
            "smoke_3x3_14",
            "f32-winograd-f4-avx2-6x16",
            "150.0",
            "GFLOP/s",
            "[148.5,",
            "151.5]",
            "1.50x",
            "avx2",
            "peak"
        ]
    );
    let mut bad = record("l", "v-avx2-6x16", "direct", "avx2", 1.0, 1.0, f64::NAN);
    bad.tolerance = 1e-4;
    assert!(console::result_text(&bad, &r.machine).contains("OVER TOLERANCE"));
    assert_eq!(console::counter(7, 108), "[  7/108]");
    let eta = console::eta(std::time::Duration::from_secs(30), 10, 100).unwrap();
    assert_eq!(console::duration(eta), "4m30s");
    assert_eq!(console::eta(std::time::Duration::from_secs(1), 0, 5), None);
    assert_eq!(
        console::duration(std::time::Duration::from_secs(3725)),
        "1h02m"
    );
    let table = console::winner_table(&results_with_tie());
    assert!(
        table.contains("tie (2 variants)")
            && table.contains("tied: f32-direct-avx2-6x16, f32-winograd-f2-avx2-6x16")
    );
}
