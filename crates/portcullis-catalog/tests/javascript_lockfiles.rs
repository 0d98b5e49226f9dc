//! The npm cataloger's lockfile parsers against real lockfiles written by
//! npm 6 and 8, yarn 1 and 4, and pnpm 7, 8 and 9 for one small project
//! (`tests/data/javascript/README.md` says how), and their error paths.

use std::collections::BTreeSet;
use std::path::Path;

use portcullis_catalog::lang::javascript::{
    JsError, JsFile, NpmPackage, NpmSource, classify, parse_package_json, parse_package_lock, parse_pnpm_lock,
    parse_yarn_lock, to_package,
};
use portcullis_sbom::PackageType;
use portcullis_testkit::data::read_bytes;

fn data(path: &str) -> Vec<u8> {
    read_bytes(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/javascript").join(path))
}

fn parse(path: &str) -> Result<Vec<NpmPackage>, JsError> {
    let bytes = data(path);
    match classify(path) {
        Some(JsFile::PackageLock) => parse_package_lock(&bytes),
        Some(JsFile::YarnLock) => parse_yarn_lock(&bytes),
        Some(JsFile::PnpmLock) => parse_pnpm_lock(&bytes),
        other => panic!("{path}: not a lockfile ({other:?})"),
    }
}

/// (name, version) of what the tools installed; see the README.
const INSTALLED: &[(&str, &str)] = &[
    ("@babel/helper-plugin-utils", "7.22.5"),
    ("debug", "2.6.9"),
    ("lodash", "4.17.21"),
    ("lodash", "4.17.4"),
    ("minimist", "1.2.0"),
    ("ms", "2.0.0"),
];

const LOCKFILES: &[&str] = &[
    "npm-v1/package-lock.json",
    "npm-v2/package-lock.json",
    "yarn-v1/yarn.lock",
    "yarn-berry/yarn.lock",
    "pnpm-v5/pnpm-lock.yaml",
    "pnpm-v6/pnpm-lock.yaml",
    "pnpm-v9/pnpm-lock.yaml",
];

#[test]
fn every_lockfile_lists_what_its_tool_installed() {
    let expected: BTreeSet<(String, String)> =
        INSTALLED.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
    for path in LOCKFILES {
        let packages = parse(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let found: BTreeSet<(String, String)> = packages.iter().map(|p| (p.name.clone(), p.version.clone())).collect();
        assert_eq!(found, expected, "{path}");
        assert_eq!(packages.len(), INSTALLED.len(), "{path}: one entry per installed package");

        // The alias installs the real lodash under another name.
        let legacy: Vec<&NpmPackage> = packages.iter().filter(|p| p.version == "4.17.21").collect();
        assert_eq!(legacy.len(), 1, "{path}");
        let alias = legacy.first().and_then(|p| p.alias.as_deref());
        // pnpm keys packages by what is installed, not under which name.
        if path.starts_with("pnpm") {
            assert_eq!(alias, None, "{path}");
        } else {
            assert_eq!(alias, Some("lodash-legacy"), "{path}");
        }

        // Dev-only flags where the format has them (yarn records none).
        let dev: BTreeSet<&str> = packages.iter().filter(|p| p.dev).map(|p| p.name.as_str()).collect();
        if path.starts_with("yarn") {
            assert!(dev.is_empty(), "{path}");
        } else {
            assert_eq!(dev, BTreeSet::from(["minimist"]), "{path}");
        }

        let debug = packages.iter().find(|p| p.name == "debug").unwrap_or_else(|| panic!("{path}: no debug"));
        assert_eq!(debug.dependencies.get("ms").map(|r| r.trim_start_matches("npm:")), Some("2.0.0"), "{path}");

        for package in &packages {
            let source = match classify(path) {
                Some(JsFile::PackageLock) => NpmSource::PackageLock,
                Some(JsFile::YarnLock) => NpmSource::YarnLock,
                _ => NpmSource::PnpmLock,
            };
            assert_eq!(package.source, source, "{path}");
            assert!(package.lock_key.is_some(), "{path}");
            let built = to_package(package);
            assert_eq!(built.package_type, PackageType::Npm);
            assert_eq!(built.found_by.as_deref(), Some("npm"));
        }
    }
}

#[test]
fn lockfile_resolution_details() {
    let find = |path: &str, name: &str, version: &str| {
        parse(path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .into_iter()
            .find(|p| p.name == name && p.version == version)
            .unwrap_or_else(|| panic!("{path}: no {name}@{version}"))
    };
    let babel_sri = "sha512-uLls06UVKgFG9QD4OeFYLEGteMIAa5kpTPcFL28yuCIIzsf6ZyKZMllKVOCZFhiZ5ptnwX4mtKdWCBE/uT4amg==";

    let v1 = find("npm-v1/package-lock.json", "@babel/helper-plugin-utils", "7.22.5");
    assert_eq!(v1.integrity.as_deref(), Some(babel_sri));
    assert_eq!(
        v1.resolved.as_deref(),
        Some("https://registry.npmjs.org/@babel/helper-plugin-utils/-/helper-plugin-utils-7.22.5.tgz")
    );
    assert_eq!(v1.lock_key.as_deref(), Some("node_modules/@babel/helper-plugin-utils"));

    let v2 = find("npm-v2/package-lock.json", "lodash", "4.17.21");
    assert_eq!(v2.lock_key.as_deref(), Some("node_modules/lodash-legacy"));
    assert_eq!(v2.licenses, ["MIT"]);

    let yarn = find("yarn-v1/yarn.lock", "@babel/helper-plugin-utils", "7.22.5");
    assert_eq!(yarn.integrity.as_deref(), Some(babel_sri));
    assert_eq!(yarn.lock_key.as_deref(), Some("@babel/helper-plugin-utils@7.22.5"));

    let berry = find("yarn-berry/yarn.lock", "lodash", "4.17.21");
    assert_eq!(berry.resolved.as_deref(), Some("lodash@npm:4.17.21"));
    assert!(berry.checksum.as_deref().is_some_and(|c| c.starts_with("10c0/")));
    assert_eq!(berry.integrity, None);

    for path in ["pnpm-v5/pnpm-lock.yaml", "pnpm-v6/pnpm-lock.yaml", "pnpm-v9/pnpm-lock.yaml"] {
        let pnpm = find(path, "@babel/helper-plugin-utils", "7.22.5");
        assert_eq!(pnpm.integrity.as_deref(), Some(babel_sri), "{path}");
    }

    let package = to_package(&find("yarn-v1/yarn.lock", "@babel/helper-plugin-utils", "7.22.5"));
    assert_eq!(package.purl, "pkg:npm/%40babel/helper-plugin-utils@7.22.5");
    assert_eq!(package.id, "npm/@babel/helper-plugin-utils@7.22.5");
    assert_eq!(package.metadata["integrity"], babel_sri);
    assert_eq!(package.metadata["source"], "yarn.lock");

    let manifest = parse_package_json(&data("package.json")).unwrap_or_else(|e| panic!("{e}"));
    let manifest = manifest.unwrap_or_else(|| panic!("the project manifest has a name and version"));
    assert_eq!((manifest.name.as_str(), manifest.version.as_str()), ("portcullis-js-lock-fixture", "1.0.0"));
    assert!(manifest.private);
    assert_eq!(manifest.dependencies.get("lodash-legacy").map(String::as_str), Some("npm:lodash@4.17.21"));
}

#[test]
fn broken_files_are_typed_errors() {
    assert!(matches!(parse_package_json(b"{\"name\": \"x\", "), Err(JsError::Json { .. })));
    assert_eq!(
        parse_package_json(b"[{\"name\": \"x\", \"version\": \"1\"}]"),
        Err(JsError::NotAnObject { file: "package.json", found: "an array" })
    );
    assert_eq!(
        parse_package_json(b"\"just a string\""),
        Err(JsError::NotAnObject { file: "package.json", found: "a string" })
    );
    assert!(matches!(parse_package_lock(b"not json"), Err(JsError::Json { line: 1, .. })));
    assert_eq!(
        parse_package_lock(br#"{"lockfileVersion": 7, "packages": {}}"#),
        Err(JsError::UnsupportedLockfileVersion { file: "package-lock.json", version: "7".into() })
    );
    assert_eq!(
        parse_pnpm_lock(b"lockfileVersion: '4.0'\npackages: {}\n"),
        Err(JsError::UnsupportedLockfileVersion { file: "pnpm-lock.yaml", version: "4.0".into() })
    );

    // A real yarn.lock cut inside a quoted URL, and just after a header.
    let yarn = data("yarn-v1/yarn.lock");
    let text = String::from_utf8_lossy(&yarn);
    let in_url = text.find("https://registry.yarnpkg.com/debug").unwrap_or_default() + 20;
    let cut = text.get(..in_url).unwrap_or_default();
    let line = cut.lines().count();
    assert_eq!(
        parse_yarn_lock(cut.as_bytes()),
        Err(JsError::YarnSyntax { line, reason: "unterminated quoted string" })
    );
    let after_header = text.find("debug@2.6.9:\n").map(|i| i + "debug@2.6.9:\n".len()).unwrap_or_default();
    let cut = text.get(..after_header).unwrap_or_default();
    assert_eq!(
        parse_yarn_lock(cut.as_bytes()),
        Err(JsError::YarnSyntax { line: cut.lines().count(), reason: "entry has no version (file cut short?)" })
    );
}

/// Every prefix of every real lockfile and manifest: an error or a
/// (partial-file) result, never a panic.
#[test]
fn truncation_at_every_byte_never_panics() {
    let mut errors = 0;
    for path in LOCKFILES.iter().chain(&["package.json"]) {
        let bytes = data(path);
        for end in 0..=bytes.len() {
            let prefix = bytes.get(..end).unwrap_or_default();
            let failed = match classify(path) {
                Some(JsFile::PackageLock) => parse_package_lock(prefix).is_err(),
                Some(JsFile::YarnLock) => parse_yarn_lock(prefix).is_err(),
                Some(JsFile::PnpmLock) => parse_pnpm_lock(prefix).is_err(),
                _ => parse_package_json(prefix).is_err(),
            };
            errors += usize::from(failed);
        }
    }
    assert!(errors > 0);
}
