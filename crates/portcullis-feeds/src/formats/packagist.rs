//! The FriendsOfPHP security advisories database
//! (<https://github.com/FriendsOfPHP/security-advisories>):
//! `<vendor>/<package>/<id>.yaml`, one advisory per file, with one list of
//! Composer constraints per maintained branch.
//!
//! Ids: the CVE when the advisory has one; otherwise the database has no id
//! of its own (files are named `2018-03-07-1.yaml`, `SS-2018-001.yaml`...),
//! so the record is `FriendsOfPHP-<vendor>/<package>/<file stem>`, stable as
//! long as upstream keeps the file. GHSA imports these advisories under its
//! own ids; a GHSA id in the `link` becomes an alias so the two join.

use std::collections::BTreeMap;

use serde::Deserialize;

use portcullis_vulndb::{
    Advisory, Affected, FixState, Record, Scheme, VersionRange, namespace, normalize_package_name,
};

use super::FormatError;
use super::osv::{distinct, file_stem, from_yaml, has_extension, non_blank, push_unique, top_level_yaml_keys};

/// Prefix of the ids of advisories that have no CVE.
pub const ID_PREFIX: &str = "FriendsOfPHP-";

/// Whether `path` is a FriendsOfPHP advisory: a YAML file whose top level
/// has a `title` and `branches`.
pub fn recognizes(path: &str, head: &[u8]) -> bool {
    let keys = top_level_yaml_keys(head);
    has_extension(path, &["yaml", "yml"])
        && keys.iter().any(|key| key == "branches")
        && keys.iter().any(|key| key == "title")
}

pub fn parse(path: &str, bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    let advisory: PackagistAdvisory = from_yaml(path, bytes)?;
    let advisory = advisory.into_advisory(file_stem(path)).map_err(|reason| FormatError::invalid(path, reason))?;
    Ok(vec![Record::Advisory(Box::new(advisory))])
}

#[derive(Deserialize)]
struct PackagistAdvisory {
    title: String,
    link: Option<String>,
    /// A CVE id, or null.
    cve: Option<String>,
    /// `composer://vendor/package`.
    reference: String,
    /// Branch name (`2.7.x`) to its affected versions.
    branches: BTreeMap<String, Branch>,
}

#[derive(Deserialize)]
struct Branch {
    /// When the fix was released on this branch (`2019-04-16 11:40:42`);
    /// null for branches that got none.
    time: Option<String>,
    /// Constraints that together give the affected versions: `['>=2.7.0', '<2.7.51']`.
    versions: Vec<String>,
}

impl PackagistAdvisory {
    fn into_advisory(self, file_stem: &str) -> Result<Advisory, String> {
        let package = self
            .reference
            .trim()
            .strip_prefix("composer://")
            .filter(|name| !name.is_empty())
            .ok_or_else(|| format!("reference {:?} is not composer://<vendor>/<package>", self.reference))?;
        if self.branches.is_empty() {
            return Err("no branches".to_owned());
        }
        let mut ranges = Vec::with_capacity(self.branches.len());
        for (name, branch) in &self.branches {
            if branch.versions.iter().all(|constraint| constraint.trim().is_empty()) {
                return Err(format!("branch {name:?} has no version constraints"));
            }
            ranges.push(VersionRange::Requirements {
                affected: Some(branch.versions.join(", ")),
                unaffected: Vec::new(),
            });
        }
        let fixed = branch_fixes(self.branches.values());
        let id = match non_blank(self.cve) {
            Some(cve) => cve,
            None => format!("{ID_PREFIX}{package}/{file_stem}"),
        };
        let link = non_blank(self.link);
        let aliases: Vec<String> = link.as_deref().and_then(ghsa_id).filter(|ghsa| *ghsa != id).into_iter().collect();
        // The advisory has no date of its own: the first fix release stands in.
        let published = self.branches.values().filter_map(|branch| non_blank(branch.time.clone())).min();
        let affected = Affected {
            namespace: namespace::PACKAGIST.to_owned(),
            package: normalize_package_name(namespace::PACKAGIST, package),
            scheme: Scheme::Composer,
            ranges,
            versions: Vec::new(),
            state: if fixed.is_empty() { FixState::Unknown } else { FixState::Fixed },
            fixed,
            severity: None,
            note: None,
            cpe: None,
        };
        Ok(Advisory {
            id,
            aliases,
            related: Vec::new(),
            summary: non_blank(Some(self.title)),
            description: None,
            published,
            modified: None,
            withdrawn: None,
            severity: None,
            cvss: Vec::new(),
            cwes: Vec::new(),
            references: distinct(link),
            affected: vec![affected],
        })
    }
}

/// The `<X` upper bound of each branch, unless X is where another branch
/// begins (`>=X`): the branches of an advisory often cover whole release
/// lines that never got a fix (`3.0.x: ['>=3.0.0', '<3.1.0']`), and then X
/// is affected too.
fn branch_fixes<'a>(branches: impl Iterator<Item = &'a Branch> + Clone) -> Vec<String> {
    let constraints = || branches.clone().flat_map(|branch| branch.versions.iter().map(|constraint| constraint.trim()));
    let lower_bounds: Vec<&str> = constraints().filter_map(|constraint| constraint.strip_prefix(">=")).collect();
    let mut fixed = Vec::new();
    for constraint in constraints() {
        let Some(bound) = constraint.strip_prefix('<').filter(|bound| !bound.starts_with('=')) else { continue };
        let bound = bound.trim();
        if !bound.is_empty() && !lower_bounds.iter().any(|lower| same_release(lower.trim(), bound)) {
            push_unique(&mut fixed, bound);
        }
    }
    fixed
}

/// `3.1` and `3.1.0` name the same release.
fn same_release(a: &str, b: &str) -> bool {
    a.trim_end_matches(".0") == b.trim_end_matches(".0")
}

/// The `GHSA-xxxx-xxxx-xxxx` id in a link, if any.
fn ghsa_id(link: &str) -> Option<String> {
    let start = link.find("GHSA-")?;
    let id: String = link.get(start..)?.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    let groups: Vec<&str> = id.trim_start_matches("GHSA-").split('-').collect();
    (groups.len() == 3 && groups.iter().all(|group| group.len() == 4)).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYMFONY: &str = "title: 'CVE-2019-10909: Escape validation messages'\nlink: https://symfony.com/cve-2019-10909\n\
        cve: CVE-2019-10909\nbranches:\n    2.8.x:\n        time: 2019-04-16 11:40:42\n        versions: ['>=2.8.0', '<2.8.50']\n\
        \x20   3.0.x:\n        time: ~\n        versions: ['>=3.0.0', '<3.1']\n\
        \x20   3.1.x:\n        time: '2019-04-15 10:00:00'\n        versions: ['>=3.1.0', '<3.1.12']\n\
        reference: composer://Symfony/Symfony\n";

    fn advisory(path: &str, text: &str) -> Advisory {
        match parse(path, text.as_bytes()).unwrap().pop() {
            Some(Record::Advisory(advisory)) => *advisory,
            other => panic!("not an advisory: {other:?}"),
        }
    }

    #[test]
    fn branches_are_ranges_and_their_ends_fixes() {
        let advisory = advisory("symfony/symfony/CVE-2019-10909.yaml", SYMFONY);
        assert_eq!(advisory.id, "CVE-2019-10909");
        assert_eq!(advisory.published.as_deref(), Some("2019-04-15 10:00:00"));
        let affected = &advisory.affected[0];
        assert_eq!((affected.package.as_str(), affected.scheme), ("symfony/symfony", Scheme::Composer));
        // 3.1 starts the 3.1.x branch, so 3.0.x ends without a fix.
        assert_eq!(
            (affected.fixed.as_slice(), affected.state),
            (&["2.8.50".to_owned(), "3.1.12".to_owned()][..], FixState::Fixed)
        );
        assert_eq!(
            affected.ranges[0],
            VersionRange::Requirements { affected: Some(">=2.8.0, <2.8.50".to_owned()), unaffected: Vec::new() }
        );
    }

    #[test]
    fn advisories_without_cve_get_a_path_id_and_their_ghsa_alias() {
        let text = SYMFONY
            .replace("cve: CVE-2019-10909", "cve: ~")
            .replace("https://symfony.com/cve-2019-10909", "https://github.com/advisories/GHSA-abcd-1234-wxyz#x");
        let advisory = advisory("x/symfony/symfony/2019-04-16-1.yaml", &text);
        assert_eq!(advisory.id, "FriendsOfPHP-Symfony/Symfony/2019-04-16-1");
        assert_eq!(advisory.aliases, ["GHSA-abcd-1234-wxyz"]);
    }

    #[test]
    fn recognizes_only_advisories() {
        assert!(recognizes("symfony/symfony/CVE-2019-10909.yaml", SYMFONY.as_bytes()));
        assert!(!recognizes("gems/rack/CVE-2020-1.yml", b"---\ngem: rack\ntitle: x\n"));
        assert!(!recognizes("symfony/symfony/CVE-2019-10909.json", SYMFONY.as_bytes()));
    }

    #[test]
    fn garbled_files_are_errors_naming_the_file() {
        let cases = [
            ("bad-reference.yaml", SYMFONY.replace("composer://", "https://")),
            (
                "no-branches.yaml",
                SYMFONY.split("branches").next().unwrap_or_default().to_owned()
                    + "branches: {}\nreference: composer://a/b\n",
            ),
            ("cut.yaml", SYMFONY.split("reference").next().unwrap_or_default().to_owned()),
            ("empty-branch.yaml", SYMFONY.replace("['>=2.8.0', '<2.8.50']", "[]")),
        ];
        for (path, text) in cases {
            let error = parse(path, text.as_bytes()).unwrap_err();
            assert!(error.to_string().starts_with(path), "{error}");
        }
    }
}
