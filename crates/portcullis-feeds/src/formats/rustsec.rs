//! The RustSec advisory database in its native form
//! (<https://github.com/rustsec/advisory-db>): `crates/<crate>/RUSTSEC-*.md`
//! and, for the Rust toolchain itself, `rust/<component>/CVE-*.md`. Each
//! file opens with a ```` ```toml ```` block (`[advisory]`, `[versions]`,
//! `[affected]`), followed by the Markdown text whose first `# ` heading is
//! the title.
//!
//! The same advisories come as OSV in the database's `osv` branch (read by
//! [`super::osv`]); both copies are kept as separate records.

use serde::Deserialize;

use portcullis_vulndb::{Advisory, Cvss, Record, Scheme, namespace};

use super::FormatError;
use super::osv::{
    affected_unless_patched, cvss_version, directories, distinct, distinct_ids, has_extension, non_blank,
    notice_severity,
};

/// Namespace of the advisories against the Rust toolchain (`std`, `cargo`,
/// `rustdoc`): they are versioned with the compiler release, and `cargo` on
/// crates.io is a different artifact (the library, versioned 0.x).
pub const TOOLCHAIN_NAMESPACE: &str = "rust-toolchain";

/// Whether `path` is a RustSec advisory: a Markdown file opening with a TOML
/// block that has an `[advisory]` table.
pub fn recognizes(path: &str, head: &[u8]) -> bool {
    if !has_extension(path, &["md"]) {
        return false;
    }
    let head = String::from_utf8_lossy(head);
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("```toml") && head.contains("[advisory]")
}

/// One advisory. The directory above the crate's (`crates/` or `rust/`)
/// tells crates from toolchain components.
pub fn parse(path: &str, bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    let text = std::str::from_utf8(bytes).map_err(|e| FormatError::invalid(path, format!("not UTF-8: {e}")))?;
    let (front_matter, markdown) = split_front_matter(text)
        .ok_or_else(|| FormatError::invalid(path, "no ```toml block closed by ``` at the start of the file"))?;
    let file: AdvisoryFile =
        toml::from_str(front_matter).map_err(|source| FormatError::Toml { path: path.to_owned(), source })?;
    let toolchain = directories(path).nth(1) == Some("rust");
    Ok(vec![Record::Advisory(Box::new(file.into_advisory(toolchain, markdown)))])
}

#[derive(Deserialize)]
struct AdvisoryFile {
    advisory: AdvisoryTable,
    versions: VersionsTable,
}

#[derive(Deserialize)]
struct AdvisoryTable {
    id: String,
    package: String,
    date: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    related: Vec<String>,
    /// A CVSS v3 or v4 vector.
    cvss: Option<String>,
    /// `unmaintained`, `unsound`, `notice`.
    informational: Option<String>,
    /// The date it was withdrawn.
    withdrawn: Option<String>,
    url: Option<String>,
    #[serde(default)]
    references: Vec<String>,
}

#[derive(Deserialize)]
struct VersionsTable {
    /// Cargo requirements of the fixed releases; empty when there is no fix.
    patched: Vec<String>,
    /// Requirements of releases that never had the flaw.
    #[serde(default)]
    unaffected: Vec<String>,
}

impl AdvisoryFile {
    fn into_advisory(self, toolchain: bool, markdown: &str) -> Advisory {
        let AdvisoryFile { advisory, versions } = self;
        let aliases = distinct_ids(&advisory.id, advisory.aliases);
        let cvss: Vec<Cvss> = advisory
            .cvss
            .and_then(|vector| {
                Some(Cvss { version: cvss_version(&vector)?, vector, base_score: None, source: Some("rustsec".into()) })
            })
            .into_iter()
            .collect();
        let informational = non_blank(advisory.informational).is_some();
        let severity = notice_severity(informational, &advisory.id, &aliases, &cvss);
        let (summary, description) = title_and_body(markdown);
        let namespace = if toolchain { TOOLCHAIN_NAMESPACE } else { namespace::CRATES_IO };
        let affected =
            affected_unless_patched(namespace, &advisory.package, Scheme::Cargo, versions.patched, versions.unaffected);
        Advisory {
            related: distinct_ids(&advisory.id, advisory.related),
            aliases,
            summary,
            description,
            published: Some(advisory.date),
            modified: None,
            withdrawn: advisory.withdrawn,
            severity,
            cvss,
            cwes: Vec::new(),
            references: distinct(advisory.url.into_iter().chain(advisory.references)),
            affected: vec![affected],
            id: advisory.id,
        }
    }
}

/// The TOML between the opening ```` ```toml ```` line and the first line
/// that is only ```` ``` ````, and the text after it.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    let body = text.strip_prefix("```toml")?;
    let body = body.strip_prefix('\n').or_else(|| body.strip_prefix("\r\n"))?;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        if line.trim_end() == "```" {
            return Some((body.get(..offset)?, body.get(offset + line.len()..)?));
        }
        offset += line.len();
    }
    None
}

/// The leading `# ` heading and the rest of the Markdown.
fn title_and_body(markdown: &str) -> (Option<String>, Option<String>) {
    let markdown = markdown.trim_start();
    match markdown.strip_prefix("# ") {
        Some(rest) => {
            let (title, body) = rest.split_once('\n').unwrap_or((rest, ""));
            (non_blank(Some(title.to_owned())), non_blank(Some(body.to_owned())))
        }
        None => (None, non_blank(Some(markdown.to_owned()))),
    }
}

#[cfg(test)]
mod tests {
    use portcullis_vulndb::{FixState, Severity};

    use super::*;

    const NOTICE: &str = "```toml\n[advisory]\nid = \"RUSTSEC-2099-0001\"\npackage = \"Old_Crate\"\n\
        date = \"2099-01-02\"\ninformational = \"unmaintained\"\nurl = \"https://example.org/1\"\n\n\
        [versions]\npatched = []\n```\n\n# Old_Crate is unmaintained\n\nUse something else.\n\n```toml\nx = 1\n```\n";

    fn advisory(path: &str, text: &str) -> Advisory {
        match parse(path, text.as_bytes()).unwrap().pop() {
            Some(Record::Advisory(advisory)) => *advisory,
            other => panic!("not an advisory: {other:?}"),
        }
    }

    #[test]
    fn notice_without_fix() {
        let advisory = advisory("crates/old_crate/RUSTSEC-2099-0001.md", NOTICE);
        assert_eq!(advisory.summary.as_deref(), Some("Old_Crate is unmaintained"));
        assert_eq!(advisory.description.as_deref(), Some("Use something else.\n\n```toml\nx = 1\n```"));
        assert_eq!(advisory.severity, Some(Severity::Negligible));
        assert_eq!(advisory.references, ["https://example.org/1"]);
        let affected = &advisory.affected[0];
        assert_eq!((affected.namespace.as_str(), affected.package.as_str()), ("crates.io", "Old_Crate"));
        assert_eq!((affected.state, affected.ranges.len()), (FixState::NotFixed, 0));
    }

    #[test]
    fn toolchain_components_have_their_own_namespace() {
        let text =
            NOTICE.replace("RUSTSEC-2099-0001", "CVE-2099-1").replace("patched = []", "patched = [\">= 1.52.0\"]");
        let advisory = advisory("advisory-db/rust/std/CVE-2099-1.md", &text);
        assert_eq!(advisory.severity, None, "a CVE is rated as a vulnerability");
        let affected = &advisory.affected[0];
        assert_eq!(
            (affected.namespace.as_str(), affected.fixed.as_slice()),
            (TOOLCHAIN_NAMESPACE, &["1.52.0".to_owned()][..])
        );
    }

    #[test]
    fn recognizes_only_advisories() {
        assert!(recognizes("crates/time/RUSTSEC-2020-0071.md", b"```toml\n[advisory]\nid = \"RUSTSEC-2020-0071\""));
        assert!(!recognizes("README.md", b"# RustSec Advisory Database\n"));
        assert!(!recognizes("crates/time/RUSTSEC-2020-0071.json", b"```toml\n[advisory]\n"));
    }

    #[test]
    fn garbled_files_are_errors_naming_the_file() {
        let unclosed = NOTICE.split("```\n\n#").next().unwrap_or_default().to_owned();
        let cases = [
            ("unclosed.md", unclosed),
            ("no-block.md", "# Title\n".to_owned()),
            ("no-versions.md", NOTICE.replace("[versions]\npatched = []\n", "")),
            ("bad-toml.md", NOTICE.replace("package = ", "package: ")),
        ];
        for (path, text) in cases {
            let error = parse(path, text.as_bytes()).unwrap_err();
            assert!(error.to_string().starts_with(path), "{error}");
        }
    }
}
