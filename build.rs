//! Records the git commit the binary is built from, for `--version`.
//!
//! In order: `SEEDANCE_TUI_GIT_COMMIT` (for packagers), `git rev-parse HEAD` in a checkout
//! (`cargo install --path .` or `--git URL`), the `.cargo_vcs_info.json` that `cargo package`
//! writes into a published crate, else "unknown". Never fails the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SEEDANCE_TUI_GIT_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = std::env::var("SEEDANCE_TUI_GIT_COMMIT")
        .ok()
        .filter(|c| is_commit(c))
        .or_else(|| from_git(&dir))
        .or_else(|| from_vcs_info(&dir))
        .map(|c| c[..12].to_string())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=SEEDANCE_TUI_COMMIT={commit}");
}

fn is_commit(s: &str) -> bool {
    s.len() >= 12 && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

/// The checkout's HEAD, only when `dir` itself is the top of a git work tree (a crate unpacked
/// inside some other repository must not report that repository's commit).
fn from_git(dir: &Path) -> Option<String> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(Path::new(&top), dir) {
        return None;
    }
    let commit = git(dir, &["rev-parse", "HEAD"]).filter(|c| is_commit(c))?;
    // Rebuild when HEAD moves: the HEAD file (a branch switch) and the branch's ref or the
    // packed refs (a commit). Only paths that exist, or cargo would rerun on every build.
    let rerun = |p: PathBuf| {
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    };
    if let Some(git_dir) = git(dir, &["rev-parse", "--absolute-git-dir"]) {
        rerun(Path::new(&git_dir).join("HEAD"));
    }
    if let Some(common) = git(dir, &["rev-parse", "--git-common-dir"]) {
        let common = dir.join(common);
        rerun(common.join("packed-refs"));
        if let Some(name) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
            rerun(common.join(name));
        }
    }
    Some(commit)
}

/// `{"git": {"sha1": "..."}}`, written by `cargo package` when it packaged a clean checkout.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    let at = text.find("\"sha1\"")?;
    let rest = &text[at + 6..];
    let start = rest.find('"')? + 1;
    let len = rest[start..].find('"')?;
    Some(rest[start..start + len].to_string()).filter(|c| is_commit(c))
}
