//! Installs the front-end packages named in web/package-lock.json with npm and writes
//! `assets.rs`, which embeds the files atip serves: USWDS styles, scripts, fonts and
//! icons, and our own files in static/. Nothing is fetched from a CDN at run time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Which USWDS files to serve (everything else in the package is sources and maps).
const USWDS_DIRS: &[&str] = &["css", "js", "fonts", "img"];
const SERVED: &[&str] = &[
    "css",
    "js",
    "woff2",
    "svg",
    "png",
    "ico",
    "jpg",
    "webmanifest",
];

fn main() {
    let root = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env("OUT_DIR"));
    for file in ["web/package.json", "web/package-lock.json"] {
        println!("cargo::rerun-if-changed={file}");
    }
    println!("cargo::rerun-if-changed=static");

    let npm_dir = out.join("npm");
    let lock = std::fs::read(root.join("web/package-lock.json"))
        .unwrap_or_else(|e| fail(&format!("cannot read web/package-lock.json: {e}")));
    let stamp = npm_dir.join("installed.lock");
    if std::fs::read(&stamp).ok().as_deref() != Some(&lock[..]) {
        std::fs::create_dir_all(&npm_dir).unwrap_or_else(|e| fail(&e.to_string()));
        for file in ["package.json", "package-lock.json"] {
            std::fs::copy(root.join("web").join(file), npm_dir.join(file))
                .unwrap_or_else(|e| fail(&e.to_string()));
        }
        let status = Command::new("npm")
            .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&npm_dir)
            .status()
            .unwrap_or_else(|e| {
                fail(&format!(
                    "atip's build needs npm (Node.js 18 or later) to install the USWDS styles, and running it failed: {e}. Install Node.js and npm, then build again."
                ))
            });
        if !status.success() {
            fail(
                "`npm ci` failed while installing the USWDS styles (see its output above); check that the npm registry is reachable, then build again.",
            );
        }
        std::fs::write(&stamp, &lock).unwrap_or_else(|e| fail(&e.to_string()));
    }

    // The browser tests inject axe-core (a dev dependency, never served) into pages.
    println!(
        "cargo::rustc-env=ATIP_AXE_CORE_JS={}",
        npm_dir.join("node_modules/axe-core/axe.min.js").display()
    );
    let mut files = Vec::new();
    let uswds = npm_dir.join("node_modules/@uswds/uswds/dist");
    for dir in USWDS_DIRS {
        collect(&uswds.join(dir), &format!("uswds/{dir}"), &mut files);
    }
    collect(&root.join("static"), "", &mut files);
    files.sort();

    let mut code = String::from(
        "/// (path under /static/, contents) for every embedded asset.\npub static ASSETS: &[(&str, &[u8])] = &[\n",
    );
    for (name, path) in &files {
        let _ = writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    std::fs::write(out.join("assets.rs"), code).unwrap_or_else(|e| fail(&e.to_string()));
}

fn collect(dir: &Path, prefix: &str, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        fail(&format!(
            "expected asset folder {} is missing",
            dir.display()
        ));
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let served = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        if path.is_dir() {
            collect(&path, &served, files);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| SERVED.contains(&e))
        {
            files.push((served, path));
        }
    }
}

fn env(key: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| fail(&format!("{key} is not set")))
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
