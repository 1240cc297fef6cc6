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
    if let Some(gitdir) = git(root, &["rev-parse", "--absolute-git-dir"]) {
        for f in ["HEAD", "index", "packed-refs", "refs/heads"] {
            println!("cargo:rerun-if-changed={gitdir}/{f}");
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
