//! Classifiers: software recognised in a binary by version strings in its
//! bytes, for programs installed without package metadata (a runtime copied
//! into `/usr/local`, a static build, a vendored library), in the manner of
//! syft's binary classifiers.
//!
//! Each [`Classifier`] is plain data (so `portcullis catalogers` and the docs
//! can list them): the file names it applies to, byte patterns with a
//! `version` capture, and the purl and CPEs the match implies. [`wants`] is
//! the cheap file-name test the layer stream runs on every file;
//! [`classify`] runs the patterns of the classifiers that want the file.

mod glob;
mod table;

use std::sync::OnceLock;

use portcullis_sbom::{Location, Package, PackageType};
use regex::bytes::{Captures, Regex, RegexBuilder};

use crate::distro::os_package_purl;

pub use glob::file_name;

/// `found_by` of every package a classifier reports.
pub const FOUND_BY: &str = "binary-classifier";

/// A recogniser for one piece of software.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Classifier {
    /// Class name, recorded as `metadata.classifier` (syft's names).
    pub name: &'static str,
    /// Package name reported.
    pub package: &'static str,
    /// purl type of the package (`generic` for all current classifiers).
    pub purl_type: &'static str,
    /// purl namespace, e.g. `oracle` in `pkg:generic/oracle/openjdk@…`.
    pub purl_namespace: Option<&'static str>,
    /// Globs on the file name (last path component): `*`, `?`, `[0-9]`.
    pub file_globs: &'static [&'static str],
    /// A regex on the file name whose `version` group must prefix the version
    /// found (CPython: `python3.11` only accepts `3.11.*`); `{name_version}`
    /// in [`Classifier::patterns`] stands for that text, regex-escaped. A
    /// file name that does not match rules the file out.
    pub name_version: Option<&'static str>,
    /// Byte regexes tried in order, each with a `version` group; optional
    /// `cpe_version` and `cpe_update` groups feed the CPEs instead. Patterns
    /// are matched byte-wise (`(?-u)`): `\x00` is a NUL, `.` any byte but
    /// `\n`.
    pub patterns: &'static [&'static str],
    /// CPE 2.3 templates: `{version}` (escaped per the CPE formatted-string
    /// rules) and `{update}` (`*` unless `cpe_update` matched).
    pub cpe_templates: &'static [&'static str],
}

impl Classifier {
    /// Whether one of the file globs matches the last component of `path`.
    pub fn wants(&self, path: &str) -> bool {
        let name = file_name(path);
        self.file_globs.iter().any(|g| glob::matches(g, name))
    }
}

/// Every classifier, in the order they are tried.
pub fn classifiers() -> &'static [Classifier] {
    table::CLASSIFIERS
}

/// Whether some classifier applies to `path`, judged by its file name only
/// (globs, and the [`Classifier::name_version`] regex where there is one, so
/// `/usr/share/man/man1/python3.11.1.gz` is not wanted).
pub fn wants(path: &str) -> bool {
    let name = file_name(path);
    // Globs start with a literal byte, so the first byte of the name picks
    // the few classifiers worth trying; most names match none.
    let Some(&first) = name.as_bytes().first() else { return false };
    let mut candidates = by_first_byte()[usize::from(first)];
    let all = compiled();
    while candidates != 0 {
        let index = candidates.trailing_zeros() as usize;
        candidates &= candidates - 1;
        if applies(&table::CLASSIFIERS[index], &all[index], name) {
            return true;
        }
    }
    false
}

/// For each first byte of a file name, the classifiers (bit i = classifier
/// i) with a glob that can start with it; a glob starting with a wildcard
/// sets its bit for every byte.
fn by_first_byte() -> &'static [u64; 256] {
    static TABLE: OnceLock<[u64; 256]> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [0u64; 256];
        for (index, classifier) in table::CLASSIFIERS.iter().enumerate() {
            let bit = 1u64 << index;
            for glob in classifier.file_globs {
                match glob.as_bytes().first() {
                    Some(b'*' | b'?' | b'[') | None => table.iter_mut().for_each(|t| *t |= bit),
                    Some(&b) => table[usize::from(b)] |= bit,
                }
            }
        }
        table
    })
}

fn applies(classifier: &Classifier, compiled: &Compiled, name: &str) -> bool {
    classifier.file_globs.iter().any(|g| glob::matches(g, name))
        && compiled.name_version.as_ref().is_none_or(|re| re.is_match(name.as_bytes()))
}

/// Recognises the software in `bytes`, the content of the file at `path`.
///
/// The first classifier whose globs match and whose patterns find a version
/// wins, so a file yields at most one package (`php-fpm8.2` is php-fpm, not
/// also php-cli). The package has one location (`path`, no layer: the caller
/// knows it), `found_by` [`FOUND_BY`], and metadata `classifier` and `cpes`.
pub fn classify(path: &str, bytes: &[u8]) -> Vec<Package> {
    let name = file_name(path);
    for (classifier, compiled) in table::CLASSIFIERS.iter().zip(compiled()) {
        if !applies(classifier, compiled, name) {
            continue;
        }
        if let Some(found) = run(classifier, compiled, name, bytes) {
            return vec![package(classifier, path, &found)];
        }
    }
    Vec::new()
}

struct Compiled {
    name_version: Option<Regex>,
    /// `None` for classifiers whose patterns depend on the file name.
    patterns: Option<Vec<Regex>>,
}

struct Found {
    version: String,
    cpe_version: String,
    cpe_update: Option<String>,
}

fn compiled() -> &'static [Compiled] {
    static COMPILED: OnceLock<Vec<Compiled>> = OnceLock::new();
    COMPILED.get_or_init(|| {
        table::CLASSIFIERS
            .iter()
            .map(|c| Compiled {
                name_version: c.name_version.and_then(build),
                patterns: c.name_version.is_none().then(|| c.patterns.iter().filter_map(|p| build(p)).collect()),
            })
            .collect()
    })
}

/// Compiles a table pattern. The table is tested to compile; a failure here
/// would be a programming error, so it drops the pattern rather than panic.
fn build(pattern: &str) -> Option<Regex> {
    match RegexBuilder::new(pattern).unicode(false).build() {
        Ok(regex) => Some(regex),
        Err(error) => {
            tracing::error!(pattern, %error, "invalid classifier pattern");
            None
        }
    }
}

fn run(classifier: &Classifier, compiled: &Compiled, name: &str, bytes: &[u8]) -> Option<Found> {
    match (&compiled.name_version, &compiled.patterns) {
        (_, Some(patterns)) => patterns.iter().find_map(|re| re.captures(bytes).and_then(|c| found(&c))),
        (Some(name_re), None) => {
            let prefix = std::str::from_utf8(name_re.captures(name.as_bytes())?.name("version")?.as_bytes()).ok()?;
            // Only a handful of files carry a version in their name
            // (python3.11, libpython3.11.so.1.0), so compiling per file costs
            // less than a cache would.
            let escaped = regex::escape(prefix);
            classifier
                .patterns
                .iter()
                .filter_map(|p| build(&p.replace("{name_version}", &escaped)))
                .find_map(|re| re.captures(bytes).and_then(|c| found(&c)))
        }
        (None, None) => None,
    }
}

fn found(captures: &Captures<'_>) -> Option<Found> {
    let text = |group: &str| captures.name(group).map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned());
    let version = text("version").filter(|v| !v.is_empty())?;
    let cpe_version = text("cpe_version").unwrap_or_else(|| version.clone());
    Some(Found { version, cpe_version, cpe_update: text("cpe_update") })
}

fn package(classifier: &Classifier, path: &str, found: &Found) -> Package {
    let purl = os_package_purl(
        classifier.purl_type,
        classifier.purl_namespace.unwrap_or_default(),
        classifier.package,
        &found.version,
        &[],
    );
    let mut package = Package::new(PackageType::Binary, classifier.package, &found.version, None, purl);
    package.locations.push(Location { path: path.to_owned(), layer_index: None, layer_diff_id: None });
    package.found_by = Some(FOUND_BY.to_owned());
    let version = cpe_escape(&found.cpe_version);
    let update = found.cpe_update.as_deref().map_or_else(|| "*".to_owned(), |u| cpe_escape(&format!("update{u}")));
    let cpes: Vec<serde_json::Value> = classifier
        .cpe_templates
        .iter()
        .map(|t| serde_json::Value::String(t.replace("{version}", &version).replace("{update}", &update)))
        .collect();
    package.metadata.insert("classifier".to_owned(), serde_json::Value::String(classifier.name.to_owned()));
    package.metadata.insert("cpes".to_owned(), serde_json::Value::Array(cpes));
    package
}

/// Quotes a value for a CPE 2.3 formatted string: everything but letters,
/// digits, `_`, `-` and `.` gets a backslash (`17.0.15+6` → `17.0.15\+6`).
pub fn cpe_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles_and_captures_a_version() {
        for c in classifiers() {
            assert!(!c.file_globs.is_empty(), "{}", c.name);
            assert!(!c.patterns.is_empty(), "{}", c.name);
            for p in c.patterns {
                let p = p.replace("{name_version}", "3\\.11");
                let re = RegexBuilder::new(&p).unicode(false).build().unwrap_or_else(|e| panic!("{}: {e}", c.name));
                assert!(re.capture_names().any(|n| n == Some("version")), "{}: {p}", c.name);
            }
            assert_eq!(c.name_version.is_some(), c.patterns.iter().all(|p| p.contains("{name_version}")), "{}", c.name);
            if let Some(n) = c.name_version {
                assert!(Regex::new(n).is_ok(), "{}", c.name);
            }
            for t in c.cpe_templates {
                assert!(t.starts_with("cpe:2.3:a:"), "{t}");
                assert_eq!(t.split(':').count(), 13, "{t}");
                assert!(t.contains("{version}"), "{t}");
            }
        }
        assert_eq!(compiled().len(), classifiers().len());
        // wants() keeps one bit per classifier.
        assert!(classifiers().len() <= 64);
    }

    #[test]
    fn escapes_cpe_values() {
        assert_eq!(cpe_escape("3.0.11"), "3.0.11");
        assert_eq!(cpe_escape("17.0.15+6-Debian"), "17.0.15\\+6-Debian");
        assert_eq!(cpe_escape("a:b*"), "a\\:b\\*");
    }

    #[test]
    fn classifies_synthetic_strings() {
        let pkgs = classify("/usr/local/bin/busybox", b"\x00BusyBox v1.36.1 (2023)\x00");
        assert_eq!(pkgs.len(), 1);
        let p = &pkgs[0];
        assert_eq!((p.name.as_str(), p.version.as_str()), ("busybox", "1.36.1"));
        assert_eq!(p.purl, "pkg:generic/busybox@1.36.1");
        assert_eq!(p.id, "binary/busybox@1.36.1");
        assert_eq!(p.found_by.as_deref(), Some(FOUND_BY));
        assert_eq!(p.metadata["classifier"], "busybox-binary");
        assert_eq!(p.metadata["cpes"][0], "cpe:2.3:a:busybox:busybox:1.36.1:*:*:*:*:*:*:*");
        assert_eq!(p.locations[0].path, "/usr/local/bin/busybox");

        // Java 8: the update goes to the CPE's update field.
        let java = classify("/opt/jdk/bin/java", b"x\x00openjdk\x00java\x001.8\x001.8.0_352-b08\x00y");
        assert_eq!(java[0].version, "1.8.0_352-b08");
        assert_eq!(java[0].purl, "pkg:generic/oracle/openjdk@1.8.0_352-b08");
        assert_eq!(java[0].metadata["cpes"][0], "cpe:2.3:a:oracle:openjdk:1.8.0:update352:*:*:*:*:*:*");

        // Upstream redis build ids (syft's fixtures' shapes).
        let r = classify("/usr/local/bin/redis-server", b"\x007.0.14buildkitsandbox-1702957741000000000\x00");
        assert_eq!(r[0].version, "7.0.14");
        let r = classify("/usr/local/bin/redis-server", b"\x004.0.11841ce7054bd9-1542359302000000000\x00");
        assert_eq!(r[0].version, "4.0.11");

        // A name-versioned classifier rejects other versions in the file.
        let py = classify("/usr/bin/python3.11", b"\x003.2.0\x00\x003.11.9\x00");
        assert_eq!(py[0].version, "3.11.9");
        assert!(classify("/usr/bin/python3.12", b"\x003.11.9\x00").is_empty());
        assert!(classify("/usr/share/man/man1/python3.11.1.gz", b"\x003.11.9\x00").is_empty());
    }

    #[test]
    fn wants_by_file_name_only() {
        assert!(wants("/usr/bin/python3.11"));
        assert!(wants("/usr/lib/x86_64-linux-gnu/libcrypto.so.3"));
        assert!(wants("/usr/lib/go-1.19/bin/go"));
        assert!(wants("/usr/lib/x86_64-linux-gnu/libnode.so.108"));
        assert!(!wants("/usr/bin/gofmt"));
        assert!(!wants("/usr/share/man/man1/python3.11.1.gz"));
        assert!(!wants("/usr/share/doc/python3/python-policy.txt.gz"));
        assert!(!wants("/etc/passwd"));
        assert!(!wants("/usr/lib/python3/dist-packages"));
    }

    #[test]
    fn unknown_or_versionless_files_yield_nothing() {
        assert!(classify("/usr/bin/nginx", b"no version here").is_empty());
        assert!(classify("/usr/bin/unrelated", b"\x00BusyBox v1.36.1\x00").is_empty());
        assert!(classify("/usr/bin/curl", b"").is_empty());
    }
}
