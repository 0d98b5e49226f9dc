//! Alpine secdb: `v3.X/{main,community}.yaml` (the deprecated alpine-secdb repository) and
//! the same document as JSON (`https://secdb.alpinelinux.org/v3.X/main.json`).
//!
//! `packages[].pkg.secfixes` maps a fixed apk version to the vulnerabilities it fixes, so
//! every entry means "affected below that version" (version `0`: never affected). The
//! secdb cannot say "unfixed".
//!
//! Entries are free text: usually one CVE id, sometimes several ids in one string
//! (`CVE-2018-3620 CVE-2018-3646 XSA-273`), other ids (`XSA-207`, `TALOS-2017-0488`,
//! `ZBX-11023`, `wnpa-sec-2017-18`), a note in parentheses (`CVE-2018-16301 (was fixed in
//! libpcap)`), placeholders (`CVE-????-?????`) or typos (`CVE_2019-2426`, `CVE 2018-16859`,
//! `CVE-2017-8073.patch`, `CVE-2017-17434-1`). Every CVE id of an entry gets an advisory and
//! the entry's other ids become its aliases; an entry without a CVE id is keyed by its first
//! other id. The parenthesised note goes to [`Affected::note`].

use std::collections::BTreeMap;
use std::fmt;

use portcullis_vulndb::{
    Advisory, Affected, FixState, RangeEvent, Record, Scheme, VersionRange, namespace, normalize_package_name,
};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::FormatError;

/// One secdb file as published, before its entries are read as ids.
#[derive(Debug, Clone, PartialEq)]
pub struct SecDb {
    /// `v3.10`, `edge`.
    pub distro_version: String,
    pub packages: Vec<SecfixPackage>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SecfixPackage {
    pub name: String,
    /// (fixed version, entries) in file order.
    pub fixes: Vec<(String, Vec<String>)>,
}

impl SecDb {
    /// The number of (fixed version, entry) pairs.
    pub fn entry_count(&self) -> usize {
        self.packages.iter().flat_map(|package| &package.fixes).map(|(_, entries)| entries.len()).sum()
    }

    /// `alpine:3.10` for `v3.10`.
    pub fn namespace(&self) -> String {
        let version = self.distro_version.trim();
        let release = version.strip_prefix('v').filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
        namespace::distro("alpine", release.unwrap_or(version))
    }
}

pub fn recognizes(path: &str, head: &[u8]) -> bool {
    let head = String::from_utf8_lossy(head);
    [".yaml", ".yml", ".json"].iter().any(|extension| path.ends_with(extension))
        && head.contains("distroversion")
        && head.contains("packages")
}

pub fn parse(path: &str, bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    Ok(to_records(&read(path, bytes)?))
}

/// Reads a secdb file (JSON when it starts with `{`, YAML otherwise).
pub fn read(path: &str, bytes: &[u8]) -> Result<SecDb, FormatError> {
    let document: Document = if bytes.iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b'{') {
        serde_json::from_slice(bytes).map_err(|source| FormatError::Json { path: path.to_owned(), source })?
    } else {
        serde_norway::from_slice(bytes).map_err(|source| FormatError::Yaml { path: path.to_owned(), source })?
    };
    if document.distroversion.trim().is_empty() {
        return Err(FormatError::invalid(path, "distroversion is empty"));
    }
    let mut packages = Vec::new();
    for entry in document.packages.unwrap_or_default() {
        if entry.pkg.name.trim().is_empty() {
            return Err(FormatError::invalid(path, "package without a name"));
        }
        packages.push(SecfixPackage { name: entry.pkg.name, fixes: entry.pkg.secfixes.unwrap_or_default().0 });
    }
    Ok(SecDb { distro_version: document.distroversion, packages })
}

/// One advisory per vulnerability id named in the file, with one Affected per (package,
/// fixed version) that lists it.
pub fn to_records(secdb: &SecDb) -> Vec<Record> {
    let namespace = secdb.namespace();
    let mut advisories: BTreeMap<String, Advisory> = BTreeMap::new();
    for package in &secdb.packages {
        for (version, entries) in &package.fixes {
            for entry in entries {
                let ids = EntryIds::parse(entry);
                for id in ids.primary() {
                    let advisory = advisories
                        .entry(id.to_owned())
                        .or_insert_with(|| Advisory { id: id.to_owned(), ..Advisory::default() });
                    for alias in ids.all.iter().filter(|alias| *alias != id) {
                        if !advisory.aliases.contains(alias) {
                            advisory.aliases.push(alias.clone());
                        }
                    }
                    let already = advisory.affected.iter().any(|affected| {
                        affected.package == package.name && affected_version(affected) == Some(version.as_str())
                    });
                    if !already {
                        advisory.affected.push(fixed_affected(&namespace, &package.name, version, ids.note.as_deref()));
                    }
                }
            }
        }
    }
    advisories.into_values().map(|advisory| Record::Advisory(Box::new(advisory))).collect()
}

/// The secfixes version an Affected was made from.
fn affected_version(affected: &Affected) -> Option<&str> {
    match affected.state {
        FixState::NotAffected => Some("0"),
        _ => affected.fixed.first().map(String::as_str),
    }
}

fn fixed_affected(namespace: &str, package: &str, version: &str, note: Option<&str>) -> Affected {
    let never_affected = version == "0";
    Affected {
        namespace: namespace.to_owned(),
        package: normalize_package_name(namespace, package),
        scheme: Scheme::Apk,
        ranges: if never_affected {
            Vec::new()
        } else {
            vec![VersionRange::Events {
                events: vec![RangeEvent::Introduced("0".to_owned()), RangeEvent::Fixed(version.to_owned())],
            }]
        },
        versions: Vec::new(),
        state: if never_affected { FixState::NotAffected } else { FixState::Fixed },
        fixed: if never_affected { Vec::new() } else { vec![version.to_owned()] },
        severity: None,
        note: note.map(str::to_owned),
        cpe: None,
    }
}

/// The ids one secfixes entry names.
#[derive(Debug, PartialEq)]
struct EntryIds {
    /// Every id, CVE ids first, in entry order, without duplicates.
    all: Vec<String>,
    cve_count: usize,
    note: Option<String>,
}

impl EntryIds {
    fn parse(entry: &str) -> EntryIds {
        let (ids_text, note) = match entry.split_once('(') {
            Some((ids, note)) => (ids, Some(note.trim().trim_end_matches(')').trim().to_owned())),
            None => (entry, None),
        };
        let words: Vec<&str> = ids_text.split_whitespace().collect();
        let mut cves = Vec::new();
        let mut others = Vec::new();
        let mut index = 0;
        while let Some(word) = words.get(index) {
            index += 1;
            // `CVE 2018-16859`: the id split by a space.
            let joined;
            let word = if word.eq_ignore_ascii_case("cve") {
                match words.get(index) {
                    Some(number) => {
                        index += 1;
                        joined = format!("CVE-{number}");
                        joined.as_str()
                    }
                    None => continue,
                }
            } else {
                word
            };
            if let Some(cve) = cve_id(word) {
                if !cves.contains(&cve) {
                    cves.push(cve);
                }
            } else if is_other_id(word) && !others.iter().any(|other| other == word) {
                others.push(word.to_owned());
            }
        }
        let cve_count = cves.len();
        cves.extend(others);
        EntryIds { all: cves, cve_count, note: note.filter(|note| !note.is_empty()) }
    }

    /// The ids that get an advisory: the CVEs, else the first other id.
    fn primary(&self) -> &[String] {
        let count = if self.cve_count > 0 { self.cve_count } else { self.all.len().min(1) };
        self.all.get(..count).unwrap_or_default()
    }
}

/// `CVE-YYYY-NNNN` from a word that names one, tolerating `CVE_`, lower case and trailing
/// text after the number (`.patch`, `-1`).
fn cve_id(word: &str) -> Option<String> {
    let prefix = word.get(..4)?;
    if !prefix.eq_ignore_ascii_case("cve-") && !prefix.eq_ignore_ascii_case("cve_") {
        return None;
    }
    let rest = word.get(4..)?;
    let (year, rest) = rest.split_once('-')?;
    let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let number = rest.get(..digits)?;
    (year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit()) && number.len() >= 4)
        .then(|| format!("CVE-{year}-{number}"))
}

/// `XSA-254`, `TALOS-2017-0488`, `ZBX-11023`, `wnpa-sec-2017-18`: letters, then numbers.
fn is_other_id(word: &str) -> bool {
    let Some(first_digit) = word.find(|c: char| c.is_ascii_digit()) else { return false };
    let (prefix, number) = word.split_at(first_digit);
    prefix.len() > 1
        && prefix.ends_with('-')
        && prefix.trim_end_matches('-').chars().all(|c| c.is_ascii_alphabetic() || c == '-')
        && number.chars().all(|c| c.is_ascii_digit() || c == '-')
}

#[derive(Deserialize)]
struct Document {
    distroversion: String,
    #[serde(default)]
    packages: Option<Vec<PackageEntry>>,
}

#[derive(Deserialize)]
struct PackageEntry {
    pkg: Package,
}

#[derive(Deserialize)]
struct Package {
    name: String,
    #[serde(default)]
    secfixes: Option<Secfixes>,
}

/// `secfixes` in file order; a version with a null list fixes nothing.
#[derive(Default)]
struct Secfixes(Vec<(String, Vec<String>)>);

impl<'de> Deserialize<'de> for Secfixes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SecfixesVisitor;

        impl<'de> Visitor<'de> for SecfixesVisitor {
            type Value = Secfixes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from fixed version to a list of vulnerability ids")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Secfixes, A::Error> {
                let mut fixes = Vec::new();
                while let Some((FixedVersion(version), entries)) =
                    map.next_entry::<FixedVersion, Option<Vec<String>>>()?
                {
                    fixes.push((version, entries.unwrap_or_default()));
                }
                Ok(Secfixes(fixes))
            }
        }

        deserializer.deserialize_map(SecfixesVisitor)
    }
}

/// A secfixes key. YAML reads an unquoted `0` as a number; a float key would already have
/// lost its spelling (`1.10` -> 1.1), so it is refused rather than guessed.
struct FixedVersion(String);

impl<'de> Deserialize<'de> for FixedVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FixedVersionVisitor;

        impl Visitor<'_> for FixedVersionVisitor {
            type Value = FixedVersion;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an apk version string")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<FixedVersion, E> {
                if value.trim().is_empty() {
                    return Err(E::custom("empty fixed version"));
                }
                Ok(FixedVersion(value.trim().to_owned()))
            }

            fn visit_u64<E: de::Error>(self, value: u64) -> Result<FixedVersion, E> {
                Ok(FixedVersion(value.to_string()))
            }

            fn visit_i64<E: de::Error>(self, value: i64) -> Result<FixedVersion, E> {
                Ok(FixedVersion(value.to_string()))
            }
        }

        deserializer.deserialize_any(FixedVersionVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_ids() {
        /// (entry, ids with an advisory, all ids, note)
        type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], Option<&'a str>);
        let cases: [Case<'_>; 11] = [
            ("CVE-2019-1547", &["CVE-2019-1547"], &["CVE-2019-1547"], None),
            (
                "CVE-2017-5753 CVE-2017-5715 CVE-2017-5754 XSA-254 XPTI",
                &["CVE-2017-5753", "CVE-2017-5715", "CVE-2017-5754"],
                &["CVE-2017-5753", "CVE-2017-5715", "CVE-2017-5754", "XSA-254"],
                None,
            ),
            ("CVE-2018-3639   XSA-263", &["CVE-2018-3639"], &["CVE-2018-3639", "XSA-263"], None),
            ("XSA-207", &["XSA-207"], &["XSA-207"], None),
            ("CVE-????-?????  XSA-295", &["XSA-295"], &["XSA-295"], None),
            ("wnpa-sec-2017-18", &["wnpa-sec-2017-18"], &["wnpa-sec-2017-18"], None),
            ("CVE_2019-2426", &["CVE-2019-2426"], &["CVE-2019-2426"], None),
            ("CVE 2018-16859", &["CVE-2018-16859"], &["CVE-2018-16859"], None),
            ("CVE-2017-8073.patch", &["CVE-2017-8073"], &["CVE-2017-8073"], None),
            ("CVE-2017-17434-1", &["CVE-2017-17434"], &["CVE-2017-17434"], None),
            (
                "CVE-2018-10103 (SMB - partially fixed, but SMB printing disabled)",
                &["CVE-2018-10103"],
                &["CVE-2018-10103"],
                Some("SMB - partially fixed, but SMB printing disabled"),
            ),
        ];
        for (entry, primary, all, note) in cases {
            let parsed = EntryIds::parse(entry);
            assert_eq!(parsed.primary(), primary, "{entry}");
            assert_eq!(parsed.all, all, "{entry}");
            assert_eq!(parsed.note.as_deref(), note, "{entry}");
        }
    }

    #[test]
    fn every_real_entry_names_an_id() {
        let root = portcullis_testkit::data::feed("alpine-secdb");
        let mut entries = 0;
        for path in portcullis_testkit::data::regular_files(&root) {
            let secdb = read(&path.to_string_lossy(), &portcullis_testkit::data::read_bytes(&path)).unwrap();
            for (_, fixed) in secdb.packages.iter().flat_map(|package| &package.fixes) {
                for entry in fixed {
                    entries += 1;
                    assert!(!EntryIds::parse(entry).primary().is_empty(), "{}: {entry:?}", path.display());
                }
            }
        }
        assert_eq!(entries, 12028);
    }

    #[test]
    fn yaml_and_json_give_the_same_records() {
        let yaml = "---\ndistroversion: v3.10\nreponame: main\npackages:\n  - pkg:\n      name: musl\n      secfixes:\n        1.1.22-r3:\n          - CVE-2019-14697\n        0:\n          - CVE-2019-0001 XSA-1\n  - pkg:\n      name: empty\n      secfixes: null\n";
        let json = r#"{"apkurl": "x", "distroversion": "v3.10", "packages": [
            {"pkg": {"name": "musl", "secfixes": {"1.1.22-r3": ["CVE-2019-14697"], "0": ["CVE-2019-0001 XSA-1"]}}},
            {"pkg": {"name": "empty", "secfixes": null}}]}"#;
        assert!(recognizes("v3.10/main.yaml", yaml.as_bytes()));
        assert!(recognizes("v3.19/main.json", json.as_bytes()));
        let from_yaml = parse("main.yaml", yaml.as_bytes()).unwrap();
        assert_eq!(from_yaml, parse("main.json", json.as_bytes()).unwrap());
        assert_eq!(read("main.yaml", yaml.as_bytes()).unwrap().entry_count(), 2);
        let advisories: Vec<&Advisory> = from_yaml
            .iter()
            .map(|record| match record {
                Record::Advisory(advisory) => advisory.as_ref(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(advisories.len(), 2);
        assert_eq!(
            (advisories[0].id.as_str(), advisories[0].aliases.as_slice()),
            ("CVE-2019-0001", &["XSA-1".to_owned()][..])
        );
        assert_eq!(advisories[0].affected[0].state, FixState::NotAffected);
        assert!(advisories[0].affected[0].ranges.is_empty());
        let musl = &advisories[1].affected[0];
        assert_eq!((musl.namespace.as_str(), musl.package.as_str(), musl.scheme), ("alpine:3.10", "musl", Scheme::Apk));
        assert_eq!((musl.state, musl.fixed.as_slice()), (FixState::Fixed, &["1.1.22-r3".to_owned()][..]));
    }

    #[test]
    fn garbled_files_are_errors() {
        assert!(matches!(
            parse("main.yaml", b"distroversion: v3.10\npackages:\n  - pkg: [\n"),
            Err(FormatError::Yaml { .. })
        ));
        assert!(matches!(
            parse("main.json", br#"{"distroversion": "v3.19", "packages": [{"pkg""#),
            Err(FormatError::Json { .. })
        ));
        let float_key = "distroversion: v3.10\npackages:\n  - pkg:\n      name: a\n      secfixes:\n        1.10:\n          - CVE-2019-0001\n";
        let error = parse("main.yaml", float_key.as_bytes()).unwrap_err().to_string();
        assert!(error.starts_with("main.yaml: "), "{error}");
        assert!(parse("main.yaml", b"reponame: main\n").is_err());
    }
}
