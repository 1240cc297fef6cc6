//! Results schema round trip and checked reading, roofline geometry, and report generation from
//! a small fixed results file.

use super::common::{machine, record, results};
use simdconv_bench::report::{self, roofline};
use simdconv_bench::schema::results::{FileError, Results, SCHEMA};

#[test]
fn schema_round_trip() {
    let dir = std::env::temp_dir().join(format!("simdconv-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("results.json");
    let r = results();
    r.write(&path).unwrap();
    assert_eq!(Results::read(&path).unwrap(), r);
    // No temporary file is left behind (the lock file stays, as flock lock files do).
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != ".simdconv.lock")
        .collect();
    assert_eq!(names, ["results.json"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_truncated_and_foreign_files_are_clear_errors() {
    let dir = std::env::temp_dir().join(format!("simdconv-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = serde_json::to_string(&results()).unwrap();
    let cases = [
        ("truncated.json", text[..text.len() / 2].to_string()),
        ("garbage.json", "not json".to_string()),
        ("other.json", text.replace(SCHEMA, "simdconv-results/999")),
        ("noschema.json", "{}".to_string()),
    ];
    for (name, body) in cases {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        let e = Results::read(&p).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(name), "{msg}");
        match name {
            "other.json" => assert!(
                matches!(e, FileError::Schema(..)) && msg.contains("simdconv-results/999"),
                "{msg}"
            ),
            _ => assert!(matches!(e, FileError::Corrupt(..)), "{msg}"),
        }
    }
    let e = Results::read(&dir.join("missing.json")).unwrap_err();
    assert!(matches!(e, FileError::Io(..)) && e.to_string().contains("missing.json"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Parses `points="x,y x,y ..."` of the polylines with the given stroke colour.
fn polylines(svg: &str, stroke: &str) -> Vec<Vec<(f64, f64)>> {
    svg.split("<polyline")
        .skip(1)
        .filter(|p| p.contains(&format!("stroke=\"{stroke}")))
        .map(|p| {
            let pts = p
                .split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            pts.split_whitespace()
                .map(|xy| {
                    let (x, y) = xy.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

fn circles(svg: &str) -> Vec<(f64, f64)> {
    svg.split("<circle")
        .skip(1)
        .map(|c| {
            let attr = |n: &str| {
                c.split(&format!("{n}=\""))
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            (attr("cx"), attr("cy"))
        })
        .collect()
}

#[test]
fn a_point_on_a_roof_is_drawn_on_it() {
    let m = machine();
    // On the DRAM diagonal: 0.4 FLOP/byte x 10 GB/s = 4 GFLOP/s (below the 10 GFLOP/s roof).
    let on_diag = record(
        "x",
        "f32-direct-scalar-4x4",
        "direct",
        "scalar",
        0.4,
        4.0,
        0.0,
    );
    // On the scalar compute roof: 10 GFLOP/s at high intensity.
    let on_peak = record(
        "x",
        "f32-direct-scalar-4x4",
        "direct",
        "scalar",
        300.0,
        10.0,
        0.0,
    );
    let recs = [&on_diag, &on_peak];
    let svg = roofline::roofline(&m, &recs, simdconv::Isa::Scalar, "Roofline, scalar").unwrap();
    let pts = circles(&svg);
    assert_eq!(pts.len(), 3, "two points, then the legend's marker");
    let bw = polylines(&svg, "#6464C8");
    assert_eq!(bw.len(), 2, "one diagonal per memory level");
    let dist = |p: (f64, f64), a: (f64, f64), b: (f64, f64)| {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        ((p.0 - a.0) * dy - (p.1 - a.1) * dx).abs() / (dx * dx + dy * dy).sqrt()
    };
    let dram = &bw[1];
    assert!(
        dist(pts[0], dram[0], dram[dram.len() - 1]) < 2.0,
        "diagonal point {:?} off {:?}",
        pts[0],
        dram
    );
    // ... and not on the L1 one.
    let l1 = &bw[0];
    assert!(dist(pts[0], l1[0], l1[l1.len() - 1]) > 20.0);
    // The scalar roof is the thick black horizontal line.
    let roof = polylines(&svg, "#000000\" stroke-width=\"3")
        .pop()
        .expect("the bold roof of this ISA");
    assert!(
        (pts[1].1 - roof[0].1).abs() < 2.0,
        "peak point {:?} off roof {:?}",
        pts[1],
        roof
    );
}

#[test]
fn report_has_every_chart_and_label() {
    let r = results();
    let html = report::render(&r).unwrap();
    // Two rooflines (scalar, avx2), two speedup-over-scalar charts (direct, winograd-f4), two
    // speedup-over-direct charts (scalar, avx2), one accuracy chart.
    assert_eq!(html.matches("<svg").count(), 7);
    for label in [
        "Roofline, avx2 variants",
        "Arithmetic intensity (FLOP per compulsory byte, log)",
        "GFLOP/s",
        "avx2 FMA peak 100",
        "L1 200 GB/s",
        "winograd-f4 (effective)",
        "direct: speedup over scalar direct",
        "avx2: speedup over direct avx2",
        "Accuracy against speed",
        "max error / tolerance (log)",
        "Test CPU @ 3.00GHz",
        "class=\"win\"",
    ] {
        assert!(html.contains(label), "missing {label}");
    }
    assert!(!html.contains("<script"), "no JavaScript");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "self-contained"
    );
}

#[test]
fn the_winograd_front_keeps_only_undominated_points() {
    let mut r = results();
    let add = |r: &mut Results, v: &str, alg: &str, g: f64, err: f64| {
        r.results
            .push(record("smoke_3x3_14", v, alg, "avx2", 8.0, g, err))
    };
    // Direct: 60 GFLOP/s at 1e-7 (from results()); F4: 150 at 3e-6.
    add(
        &mut r,
        "f32-winograd-f2-avx2-6x16",
        "winograd-f2",
        100.0,
        2e-7,
    );
    add(
        &mut r,
        "f32-winograd-f4-half-avx2-6x16",
        "winograd-f4-half",
        150.0,
        1e-6,
    );
    add(
        &mut r,
        "f32-winograd-f6-avx2-6x16",
        "winograd-f6",
        170.0,
        4e-6,
    );
    add(
        &mut r,
        "f32-winograd-f6-int-avx2-6x16",
        "winograd-f6-int",
        170.0,
        4e-4,
    );
    let records: Vec<&simdconv_bench::schema::results::Record> = r.results.iter().collect();
    let fronts = report::pareto::fronts(&records);
    assert_eq!(fronts.len(), 1, "one layer, on its fastest Winograd ISA");
    let f = &fronts[0];
    assert_eq!(f.isa, "avx2");
    let on: Vec<&str> = f
        .points
        .iter()
        .filter(|p| p.on_front)
        .map(|p| p.record.algorithm.as_str())
        .collect();
    // F4 ties F4-half on speed with 3x its error; F6-int ties F6 with 100x: both dominated.
    assert_eq!(
        on,
        ["winograd-f6", "winograd-f4-half", "winograd-f2", "direct"]
    );
    let f4 = f
        .points
        .iter()
        .find(|p| p.record.algorithm == "winograd-f4");
    assert!((f4.unwrap().vs_direct - 30.0).abs() < 1e-9);
    let html = report::render(&r).unwrap();
    assert!(html.contains("Winograd: accuracy against speed"));
    assert!(html.contains("smoke_3x3_14 on avx2: error against speed"));
    assert!(html.contains("max error / direct"));
    // One Winograd algorithm is no front.
    assert!(report::pareto::fronts(&results().results.iter().collect::<Vec<_>>()).is_empty());
}
