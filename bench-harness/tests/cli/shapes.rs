//! The binary with `--shapes` files: `run` and `tune` on the user's layers.

use simdconv_bench::schema::results::Results;

use crate::{bench, fresh, stderr};

/// `run --shapes`: the user's layers keep their names and multiplicities, the layers no SIMD
/// variant ran are listed on the page, and a bad line stops the run before it measures.
#[test]
fn run_shapes_measures_the_users_layers() {
    let d = fresh("shapes");
    let list = d.join("model.txt");
    std::fs::write(
        &list,
        "# two layers of a model\nmb1ic8ih9oc8kh1n\"m:pw*3\"\nmb1ic8ih9oc8kh3ph2dh1n\"m:dilated\"\n",
    )
    .unwrap();
    let out = d.join("out");
    let o = bench(&[
        "run",
        "--shapes",
        list.to_str().unwrap(),
        "--isa",
        "scalar",
        "--filter",
        "/f32-(pointwise|direct)-scalar",
        "--measurement-time",
        "0.02",
        "--warm-up-time",
        "0.01",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The network totals name the network and set auto's picks beside the bound.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("m (batch 1, 2 layers, 4 with repeats)"),
        "{stdout}"
    );
    assert!(stdout.contains("  auto "), "{stdout}");
    let r = Results::read(&out.join("results.json")).unwrap();
    assert_eq!(r.settings.suite.to_string(), "shapes");
    let names: Vec<(&str, usize)> = r
        .layers
        .iter()
        .map(|l| (l.name.as_str(), l.count))
        .collect();
    assert_eq!(names, [("m:pw", 3), ("m:dilated", 1)]);
    assert_eq!(r.layers[1].shape.dilation_h, 2);
    assert!(r.results.iter().any(|x| x.layer == "m:dilated"));
    // Only scalar variants were allowed: where this CPU has SIMD rows, both layers are gaps.
    if simdconv::Isa::ALL
        .iter()
        .any(|i| i.is_available() && !matches!(i, simdconv::Isa::Scalar | simdconv::Isa::Portable))
    {
        assert_eq!(r.coverage.len(), 2, "{:?}", r.coverage);
        assert!(stderr(&o).contains("coverage: m:pw"), "{}", stderr(&o));
        let html = std::fs::read_to_string(out.join("index.html")).unwrap();
        assert!(html.contains("Coverage") && html.contains("left out by --isa"));
    }
    // A bad line: its file and line, exit 1, nothing measured or written.
    std::fs::write(&list, "mb1ic8ih9oc8kh1\nmb1ic8id9ih9oc8kh1\n").unwrap();
    let bad = d.join("bad");
    let o = bench(&[
        "run",
        "--shapes",
        list.to_str().unwrap(),
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("model.txt:2") && e.contains("key id"), "{e}");
    assert!(!bad.exists());
    // --shapes replaces a suite: naming both is a usage error.
    let o = bench(&[
        "run",
        "--suite",
        "smoke",
        "--shapes",
        list.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    std::fs::remove_dir_all(&d).unwrap();
}

/// `tune --shapes` adds the user's layers to a map, and refuses a name the map holds with
/// another shape.
#[test]
fn tune_shapes_adds_the_users_layers_to_the_map() {
    let d = fresh("tune-shapes");
    let list = d.join("model.txt");
    std::fs::write(&list, "mb1ic8ih6oc8kh1n\"m:a\"\n").unwrap();
    let out = d.join("out");
    let tune = |list: &std::path::Path| {
        bench(&[
            "tune",
            "--shapes",
            list.to_str().unwrap(),
            "--isa",
            "scalar",
            "--budget",
            "60s",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let o = tune(&list);
    assert!(o.status.success(), "{}", stderr(&o));
    let map = std::fs::read_to_string(out.join("tuning.json")).unwrap();
    assert!(map.contains("\"m:a\""), "{map}");
    std::fs::write(&list, "mb1ic8ih6oc8kh1n\"m:a\"\nmb1ic8ih6oc16kh1n\"m:b\"\n").unwrap();
    let o = tune(&list);
    assert!(o.status.success(), "{}", stderr(&o));
    let map = std::fs::read_to_string(out.join("tuning.json")).unwrap();
    assert!(
        map.contains("\"m:b\""),
        "the second file's new layer is added"
    );
    std::fs::write(&list, "mb1ic8ih6oc32kh1n\"m:a\"\n").unwrap();
    let o = tune(&list);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("another shape"), "{}", stderr(&o));
    std::fs::remove_dir_all(&d).unwrap();
}

/// `shapes --benchdnn` writes every network's layers as `network:layer` problems that read back
/// with the catalogue's shapes.
#[test]
fn the_catalogue_as_benchdnn_reads_back_per_network() {
    let o = bench(&["shapes", "--suite", "full", "--benchdnn"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    let layers = simdconv_bench::inputs::benchdnn(&text).unwrap();
    let catalogue = simdconv_bench::bench::Suite::Full.layers();
    for l in &layers {
        let (net, name) = l.name.split_once(':').expect("network:layer");
        assert_eq!(l.networks, vec![net.to_string()]);
        let c = catalogue
            .iter()
            .find(|c| c.name == name)
            .expect("a catalogue layer");
        assert_eq!(c.shape, l.shape, "{}", l.name);
        assert!(c.networks.iter().any(|n| n == net));
    }
    let per_network: usize = catalogue.iter().map(|c| c.networks.len()).sum();
    assert_eq!(layers.len(), per_network);
}

/// `run --shapes model.onnx`: the model's convolutions measured under `model:node`, with their
/// multiplicity; a corrupt model stops the run before it measures.
#[test]
fn run_shapes_reads_an_onnx_model() {
    let d = fresh("onnx");
    let model = d.join("tiny-net.onnx");
    std::fs::write(&model, simdconv_bench::inputs::onnx_sample()).unwrap();
    let out = d.join("out");
    let o = bench(&[
        "run",
        "--shapes",
        model.to_str().unwrap(),
        "--isa",
        "scalar",
        "--filter",
        "tiny-net:(pw|c1x7)/f32-(pointwise|direct)-scalar",
        "--measurement-time",
        "0.02",
        "--warm-up-time",
        "0.01",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = Results::read(&out.join("results.json")).unwrap();
    let names: Vec<(&str, usize)> = r
        .layers
        .iter()
        .map(|l| (l.name.as_str(), l.count))
        .collect();
    assert_eq!(names, [("tiny-net:pw", 2), ("tiny-net:c1x7", 1)]);
    assert_eq!((r.layers[1].shape.r, r.layers[1].shape.s), (1, 7));
    // A model cut short is an error naming the file; nothing is written.
    let bytes = simdconv_bench::inputs::onnx_sample();
    std::fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
    let bad = d.join("bad");
    let o = bench(&[
        "run",
        "--shapes",
        model.to_str().unwrap(),
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("tiny-net.onnx: not an ONNX model"),
        "{}",
        stderr(&o)
    );
    assert!(!bad.exists());
    std::fs::remove_dir_all(&d).unwrap();
}
