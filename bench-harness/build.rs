//! Embeds the git revision of the sources this binary is built from, with `-dirty` when tracked
//! files differed from that commit, so a results file names the code that produced it wherever
//! the binary is run from.

use std::path::Path;
use std::process::Command;

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let root = Path::new(&manifest).parent().unwrap_or(Path::new("."));
    // Re-run when HEAD moves, the index changes or any source of either crate changes.
    for dir in [
        "kernels/src",
        "bench-harness/src",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    // HEAD and index live in the checkout's git dir, refs in the common one (they differ in a
    // worktree). Only existing paths: cargo reruns the script on every build for a missing one.
    let gitdir = git(root, &["rev-parse", "--absolute-git-dir"]);
    let common = git(
        root,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
    );
    let watched = [
        (&gitdir, "HEAD"),
        (&gitdir, "index"),
        (&common, "packed-refs"),
        (&common, "refs/heads"),
    ];
    for (dir, f) in watched {
        if let Some(dir) = dir {
            let path = Path::new(dir).join(f);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    let rev = match git(root, &["rev-parse", "--short=12", "HEAD"]) {
        Some(rev) => {
            let dirty = git(root, &["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty {
                format!("{rev}-dirty")
            } else {
                rev
            }
        }
        None => "unknown (built outside a git checkout)".into(),
    };
    println!("cargo:rustc-env=SIMDCONV_GIT_REVISION={rev}");
}
