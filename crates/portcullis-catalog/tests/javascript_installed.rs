//! The npm cataloger on the lab image deb-node: the 53 packages of a real
//! `npm install lodash@4.17.4 minimist@1.2.0 express@4.16.0` under
//! `/app/node_modules`, its v3 `package-lock.json`, the app's own
//! `package.json`, and the 25 packages Debian's nodejs ships under
//! `/usr/share/nodejs`.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use portcullis_catalog::lang::javascript::{
    self, NpmPackage, is_project_manifest, parse_package_json_at, parse_package_lock, to_package,
};
use portcullis_testkit::data::{lab_rootfs, read_bytes};
use serde_json::Value;

/// The lab image deb-node's root filesystem, with its npm install.
fn deb_node() -> PathBuf {
    let rootfs = lab_rootfs("deb-node");
    assert!(
        rootfs.join("app/node_modules").is_dir(),
        "lab image rootfs {} is missing: run ./scripts/test.sh (it builds the lab), or set PORTCULLIS_LAB",
        rootfs.display()
    );
    rootfs
}

/// A package found on disk: (image path of its directory, name, version).
type Found = BTreeSet<(String, String, String)>;

/// Walks node_modules the way node resolves it, independently of the
/// parser: every `node_modules/<name>` and `node_modules/@scope/<name>`
/// directory with a package.json is a package, and may have its own
/// `node_modules`. Name and version are read with plain serde_json.
fn walk_node_modules(rootfs: &Path, dir: &Path, out: &mut Found) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with('.') || !path.is_dir() {
            continue;
        }
        if name.starts_with('@') {
            let Ok(scoped) = fs::read_dir(&path) else { continue };
            for inner in scoped.filter_map(Result::ok) {
                package_dir(rootfs, &inner.path(), out);
            }
        } else {
            package_dir(rootfs, &path, out);
        }
    }
}

fn package_dir(rootfs: &Path, dir: &Path, out: &mut Found) {
    let manifest = dir.join("package.json");
    if let Ok(bytes) = fs::read(&manifest) {
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if let (Some(name), Some(version)) = (value["name"].as_str(), value["version"].as_str()) {
            let image_dir = format!("/{}", dir.strip_prefix(rootfs).unwrap_or(dir).display());
            out.insert((image_dir, name.to_owned(), version.to_owned()));
        }
    }
    walk_node_modules(rootfs, &dir.join("node_modules"), out);
}

/// Every package.json under `dir`, as image paths.
fn all_manifests(rootfs: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_symlink() {
            continue;
        }
        if path.is_dir() {
            all_manifests(rootfs, &path, out);
        } else if entry.file_name() == "package.json" {
            out.push(format!("/{}", path.strip_prefix(rootfs).unwrap_or(&path).display()));
        }
    }
}

fn parse_all(rootfs: &Path, dir: &str) -> Vec<(String, NpmPackage)> {
    let mut paths = Vec::new();
    all_manifests(rootfs, &rootfs.join(dir), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let bytes = read_bytes(&rootfs.join(path.trim_start_matches('/')));
            let parsed = parse_package_json_at(&path, &bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
            parsed.map(|package| (path, package))
        })
        .collect()
}

fn as_found(parsed: &[(String, NpmPackage)]) -> Found {
    parsed
        .iter()
        .map(|(path, p)| (path.trim_end_matches("/package.json").to_owned(), p.name.clone(), p.version.clone()))
        .collect()
}

#[test]
fn installed_packages_equal_a_walk_of_node_modules() {
    let rootfs = deb_node();
    let mut walked = Found::new();
    walk_node_modules(&rootfs, &rootfs.join("app/node_modules"), &mut walked);
    assert_eq!(walked.len(), 53, "npm installed 53 packages");

    let parsed = parse_all(&rootfs, "app");
    let (roots, installed): (Vec<_>, Vec<_>) = parsed.into_iter().partition(|(_, p)| p.root);
    assert_eq!(as_found(&installed), walked, "every package.json in node_modules, and nothing else");

    // The app's own manifest, reported but marked.
    let [(path, app)] = roots.as_slice() else { panic!("one project manifest, got {roots:?}") };
    assert_eq!(path, "/app/package.json");
    assert_eq!((app.name.as_str(), app.version.as_str()), ("lab-node-app", "1.0.0"));
    assert!(app.private);
    let app = to_package(app);
    assert_eq!(app.metadata["root"], true);
    assert_eq!(app.purl, "pkg:npm/lab-node-app@1.0.0");

    let find = |name: &str| {
        installed.iter().map(|(_, p)| p).find(|p| p.name == name).unwrap_or_else(|| panic!("{name} not found"))
    };
    let lodash = to_package(find("lodash"));
    assert_eq!((lodash.purl.as_str(), lodash.licenses.as_slice()), ("pkg:npm/lodash@4.17.4", &["MIT".to_owned()][..]));
    assert_eq!(lodash.found_by.as_deref(), Some("npm"));
    assert_eq!(lodash.metadata.get("root"), None);
    assert_eq!(find("minimist").version, "1.2.0");
    assert_eq!(find("express").version, "4.16.0");
    // `license` and the legacy `licenses` array naming the same licence.
    assert_eq!(find("utils-merge").licenses, ["MIT"]);
    // Author objects rendered as syft renders them.
    assert_eq!(find("ee-first").author.as_deref(), Some("Jonathan Ong <me@jongleberry.com> (http://jongleberry.com)"));
    assert_eq!(find("ee-first").repository.as_deref(), Some("jonathanong/ee-first"));
}

#[test]
fn lockfile_equals_the_installed_set() {
    let rootfs = deb_node();
    let mut walked = Found::new();
    walk_node_modules(&rootfs, &rootfs.join("app/node_modules"), &mut walked);

    let locked =
        parse_package_lock(&read_bytes(&rootfs.join("app/package-lock.json"))).unwrap_or_else(|e| panic!("{e}"));
    let locked_set: Found = locked
        .iter()
        .map(|p| (format!("/app/{}", p.lock_key.clone().unwrap_or_default()), p.name.clone(), p.version.clone()))
        .collect();
    assert_eq!(locked.len(), 53);
    assert_eq!(locked_set, walked, "lockfile entries, by install path, name and version");
    assert!(!locked.iter().any(|p| p.name == "lab-node-app"), "the root project is not a dependency");
    for package in &locked {
        assert!(package.integrity.as_deref().is_some_and(|i| i.starts_with("sha512-")), "{}", package.name);
        assert!(
            package.resolved.as_deref().is_some_and(|r| r.starts_with("https://registry.npmjs.org/")),
            "{}",
            package.name
        );
        assert!(!package.dev, "{}: npm install saves to dependencies", package.name);
    }
}

#[test]
fn debian_system_packages() {
    let rootfs = deb_node();
    let mut walked = Found::new();
    // /usr/share/nodejs is laid out like a node_modules directory.
    walk_node_modules(&rootfs, &rootfs.join("usr/share/nodejs"), &mut walked);
    let parsed = parse_all(&rootfs, "usr/share/nodejs");
    assert!(parsed.iter().all(|(path, p)| !p.root && !is_project_manifest(path)), "installed, not projects");
    let found = as_found(&parsed);
    assert_eq!(found, walked);
    assert_eq!(found.len(), 25, "Debian's nodejs ships 25 npm packages");

    let types_node = parsed
        .iter()
        .map(|(_, p)| p)
        .find(|p| p.name == "@types/node")
        .unwrap_or_else(|| panic!("@types/node not found"));
    // The exact form syft 1.18 writes for this package in this image.
    assert_eq!(javascript::purl(&types_node.name, &types_node.version), "pkg:npm/%40types/node@18.18.14");
    let busboy = parsed.iter().map(|(_, p)| p).find(|p| p.name == "busboy").unwrap_or_else(|| panic!("no busboy"));
    // Only the legacy `licenses: [{type, url}]` form.
    assert_eq!(busboy.licenses, ["MIT"]);
}
