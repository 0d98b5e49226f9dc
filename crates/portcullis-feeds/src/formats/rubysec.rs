//! The Ruby Advisory Database (<https://github.com/rubysec/ruby-advisory-db>):
//! `gems/<gem>/<id>.yml` for gems and `rubies/<engine>/<id>.yml` for the
//! interpreters (ruby, jruby, mruby...), with RubyGems requirement lists.
//!
//! The record id is `CVE-<cve>` when the advisory has a CVE, else
//! `GHSA-<ghsa>`, else `OSVDB-<n>` (the ids GHSA and NVD know it by), the
//! other two becoming aliases. Upstream names almost every file that way;
//! the few named by their GHSA id before a CVE was assigned get the CVE too.

use std::fmt;

use serde::Deserialize;

use portcullis_vulndb::{Advisory, Cvss, Record, Scheme, Severity, namespace};

use super::FormatError;
use super::osv::{
    affected_unless_patched, directories, distinct, distinct_ids, from_yaml, has_extension, non_blank,
    require_final_newline, top_level_yaml_keys,
};

/// Namespace of the Ruby interpreters (`rubies/`): the package is the
/// engine (`ruby`, `jruby`, `mruby`, `mrubyc`, `rbx`), not a gem.
pub const INTERPRETER_NAMESPACE: &str = "ruby-interpreter";

/// Whether `path` is a rubysec advisory: a YAML file two levels below
/// `gems/` or `rubies/` whose top level names its `gem` or `engine`.
pub fn recognizes(path: &str, head: &[u8]) -> bool {
    has_extension(path, &["yml", "yaml"])
        && matches!(directories(path).nth(1), Some("gems" | "rubies"))
        && top_level_yaml_keys(head).iter().any(|key| key == "gem" || key == "engine")
}

pub fn parse(path: &str, bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    require_final_newline(path, bytes)?;
    let advisory: RubyAdvisory = from_yaml(path, bytes)?;
    let advisory = advisory.into_advisory().map_err(|reason| FormatError::invalid(path, reason))?;
    Ok(vec![Record::Advisory(Box::new(advisory))])
}

#[derive(Deserialize)]
struct RubyAdvisory {
    gem: Option<String>,
    engine: Option<String>,
    /// Without its `CVE-` prefix: `2019-5477`.
    cve: Option<IdPart>,
    /// Without its `GHSA-` prefix.
    ghsa: Option<IdPart>,
    osvdb: Option<IdPart>,
    url: String,
    title: String,
    date: String,
    description: String,
    cvss_v2: Option<f64>,
    cvss_v3: Option<f64>,
    cvss_v4: Option<f64>,
    /// RubyGems requirements; absent when no release fixes it.
    patched_versions: Option<Vec<String>>,
    unaffected_versions: Option<Vec<String>>,
    /// `none`, `low`, `medium`, `high`, `critical` (older advisories).
    criticality: Option<String>,
    related: Option<RelatedIds>,
}

#[derive(Deserialize, Default)]
struct RelatedIds {
    cve: Option<Vec<IdPart>>,
    ghsa: Option<Vec<IdPart>>,
    osvdb: Option<Vec<IdPart>>,
    url: Option<Vec<String>>,
}

/// An id without its prefix; OSVDB ids are YAML integers.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdPart {
    Number(u64),
    Text(String),
}

impl fmt::Display for IdPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdPart::Number(number) => write!(f, "{number}"),
            IdPart::Text(text) => f.write_str(text.trim()),
        }
    }
}

/// `CVE-`, `GHSA-` and `OSVDB-` ids of the given parts, in that order.
fn prefixed_ids(cve: &[IdPart], ghsa: &[IdPart], osvdb: &[IdPart]) -> Vec<String> {
    let with_prefix = |prefix: &'static str| move |part: &IdPart| format!("{prefix}-{part}");
    cve.iter()
        .map(with_prefix("CVE"))
        .chain(ghsa.iter().map(with_prefix("GHSA")))
        .chain(osvdb.iter().map(with_prefix("OSVDB")))
        .collect()
}

impl RubyAdvisory {
    fn into_advisory(self) -> Result<Advisory, String> {
        let (namespace, name) = match (self.gem, self.engine) {
            (Some(gem), None) => (namespace::RUBYGEMS, gem),
            (None, Some(engine)) => (INTERPRETER_NAMESPACE, engine),
            _ => return Err("needs exactly one of `gem` and `engine`".to_owned()),
        };
        let own_ids = prefixed_ids(self.cve.as_slice(), self.ghsa.as_slice(), self.osvdb.as_slice());
        let Some(id) = own_ids.first().cloned() else { return Err("has none of `cve`, `ghsa`, `osvdb`".to_owned()) };
        let related = self.related.unwrap_or_default();
        let related_ids = prefixed_ids(
            &related.cve.unwrap_or_default(),
            &related.ghsa.unwrap_or_default(),
            &related.osvdb.unwrap_or_default(),
        );
        let cvss = [("2.0", self.cvss_v2), ("3.x", self.cvss_v3), ("4.0", self.cvss_v4)]
            .into_iter()
            .filter_map(|(version, score)| {
                // Scores only: rubysec keeps no vectors, nor says 3.0 or 3.1.
                Some(Cvss {
                    version: version.to_owned(),
                    vector: String::new(),
                    base_score: Some(score?),
                    source: Some("rubysec".to_owned()),
                })
            })
            .collect();
        let affected = affected_unless_patched(
            namespace,
            &name,
            Scheme::RubyGems,
            self.patched_versions.unwrap_or_default(),
            self.unaffected_versions.unwrap_or_default(),
        );
        Ok(Advisory {
            aliases: distinct_ids(&id, own_ids),
            related: distinct_ids(&id, related_ids),
            summary: non_blank(Some(self.title)),
            description: non_blank(Some(self.description)),
            published: Some(self.date),
            modified: None,
            withdrawn: None,
            severity: self.criticality.as_deref().and_then(Severity::from_label),
            cvss,
            cwes: Vec::new(),
            references: distinct(std::iter::once(self.url).chain(related.url.unwrap_or_default())),
            affected: vec![affected],
            id,
        })
    }
}

#[cfg(test)]
mod tests {
    use portcullis_vulndb::{FixState, VersionRange};

    use super::*;

    fn advisory(path: &str, text: &str) -> Advisory {
        crate::formats::single_advisory(parse(path, text.as_bytes()).unwrap())
    }

    const GEM: &str = "---\ngem: Some_Gem\nosvdb: 12345\nghsa: aaaa-bbbb-cccc\nurl: https://example.org/a\n\
        title: A flaw\ndate: 2020-01-02\ndescription: |\n  Text.\ncvss_v3: 7.5\ncriticality: high\n\
        patched_versions:\n  - \"~> 2.1.4, >= 2.1.4.1\"\n  - \">= 2.2.0\"\nunaffected_versions:\n  - \"< 2.0\"\n\
        related:\n  cve:\n    - 2020-0002\n  osvdb:\n    - 99\n  url:\n    - https://example.org/a\n    - https://example.org/b\n";

    #[test]
    fn ids_requirements_and_scores() {
        let advisory = advisory("gems/some_gem/GHSA-aaaa-bbbb-cccc.yml", GEM);
        assert_eq!(advisory.id, "GHSA-aaaa-bbbb-cccc");
        assert_eq!(advisory.aliases, ["OSVDB-12345"]);
        assert_eq!(advisory.related, ["CVE-2020-0002", "OSVDB-99"]);
        assert_eq!(advisory.references, ["https://example.org/a", "https://example.org/b"]);
        assert_eq!(advisory.published.as_deref(), Some("2020-01-02"));
        assert_eq!(advisory.severity, Some(Severity::High));
        assert_eq!(advisory.cvss.len(), 1);
        assert_eq!((advisory.cvss[0].version.as_str(), advisory.cvss[0].base_score), ("3.x", Some(7.5)));
        let affected = &advisory.affected[0];
        assert_eq!((affected.namespace.as_str(), affected.package.as_str()), ("rubygems", "Some_Gem"));
        assert_eq!(affected.fixed, ["2.1.4.1", "2.2.0"]);
        assert_eq!(affected.state, FixState::Fixed);
        let expected = ["~> 2.1.4, >= 2.1.4.1", ">= 2.2.0", "< 2.0"].map(String::from).to_vec();
        assert_eq!(affected.ranges, [VersionRange::Requirements { affected: None, unaffected: expected }]);
    }

    #[test]
    fn a_cve_names_the_record_and_engines_are_not_gems() {
        let text = GEM.replace("gem: Some_Gem", "engine: jruby").replace("osvdb: 12345", "cve: 2020-0001");
        let advisory = advisory("rubies/jruby/GHSA-aaaa-bbbb-cccc.yml", &text);
        assert_eq!(
            (advisory.id.as_str(), advisory.aliases.as_slice()),
            ("CVE-2020-0001", &["GHSA-aaaa-bbbb-cccc".to_owned()][..])
        );
        assert_eq!(advisory.affected[0].namespace, INTERPRETER_NAMESPACE);
    }

    #[test]
    fn no_patched_versions_means_no_fix() {
        let text = GEM.split("patched_versions").next().unwrap_or_default();
        let affected = &advisory("gems/some_gem/x.yml", text).affected[0];
        assert_eq!((affected.state, affected.ranges.len(), affected.fixed.len()), (FixState::NotFixed, 0, 0));
    }

    #[test]
    fn recognizes_only_advisories() {
        assert!(recognizes("ruby-advisory-db/gems/rack/CVE-2020-1.yml", b"---\ngem: rack\ncve: 2020-1\n"));
        assert!(recognizes("rubies/ruby/CVE-2021-31810.yml", b"---\nengine: ruby\n"));
        assert!(!recognizes("gems/rack/CVE-2020-1.yml", b"---\ntitle: x\nbranches:\n"));
        assert!(!recognizes("vendor/rack/CVE-2020-1.yml", b"---\ngem: rack\n"));
    }

    #[test]
    fn garbled_files_are_errors_naming_the_file() {
        let cases = [
            ("no-id.yml", GEM.replace("osvdb: 12345\nghsa: aaaa-bbbb-cccc\n", "")),
            ("gem-and-engine.yml", GEM.replace("gem: Some_Gem", "gem: a\nengine: b")),
            ("cut.yml", GEM.split("title").next().unwrap_or_default().to_owned()),
            ("bad.yml", "gem: [unclosed".to_owned()),
        ];
        for (path, text) in cases {
            let error = parse(path, text.as_bytes()).unwrap_err();
            assert!(error.to_string().starts_with(path), "{error}");
        }
    }
}
