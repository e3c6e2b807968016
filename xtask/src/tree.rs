//! "A test run leaves the tree as it found it": a snapshot of the checkout's state
//! before `cargo xtask test` and a comparison after. The state is `git status
//! --porcelain` (tracked changes and untracked, non-ignored files) plus a hash of the
//! content of every path it lists, so a file already modified before the run and
//! rewritten by it is caught too. Outside a git checkout there is nothing to compare.

use crate::util::{Result, cmd};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash as _, Hasher as _};

/// The checkout's state: one line per changed or untracked path, with a content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot(Option<Vec<String>>);

/// The current state, `Snapshot(None)` outside a git checkout (or without git).
pub fn snapshot() -> Snapshot {
    let Ok(out) = cmd("git")
        .args(["status", "--porcelain=v1", "-z", "--untracked-files=all"])
        .stderr(std::process::Stdio::null())
        .output()
    else {
        return Snapshot(None);
    };
    if !out.status.success() {
        return Snapshot(None);
    }
    let root = crate::util::root();
    let mut lines: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|e| e.len() > 3)
        .map(|e| {
            let entry = String::from_utf8_lossy(e).into_owned();
            let path = &entry[3..];
            let mut h = DefaultHasher::new();
            match std::fs::read(root.join(path)) {
                Ok(bytes) => bytes.hash(&mut h),
                Err(_) => "missing".hash(&mut h),
            }
            format!("{entry} #{:016x}", h.finish())
        })
        .collect();
    lines.sort();
    Snapshot(Some(lines))
}

/// Fails, naming the paths, when the checkout differs from `before`.
pub fn unchanged_since(before: &Snapshot) -> Result {
    let after = snapshot();
    let (Some(b), Some(a)) = (&before.0, &after.0) else {
        println!("\n(not a git checkout: the clean-tree check is skipped)");
        return Ok(());
    };
    let changed: Vec<&str> = a
        .iter()
        .filter(|l| !b.contains(l))
        .chain(b.iter().filter(|l| !a.contains(l)))
        .map(|l| {
            l.get(3..)
                .and_then(|p| p.rsplit_once(" #"))
                .map_or(l.as_str(), |p| p.0)
        })
        .collect();
    if changed.is_empty() {
        println!("\n<== the checkout is as the run found it (git status and file contents)");
        Ok(())
    } else {
        Err(format!(
            "the test run changed the checkout (it must write only ignored folders):\n  {}",
            changed.join("\n  ")
        ))
    }
}
