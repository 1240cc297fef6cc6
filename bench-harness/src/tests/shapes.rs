//! `--shapes` files: every accepted benchdnn key and deduction rule, and each refusal with the
//! message it gives (file and line, key, reason).

use std::path::{Path, PathBuf};

use crate::schema::layer::Layer;
use crate::shapes::{self, benchdnn};

/// The layers of `text` read as the file `t.txt` (no `--batch=` includes).
fn parse(text: &str) -> Result<Vec<Layer>, String> {
    let mut none = |p: &Path| Err(format!("{}: not found", p.display()));
    benchdnn::read(text, Path::new("t.txt"), &mut none)
        .map(|ps| ps.into_iter().map(|p| p.layer).collect())
}

fn one(text: &str) -> Layer {
    let mut ls = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(ls.len(), 1, "{text}");
    ls.remove(0)
}

fn refused(text: &str, want: &[&str]) {
    let e = parse(text).expect_err(text);
    for w in want {
        assert!(e.contains(w), "{text}: {e:?} should name {w:?}");
    }
}

#[test]
fn every_key_is_read() {
    let l = one("g2mb3_ic8ih20iw30_oc4oh10ow14_kh3kw5_sh2sw2_ph1pw1_dh1dw0_n\"net:all\"");
    let s = l.shape;
    assert_eq!((s.groups, s.n, s.c, s.h, s.w, s.k), (2, 3, 8, 20, 30, 4));
    assert_eq!((s.r, s.s, s.stride_h, s.stride_w), (3, 5, 2, 2));
    assert_eq!((s.pad_top, s.pad_left), (1, 1));
    // benchdnn's dilation counts from 0: dh1 is a dilation of 2.
    assert_eq!((s.dilation_h, s.dilation_w), (2, 1));
    assert_eq!((s.p, s.q), (10, 14));
    assert_eq!(l.name, "net:all");
    assert_eq!(l.networks, vec!["net".to_string()]);
    assert_eq!(l.count, 1);
}

#[test]
fn missing_keys_are_deduced_as_benchdnn_does() {
    // No w keys: square. No mb: benchdnn's 2. No oh: from the other sizes, padding 0.
    let s = one("ic16ih14oc32kh3").shape;
    assert_eq!(
        (s.n, s.w, s.s, s.p, s.q, s.pad_top, s.pad_bottom),
        (2, 14, 3, 12, 12, 0, 0)
    );
    // oh without ph: the padding that gives it.
    let s = one("mb1ic16ih14oc32oh14kh3").shape;
    assert_eq!((s.pad_top, s.pad_bottom, s.p), (1, 1, 14));
    // Symmetric padding where it gives the output (ResNet's 7x7 s2 stem), else the far side
    // padded as much as the output needs.
    let s = one("mb1ic3ih224oc64oh112kh7sh2ph3").shape;
    assert_eq!((s.pad_top, s.pad_bottom, s.p), (3, 3, 112));
    let s = one("mb1ic8ih8oc8oh8kh4ph1").shape;
    assert_eq!((s.pad_top, s.pad_bottom, s.p), (1, 2, 8));
    // No h keys: a 1-D problem, one row.
    let s = one("mb1ic8iw100oc8kw5pw2").shape;
    assert_eq!((s.h, s.r, s.w, s.s, s.q, s.p), (1, 1, 100, 5, 100, 1));
    // Rectangular kernels and per-axis strides.
    let s = one("mb1ic192ih17iw17oc192kh1kw7ph0pw3").shape;
    assert_eq!((s.r, s.s, s.p, s.q), (1, 7, 17, 17));
}

#[test]
fn names_multiplicities_comments_and_options() {
    let ls = parse(
        "# a comment line\n\
         mb1ic8ih8oc8kh3ph1n\"m:a*3\" mb1ic8ih8oc8kh1 # two on a line\n\
         mb1ic8ih8oc8kh1nbare_name\n\
         --dir=FWD_B --cfg=f32 --reset --conv --alg=DIRECT --stag=any --attr-post-ops=relu\n\
         --mb=4\n\
         ic8ih8oc8kh1n\"q\"\n\
         --mb=0\n\
         mb5ic8ih8oc8kh1n\"r\"\n",
    )
    .unwrap();
    let names: Vec<&str> = ls.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["m:a", "mb1ic8ih8oc8kh1", "bare_name", "q", "r"]);
    assert_eq!(ls[0].count, 3);
    assert!(ls[1].networks.is_empty());
    assert_eq!(ls[3].shape.n, 4, "--mb=4 overrides the default");
    assert_eq!(ls[4].shape.n, 5, "--mb=0 restores the line's own");
}

#[test]
fn each_refusal_names_line_key_and_reason() {
    refused("\n\nmb1ic8id8ih8oc8kh3", &["t.txt:3", "key id", "3-D"]);
    refused("mb1ic8ih8oc8kh3xy2", &["t.txt:1", "unknown key xy"]);
    refused("mb1ic_ih8oc8kh3", &["key ic has no value"]);
    refused("mb1icih8oc8kh3", &["unknown key icih"]);
    refused(
        "mb1ic8ih8oc8kh3pw4294967296",
        &["pw4294967296 is too large"],
    );
    refused(
        "mb1ic8ih14oc8kh1ph1408183433",
        &["oh2816366880 is too large"],
    );
    refused(
        "mb1ic8ih8iw8oc8ow7kh3kw3sw1000000000",
        &["needs", "rows of padding, more than"],
    );
    refused(
        "mb1ic99999999999999999999999ih8oc8kh3",
        &["key ic", "too large"],
    );
    refused("mb1ic8ic8ih8oc8kh3", &["key ic given twice"]);
    refused("mb1ih8oc8kh3", &["ic missing"]);
    refused("mb1ic8ih8kh3", &["oc missing"]);
    refused("mb1ic8ih8oc8", &["kh missing"]);
    refused("mb1ic8oc8kh3", &["ih missing"]);
    refused("mb1ic8oc8", &["no spatial size"]);
    refused(
        "mb1ic8ih8oc8oh20kh3ph1",
        &["inconsistent", "oh20", "far side"],
    );
    refused("mb1ic8ih8oc8oh5kh3ph1", &["inconsistent", "oh5", "give 7"]);
    refused(
        "mb1ic8ih2oc8kh5",
        &["kernel", "larger than the padded input"],
    );
    refused("mb1ic8ih8oc8kh3sh0", &["at least 1"]);
    refused("g3mb1ic8ih8oc9kh3", &["group"]);
    refused("mb1ic8ih8oc8kh3n\"open", &["not closed"]);
    refused("mb1ic8ih8oc8kh3n\"a*0\"", &["multiplicity"]);
    refused("mb1ic8ih8oc8kh3n\"\"", &["empty name"]);
    refused("--deconv", &["--deconv", "transposed"]);
    refused("--dir=BWD_D", &["BWD_D", "forward"]);
    refused("--cfg=u8s8f32", &["u8s8f32", "f32"]);
    refused("--mb=x", &["minibatch"]);
    refused("--inplace=true", &["--inplace=true", "unknown option"]);
    refused("--batch=missing.txt", &["--batch=missing.txt", "not found"]);
}

/// A scratch directory for file tests.
fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("simdconv-shapes-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn files_include_merge_and_refuse() {
    let d = dir("files");
    std::fs::write(d.join("inner.txt"), "mb1ic8ih8oc8kh3ph1n\"m:x\"\n").unwrap();
    std::fs::write(
        d.join("outer.txt"),
        "--batch=inner.txt\nmb1ic8ih8oc8kh3ph1n\"m:x*2\"\n",
    )
    .unwrap();
    let ls = shapes::read(&[d.join("outer.txt")]).unwrap().layers;
    assert_eq!(ls.len(), 1, "the same problem twice is one layer");
    assert_eq!(ls[0].count, 3, "whose multiplicities add up");
    // The same name with another shape.
    std::fs::write(
        d.join("clash.txt"),
        "mb1ic8ih8oc8kh3ph1n\"m:x\"\nmb1ic8ih8oc16kh3n\"m:x\"\n",
    )
    .unwrap();
    let e = shapes::read(&[d.join("clash.txt")]).unwrap_err();
    assert!(
        e.contains("clash.txt:2") && e.contains("another shape"),
        "{e}"
    );
    // A file that includes itself stops at the nesting limit.
    std::fs::write(d.join("loop.txt"), "--batch=loop.txt\n").unwrap();
    let e = shapes::read(&[d.join("loop.txt")]).unwrap_err();
    assert!(e.contains("nested more than"), "{e}");
    // Empty, binary, ONNX and missing files.
    std::fs::write(d.join("empty.txt"), "# nothing\n").unwrap();
    let e = shapes::read(&[d.join("empty.txt")]).unwrap_err();
    assert!(e.contains("no problem"), "{e}");
    std::fs::write(d.join("bin.txt"), [0xff, 0xfe, 0x00, 0x80]).unwrap();
    let e = shapes::read(&[d.join("bin.txt")]).unwrap_err();
    assert!(e.contains("bin.txt"), "{e}");
    std::fs::write(d.join("m.onnx"), [8, 7]).unwrap();
    let e = shapes::read(&[d.join("m.onnx")]).unwrap_err();
    assert!(e.contains("m.onnx") && e.contains("no graph"), "{e}");
    std::fs::write(d.join("junk.onnx"), b"mb1ic8ih8oc8kh3").unwrap();
    let e = shapes::read(&[d.join("junk.onnx")]).unwrap_err();
    assert!(e.contains("junk.onnx: not an ONNX model"), "{e}");
    let e = shapes::read(&[d.join("absent.txt")]).unwrap_err();
    assert!(e.contains("absent.txt"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn the_catalogue_round_trips_through_benchdnn_lines() {
    let layers = crate::catalogue::full();
    let text: String = layers.iter().map(|l| benchdnn::line(l) + "\n").collect();
    let back = parse(&text).unwrap();
    assert_eq!(back.len(), layers.len());
    for (a, b) in layers.iter().zip(&back) {
        assert_eq!((&a.name, a.shape), (&b.name, b.shape));
    }
}

#[test]
fn an_axis_with_some_keys_needs_its_own_sizes() {
    // As in benchdnn: a w key without iw is not a square problem but a missing size.
    refused("mb1ic8ih17oc8kh1kw7", &["iw missing"]);
}
