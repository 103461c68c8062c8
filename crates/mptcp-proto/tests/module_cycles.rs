//! The house rule "no import cycles" (docs/architecture.md): in each crate of the workspace,
//! no two sibling modules import each other (`use crate::…` / `use super::…`, tests
//! excepted). Reads the sources as text.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The module path of `file` under `src` (`conn::input` for `src/conn/input.rs`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The module a `use` path names, relative to the crate root, from a file of `module`
/// (`is_dir` when the file is a `mod.rs` or the crate root).
fn target(module: &[String], is_dir: bool, path: &str) -> Option<Vec<String>> {
    let mut parts = path.split("::");
    let mut base: Vec<String> = match parts.next()? {
        "crate" => Vec::new(),
        "super" => {
            let mut b = module.to_vec();
            if !is_dir {
                b.pop();
            }
            b.pop();
            b
        }
        _ => return None,
    };
    for part in parts {
        match part {
            "super" => {
                base.pop();
            }
            name if name.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                base.push(name.to_owned());
            }
            _ => break,
        }
    }
    Some(base)
}

#[test]
fn no_two_sibling_modules_import_each_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut cycles = Vec::new();
    for krate in ["mptcp-proto", "mptcp-sim", "mptcp-cli", "mptcp-tun"] {
        let src = root.join("crates").join(krate).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
        let mut edges = BTreeSet::new();
        for file in &files {
            let name = file.file_name().unwrap().to_string_lossy();
            if name == "tests.rs" || file.components().any(|c| c.as_os_str() == "tests") {
                continue;
            }
            let module = module_of(&src, file);
            let is_dir = matches!(&*name, "mod.rs" | "lib.rs" | "main.rs");
            let text = fs::read_to_string(file).unwrap();
            for line in text.lines() {
                let line = line.trim_start();
                let line = line
                    .strip_prefix("pub ")
                    .or(line.strip_prefix("pub(crate) "))
                    .unwrap_or(line);
                let Some(path) = line.strip_prefix("use ") else {
                    continue;
                };
                let path: String = path
                    .chars()
                    .take_while(|c| !matches!(c, '{' | ';' | ' '))
                    .collect();
                let Some(named) = target(&module, is_dir, path.trim_end_matches("::")) else {
                    continue;
                };
                // The longest prefix that is a module of the crate.
                let Some(to) = (1..=named.len())
                    .rev()
                    .map(|k| named[..k].to_vec())
                    .find(|m| modules.contains(m))
                else {
                    continue;
                };
                let common = module.iter().zip(&to).take_while(|(a, b)| a == b).count();
                if common < module.len() && common < to.len() {
                    edges.insert((module[..=common].to_vec(), to[..=common].to_vec()));
                }
            }
        }
        for (a, b) in &edges {
            if a < b && edges.contains(&(b.clone(), a.clone())) {
                cycles.push(format!("{krate}: {} <-> {}", a.join("::"), b.join("::")));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}
