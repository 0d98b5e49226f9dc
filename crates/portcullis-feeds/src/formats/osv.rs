//! OSV schema 1.x records (<https://ossf.github.io/osv-schema/>), one per
//! file: JSON from the Go database, GHSA and the RustSec export, YAML from
//! the PyPA database.
//!
//! The end of this module holds the few helpers the other ecosystem parsers
//! share (file names, id lists, requirement floors, top-level key sniffing).

use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use portcullis_vulndb::{
    Advisory, Affected, Cvss, FixState, RangeEvent, Record, Scheme, Severity, VersionRange, namespace,
    normalize_package_name,
};

use super::FormatError;

/// Top-level keys only OSV records have next to `id`: `modified` is required
/// by the schema, `schema_version` comes first in most exporters' output.
/// (`affected` is no marker: NVD records as fkie-cad publishes them have
/// `id` and `affected` too.)
const OSV_MARKER_KEYS: &[&str] = &["modified", "schema_version"];

/// Whether `path` is an OSV record: a JSON or YAML file with a top-level
/// `id` and an OSV marker key. When the head ends before a marker (PyPA
/// writes `modified` last), a known mirror layout stands in for it.
pub fn recognizes(path: &str, head: &[u8]) -> bool {
    let keys = if has_extension(path, &["json"]) {
        top_level_json_keys(head)
    } else if has_extension(path, &["yaml", "yml"]) {
        top_level_yaml_keys(head)
    } else {
        return false;
    };
    keys.iter().any(|key| key == "id")
        && (keys.iter().any(|key| OSV_MARKER_KEYS.contains(&key.as_str())) || is_osv_mirror_path(path))
}

/// Folders the OSV exporters publish under: `osv-*`/`osv`, PyPA's `vulns/`,
/// GHSA's `advisories/github-reviewed/` (and `unreviewed/`).
fn is_osv_mirror_path(path: &str) -> bool {
    directories(path).any(|dir| {
        dir.starts_with("osv") || matches!(dir, "vulns" | "github-reviewed" | "unreviewed") || dir.starts_with("ghsa")
    })
}

/// One OSV record, YAML when the file name says so, JSON otherwise.
pub fn parse(path: &str, bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    let record: OsvRecord = if has_extension(path, &["yaml", "yml"]) {
        require_final_newline(path, bytes)?;
        from_yaml(path, bytes)?
    } else {
        from_json(path, bytes)?
    };
    let advisory = record.into_advisory().map_err(|reason| FormatError::invalid(path, reason))?;
    Ok(vec![Record::Advisory(Box::new(advisory))])
}

#[derive(Deserialize)]
struct OsvRecord {
    id: String,
    /// Required by the schema; also what catches a YAML record cut short,
    /// since PyPA writes it near the end.
    modified: String,
    published: Option<String>,
    withdrawn: Option<String>,
    aliases: Option<Vec<String>>,
    related: Option<Vec<String>>,
    summary: Option<String>,
    details: Option<String>,
    severity: Option<Vec<OsvSeverity>>,
    affected: Option<Vec<OsvAffected>>,
    references: Option<Vec<OsvReference>>,
    database_specific: Option<RecordDatabaseSpecific>,
}

#[derive(Deserialize)]
struct OsvSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct OsvAffected {
    /// Optional in the schema (entries with only GIT ranges).
    package: Option<OsvPackage>,
    ranges: Option<Vec<OsvRange>>,
    versions: Option<Vec<String>>,
    database_specific: Option<AffectedDatabaseSpecific>,
}

#[derive(Deserialize)]
struct OsvPackage {
    ecosystem: String,
    name: String,
}

#[derive(Deserialize)]
struct OsvRange {
    #[serde(rename = "type")]
    kind: String,
    events: Vec<OsvEvent>,
}

/// An event object; the schema allows exactly one of its keys.
#[derive(Deserialize)]
struct OsvEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

#[derive(Deserialize)]
struct OsvReference {
    url: String,
}

/// `database_specific` is free-form: only GHSA's keys are read.
#[derive(Deserialize)]
struct RecordDatabaseSpecific {
    severity: Option<TextOrOther>,
    cwe_ids: Option<Vec<String>>,
}

/// RustSec's `informational` (`unmaintained`, `unsound`, `notice`).
#[derive(Deserialize)]
struct AffectedDatabaseSpecific {
    informational: Option<TextOrOther>,
}

/// A free-form field read only when it is a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum TextOrOther {
    Text(String),
    Other(IgnoredAny),
}

impl TextOrOther {
    fn text(&self) -> Option<&str> {
        match self {
            TextOrOther::Text(text) if !text.trim().is_empty() => Some(text.trim()),
            _ => None,
        }
    }
}

impl OsvRecord {
    fn into_advisory(self) -> Result<Advisory, String> {
        let source = cvss_source(&self.id);
        let cvss: Vec<Cvss> = self.severity.unwrap_or_default().iter().filter_map(|s| s.to_cvss(source)).collect();
        let database_specific = self.database_specific;
        let affected_entries = self.affected.unwrap_or_default();
        let informational = affected_entries.iter().any(|entry| {
            entry.database_specific.as_ref().and_then(|specific| specific.informational.as_ref()?.text()).is_some()
        });
        let aliases = distinct_ids(&self.id, self.aliases.unwrap_or_default());
        let severity = database_specific
            .as_ref()
            .and_then(|specific| specific.severity.as_ref()?.text())
            .and_then(Severity::from_label)
            .or_else(|| notice_severity(informational, &self.id, &aliases, &cvss));
        let mut affected = Vec::with_capacity(affected_entries.len());
        for entry in affected_entries {
            if let Some(converted) = entry.into_affected()? {
                affected.push(converted);
            }
        }
        Ok(Advisory {
            related: distinct_ids(&self.id, self.related.unwrap_or_default()),
            aliases,
            summary: non_blank(self.summary),
            description: non_blank(self.details),
            published: self.published,
            modified: Some(self.modified),
            withdrawn: self.withdrawn,
            severity,
            cvss,
            cwes: database_specific.and_then(|specific| specific.cwe_ids).unwrap_or_default(),
            references: distinct(self.references.unwrap_or_default().into_iter().map(|reference| reference.url)),
            affected,
            id: self.id,
        })
    }
}

/// Who scored the CVSS vectors of a record: the publisher its id names.
fn cvss_source(id: &str) -> &'static str {
    if id.starts_with("GHSA-") {
        "ghsa"
    } else if id.starts_with("RUSTSEC-") {
        "rustsec"
    } else {
        "osv"
    }
}

impl OsvSeverity {
    /// CVSS entries only (other types, such as `Ubuntu`, are labels). A v3
    /// or v4 vector without its `CVSS:x.y/` prefix is malformed and skipped.
    fn to_cvss(&self, source: &str) -> Option<Cvss> {
        let version = match self.kind.as_str() {
            "CVSS_V2" => "2.0".to_owned(),
            "CVSS_V3" | "CVSS_V4" => cvss_version(&self.score)?,
            _ => return None,
        };
        Some(Cvss { version, vector: self.score.clone(), base_score: None, source: Some(source.to_owned()) })
    }
}

impl OsvAffected {
    /// `None` for entries that name no package, or that only give GIT
    /// ranges: nothing to match a package version against (kept without
    /// ranges, they would read as "every version").
    fn into_affected(self) -> Result<Option<Affected>, String> {
        let Some(package) = self.package else { return Ok(None) };
        let (namespace, scheme) = ecosystem_namespace(&package.ecosystem);
        let mut ranges = Vec::new();
        let mut fixed = Vec::new();
        let mut last_affected_given = false;
        let mut dropped_ranges = false;
        for range in self.ranges.unwrap_or_default() {
            if !matches!(range.kind.as_str(), "ECOSYSTEM" | "SEMVER") {
                dropped_ranges = true;
                continue;
            }
            let events = range.events.into_iter().map(OsvEvent::into_event).collect::<Result<Vec<_>, _>>()?;
            for event in &events {
                match event {
                    RangeEvent::Fixed(version) => push_unique(&mut fixed, version),
                    RangeEvent::LastAffected(_) => last_affected_given = true,
                    RangeEvent::Introduced(_) | RangeEvent::Limit(_) => {}
                }
            }
            ranges.push(VersionRange::Events { events });
        }
        let versions = self.versions.unwrap_or_default();
        if ranges.is_empty() && versions.is_empty() && dropped_ranges {
            return Ok(None);
        }
        let state = if !fixed.is_empty() {
            FixState::Fixed
        } else if last_affected_given || ranges.is_empty() {
            FixState::Unknown
        } else {
            FixState::NotFixed
        };
        Ok(Some(Affected {
            package: normalize_package_name(&namespace, &package.name),
            namespace,
            scheme,
            ranges,
            versions,
            state,
            fixed,
            severity: None,
            note: None,
            cpe: None,
        }))
    }
}

impl OsvEvent {
    fn into_event(self) -> Result<RangeEvent, String> {
        let mut events = [
            self.introduced.map(RangeEvent::Introduced),
            self.fixed.map(RangeEvent::Fixed),
            self.last_affected.map(RangeEvent::LastAffected),
            self.limit.map(RangeEvent::Limit),
        ]
        .into_iter()
        .flatten();
        match (events.next(), events.next()) {
            (Some(event), None) => Ok(event),
            (None, _) => Err("a range event has none of introduced, fixed, last_affected, limit".to_owned()),
            (Some(_), Some(_)) => {
                Err("a range event has more than one of introduced, fixed, last_affected, limit".into())
            }
        }
    }
}

/// Maps an OSV ecosystem (`PyPI`, `Debian:12`, `Ubuntu:Pro:18.04:LTS`...) to
/// a namespace and the scheme its versions use. Unknown ecosystems keep
/// their name, lower-cased, with generic version order.
fn ecosystem_namespace(ecosystem: &str) -> (String, Scheme) {
    let (name, release) = match ecosystem.split_once(':') {
        Some((name, release)) => (name, Some(release)),
        None => (ecosystem, None),
    };
    let language = |namespace: &str, scheme: Scheme| (namespace.to_owned(), scheme);
    let distro = |id: &str, release: Option<&str>, scheme: Scheme| match release.filter(|r| !r.is_empty()) {
        Some(release) => (namespace::distro(id, release), scheme),
        None => (id.to_owned(), scheme),
    };
    match name {
        "PyPI" => language(namespace::PYPI, Scheme::Pep440),
        "npm" => language(namespace::NPM, Scheme::Npm),
        "Go" => language(namespace::GO, Scheme::Go),
        "crates.io" => language(namespace::CRATES_IO, Scheme::Cargo),
        // The suffix, when present, is a repository URL, not a namespace.
        "Maven" => language(namespace::MAVEN, Scheme::Maven),
        "RubyGems" => language(namespace::RUBYGEMS, Scheme::RubyGems),
        "Packagist" => language(namespace::PACKAGIST, Scheme::Composer),
        "NuGet" => language(namespace::NUGET, Scheme::NuGet),
        "Debian" => distro("debian", release, Scheme::Dpkg),
        "Ubuntu" => distro("ubuntu", release.and_then(ubuntu_release), Scheme::Dpkg),
        "Alpine" => distro("alpine", release.map(|r| r.trim_start_matches('v')), Scheme::Apk),
        "Rocky Linux" => distro("rocky", release, Scheme::Rpm),
        "AlmaLinux" => distro("almalinux", release, Scheme::Rpm),
        "Mageia" => distro("mageia", release, Scheme::Rpm),
        "Photon OS" => distro("photon", release, Scheme::Rpm),
        "openEuler" => distro("openeuler", release, Scheme::Rpm),
        "Azure Linux" => distro("azurelinux", release, Scheme::Rpm),
        "Wolfi" => distro("wolfi", release, Scheme::Apk),
        "Chainguard" => distro("chainguard", release, Scheme::Apk),
        "Red Hat" => match release.and_then(rhel_major) {
            Some(major) => distro("rhel", Some(major), Scheme::Rpm),
            None => (ecosystem.to_lowercase(), Scheme::Rpm),
        },
        "openSUSE" | "SUSE" => {
            let (id, version) = suse_product(name, release.unwrap_or_default());
            distro(&id, version.as_deref(), Scheme::Rpm)
        }
        _ => (ecosystem.to_lowercase(), Scheme::Generic),
    }
}

/// `22.04:LTS`, `Pro:18.04:LTS`, `Pro:FIPS-updates:18.04:LTS` -> the `YY.MM` part.
fn ubuntu_release(release: &str) -> Option<&str> {
    release.split(':').find(|part| {
        part.split_once('.').is_some_and(|(year, month)| {
            year.len() == 2 && month.len() == 2 && year.chars().chain(month.chars()).all(|c| c.is_ascii_digit())
        })
    })
}

/// `enterprise_linux:9::appstream`, `rhel_eus:9.2::baseos` -> `9`. Other
/// Red Hat products (OpenShift...) have their own streams: `None`.
fn rhel_major(release: &str) -> Option<&str> {
    let mut parts = release.split(':');
    let product = parts.next()?;
    if product != "enterprise_linux" && !product.starts_with("rhel") {
        return None;
    }
    let major = parts.next()?.split('.').next()?;
    (!major.is_empty() && major.chars().all(|c| c.is_ascii_digit())).then_some(major)
}

/// SUSE ecosystems carry the product's marketing name: `openSUSE:Leap 15.5`
/// -> (`opensuse-leap`, `15.5`), `SUSE:Linux Enterprise Server 15 SP5` ->
/// (`sles`, `15.5`), `openSUSE:Tumbleweed` -> (`opensuse-tumbleweed`, none):
/// the `ID` and `VERSION_ID` of the product's os-release.
fn suse_product(vendor: &str, release: &str) -> (String, Option<String>) {
    let words: Vec<&str> = release.split_whitespace().collect();
    let product_words = words.iter().take_while(|word| !word.starts_with(|c: char| c.is_ascii_digit())).count();
    let (product, version) = words.split_at(product_words);
    let version = match version {
        [] => None,
        [major, service_pack] => Some(match service_pack.strip_prefix("SP") {
            Some(service_pack) => format!("{major}.{service_pack}"),
            None => format!("{major} {service_pack}"),
        }),
        parts => Some(parts.join(" ")),
    };
    let id = match product.join(" ").as_str() {
        "Linux Enterprise Server" => "sles".to_owned(),
        "Linux Enterprise Desktop" => "sled".to_owned(),
        "Linux Enterprise Micro" => "sle-micro".to_owned(),
        product => {
            let mut id = vendor.to_lowercase();
            for word in product.split_whitespace() {
                id.push('-');
                id.push_str(&word.to_lowercase());
            }
            id
        }
    };
    (id, version)
}

// ---------------------------------------------------------------------------
// Helpers shared by the ecosystem parsers.
// ---------------------------------------------------------------------------

pub(crate) fn from_json<T: DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T, FormatError> {
    serde_json::from_slice(bytes).map_err(|source| FormatError::Json { path: path.to_owned(), source })
}

pub(crate) fn from_yaml<T: DeserializeOwned>(path: &str, bytes: &[u8]) -> Result<T, FormatError> {
    serde_norway::from_slice(bytes).map_err(|source| FormatError::Yaml { path: path.to_owned(), source })
}

/// YAML cut short is often still valid YAML, only with less in it. YAML
/// emitters end their output with a newline, so a file without one was
/// cut inside its last line. (A cut at a line end goes unnoticed unless it
/// drops a required key.)
pub(crate) fn require_final_newline(path: &str, bytes: &[u8]) -> Result<(), FormatError> {
    if bytes.ends_with(b"\n") {
        Ok(())
    } else {
        Err(FormatError::invalid(path, "does not end with a newline: cut short?"))
    }
}

/// The last component of a `/`- or `\`-separated path.
pub(crate) fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The file name without its last extension.
pub(crate) fn file_stem(path: &str) -> &str {
    let name = file_name(path);
    name.rsplit_once('.').map_or(name, |(stem, _)| stem)
}

pub(crate) fn has_extension(path: &str, extensions: &[&str]) -> bool {
    file_name(path)
        .rsplit_once('.')
        .is_some_and(|(_, extension)| extensions.iter().any(|wanted| extension.eq_ignore_ascii_case(wanted)))
}

/// The directories of `path`, nearest first (`a/b/c.json` -> `b`, `a`).
pub(crate) fn directories(path: &str) -> impl Iterator<Item = &str> {
    path.rsplit(['/', '\\']).skip(1).filter(|dir| !dir.is_empty())
}

/// Text with only whitespace is no text.
pub(crate) fn non_blank(text: Option<String>) -> Option<String> {
    text.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty())
}

pub(crate) fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|existing| existing == value) {
        list.push(value.to_owned());
    }
}

/// The non-empty values, first occurrence kept, in order.
pub(crate) fn distinct(values: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = Vec::new();
    for value in values {
        let value = value.trim();
        if !value.is_empty() {
            push_unique(&mut out, value);
        }
    }
    out
}

/// Alias/related lists: distinct, and never the record's own id.
pub(crate) fn distinct_ids(own_id: &str, ids: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out = distinct(ids);
    out.retain(|id| id != own_id);
    out
}

/// RustSec notices (`informational`: unmaintained, unsound) are advice
/// rather than vulnerabilities: negligible, unless a CVE or a CVSS score
/// rates them as a vulnerability.
pub(crate) fn notice_severity(informational: bool, id: &str, aliases: &[String], cvss: &[Cvss]) -> Option<Severity> {
    let names_a_cve = id.starts_with("CVE-") || aliases.iter().any(|alias| alias.starts_with("CVE-"));
    (informational && !names_a_cve && cvss.is_empty()).then_some(Severity::Negligible)
}

/// A package affected at every version that meets none of the `patched`
/// and `unaffected` requirements (RustSec and rubysec lists): fixed in the
/// floor of each patched requirement; no patched requirement means no fix.
pub(crate) fn affected_unless_patched(
    namespace: &str,
    name: &str,
    scheme: Scheme,
    patched: Vec<String>,
    unaffected: Vec<String>,
) -> Affected {
    let fixed = distinct(patched.iter().filter_map(|requirement| requirement_floor(scheme, requirement)));
    let state = if patched.is_empty() { FixState::NotFixed } else { FixState::Fixed };
    let unaffected: Vec<String> = patched.into_iter().chain(unaffected).collect();
    Affected {
        namespace: namespace.to_owned(),
        package: normalize_package_name(namespace, name),
        scheme,
        ranges: if unaffected.is_empty() {
            Vec::new()
        } else {
            vec![VersionRange::Requirements { affected: None, unaffected }]
        },
        versions: Vec::new(),
        state,
        fixed,
        severity: None,
        note: None,
        cpe: None,
    }
}

/// `CVSS:3.1/AV:N/...` -> `3.1`.
pub(crate) fn cvss_version(vector: &str) -> Option<String> {
    let (version, _) = vector.strip_prefix("CVSS:")?.split_once('/')?;
    (!version.is_empty()).then(|| version.to_owned())
}

/// The lowest version one requirement names as its lower bound: `>= 1.10.4`
/// -> `1.10.4`, `~> 2.1.4, >= 2.1.4.1` -> `2.1.4.1`, `^0.3` -> `0.3`. The
/// requirement is a conjunction of comparators as RubyGems, Cargo and npm
/// (within one `||` alternative) write them. `None` when it names no
/// version from below (`> 1.2`, `< 2`, `*`, `1.x`).
pub(crate) fn requirement_floor(scheme: Scheme, requirement: &str) -> Option<String> {
    // (version, explicit): explicit bounds (`>=`, `=`, bare) are the floor
    // itself; pessimistic ones (`~>`, `^`, `~`) give way to an explicit one
    // when the scheme cannot order the two.
    let mut floor: Option<(&str, bool)> = None;
    let mut upper_end_of_hyphen_range = false;
    for (operator, version) in comparators(requirement) {
        if version == "-" {
            upper_end_of_hyphen_range = true;
            continue;
        }
        if std::mem::take(&mut upper_end_of_hyphen_range) || is_wildcard(version) {
            continue;
        }
        let explicit = match operator {
            "" | "=" | "==" | ">=" => true,
            "~>" | "^" | "~" | "~=" => false,
            _ => continue,
        };
        floor = match floor {
            None => Some((version, explicit)),
            Some((current, current_explicit)) => match scheme.compare(version, current) {
                Ok(order) if order.is_gt() => Some((version, explicit)),
                Ok(_) => Some((current, current_explicit)),
                Err(_) if explicit && !current_explicit => Some((version, explicit)),
                Err(_) => Some((current, current_explicit)),
            },
        };
    }
    floor.map(|(version, _)| version.to_owned())
}

/// Splits `>= 1.2, < 2` / `>=1.2 <2` into (operator, version) pairs.
fn comparators(requirement: &str) -> Vec<(&str, &str)> {
    let is_separator = |c: char| c.is_whitespace() || c == ',';
    let mut out = Vec::new();
    let mut rest = requirement;
    loop {
        rest = rest.trim_start_matches(is_separator);
        if rest.is_empty() {
            return out;
        }
        let (operator, after) = rest.split_at(rest.find(|c: char| !"<>=!~^".contains(c)).unwrap_or(rest.len()));
        let after = after.trim_start();
        let (version, remaining) = after.split_at(after.find(is_separator).unwrap_or(after.len()));
        if !version.is_empty() {
            out.push((operator, version));
        }
        rest = remaining;
    }
}

/// `*`, `1.x`, `2.2.*`: a set of versions, not one.
fn is_wildcard(version: &str) -> bool {
    version.split('.').any(|part| matches!(part, "x" | "X" | "*"))
}

/// The keys of the top-level object of a JSON document's head (which may
/// end anywhere: the scan stops at the first incomplete string).
pub(crate) fn top_level_json_keys(head: &[u8]) -> Vec<String> {
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut index = 0;
    while let Some(&byte) = head.get(index) {
        match byte {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b'"' => {
                let Some(end) = closing_quote(head, index + 1) else { break };
                let followed_by_colon =
                    head.get(end + 1..).and_then(|rest| rest.iter().find(|b| !b.is_ascii_whitespace())) == Some(&b':');
                if depth == 1 && followed_by_colon {
                    keys.push(String::from_utf8_lossy(head.get(index + 1..end).unwrap_or_default()).into_owned());
                }
                index = end;
            }
            _ => {}
        }
        index += 1;
    }
    keys
}

/// Index of the quote that ends the JSON string starting at `start`.
fn closing_quote(bytes: &[u8], start: usize) -> Option<usize> {
    let mut index = start;
    loop {
        match bytes.get(index)? {
            b'\\' => index += 2,
            b'"' => return Some(index),
            _ => index += 1,
        }
    }
}

/// The keys of a YAML document's top-level mapping: lines starting in
/// column 0 with `key:` (block scalars and continuations are indented, so
/// they never start there).
pub(crate) fn top_level_yaml_keys(head: &[u8]) -> Vec<String> {
    head.split(|&byte| byte == b'\n')
        .filter_map(|line| {
            // The head may cut the last line inside a character: skip it.
            let line = std::str::from_utf8(line).ok()?;
            if !line.starts_with(|c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '"' | '\'')) {
                return None;
            }
            let (key, value) = line.split_once(':')?;
            (value.is_empty() || value.starts_with(char::is_whitespace))
                .then(|| key.trim().trim_matches(['"', '\'']).to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisory(path: &str, text: &str) -> Advisory {
        crate::formats::single_advisory(parse(path, text.as_bytes()).unwrap())
    }

    #[test]
    fn ecosystems_map_to_namespaces_and_schemes() {
        let cases = [
            ("PyPI", "pypi", Scheme::Pep440),
            ("crates.io", "crates.io", Scheme::Cargo),
            ("Maven:https://maven.google.com", "maven", Scheme::Maven),
            ("Debian:12", "debian:12", Scheme::Dpkg),
            ("Alpine:v3.19", "alpine:3.19", Scheme::Apk),
            ("Ubuntu:22.04:LTS", "ubuntu:22.04", Scheme::Dpkg),
            ("Ubuntu:Pro:FIPS-updates:18.04:LTS", "ubuntu:18.04", Scheme::Dpkg),
            ("Ubuntu:24.10", "ubuntu:24.10", Scheme::Dpkg),
            ("Rocky Linux:9", "rocky:9", Scheme::Rpm),
            ("AlmaLinux:8", "almalinux:8", Scheme::Rpm),
            ("Red Hat:enterprise_linux:9::appstream", "rhel:9", Scheme::Rpm),
            ("Red Hat:rhel_eus:8.4::baseos", "rhel:8", Scheme::Rpm),
            ("Red Hat:openshift:4.14::el9", "red hat:openshift:4.14::el9", Scheme::Rpm),
            ("openSUSE:Leap 15.5", "opensuse-leap:15.5", Scheme::Rpm),
            ("openSUSE:Tumbleweed", "opensuse-tumbleweed", Scheme::Rpm),
            ("SUSE:Linux Enterprise Server 15 SP5", "sles:15.5", Scheme::Rpm),
            ("SUSE:Linux Enterprise Micro 5.5", "sle-micro:5.5", Scheme::Rpm),
            ("Hex", "hex", Scheme::Generic),
            ("GitHub Actions", "github actions", Scheme::Generic),
        ];
        for (ecosystem, namespace, scheme) in cases {
            assert_eq!(ecosystem_namespace(ecosystem), (namespace.to_owned(), scheme), "{ecosystem}");
        }
    }

    #[test]
    fn requirement_floors() {
        let floor = |requirement| requirement_floor(Scheme::RubyGems, requirement);
        assert_eq!(floor(">= 1.10.4").as_deref(), Some("1.10.4"));
        // The explicit bound wins over the pessimistic one even while the
        // scheme cannot order them.
        assert_eq!(floor("~> 2.1.4, >= 2.1.4.1").as_deref(), Some("2.1.4.1"));
        assert_eq!(floor("~> 2.6.8").as_deref(), Some("2.6.8"));
        assert_eq!(floor("= 1.2.3").as_deref(), Some("1.2.3"));
        assert_eq!(floor(">=1.5.2 <2.0.0").as_deref(), Some("1.5.2"));
        assert_eq!(floor("1.2.3 - 2.3.4").as_deref(), Some("1.2.3"));
        assert_eq!(floor("> 1.2.3"), None);
        assert_eq!(floor("< 2.0"), None);
        assert_eq!(floor(">= 2.2.x"), None);
        assert_eq!(floor("*"), None);
        assert_eq!(floor(""), None);
    }

    #[test]
    fn top_level_keys_skip_nested_ones_and_stop_at_the_cut() {
        let json = br#"{"id": "X", "nested": {"affected": 1, "list": ["modified", "a:b"]}, "summary": "s\"q", "cut"#;
        assert_eq!(top_level_json_keys(json), ["id", "nested", "summary"]);
        let yaml = b"---\nid: PYSEC-1\ndetails: long\n  text: not a key\naffected:\n- package:\n    name: x\nurl: http://x\n\xc3";
        assert_eq!(top_level_yaml_keys(yaml), ["id", "details", "affected", "url"]);
    }

    #[test]
    fn recognizes_osv_and_nothing_else() {
        assert!(recognizes("data/osv/GO-2022-1059.json", br#"{"schema_version": "1.3.1", "id": "GO-2022-1059""#));
        assert!(recognizes("x/RUSTSEC-2020-0071.json", br#"{"id": "RUSTSEC-2020-0071", "modified": "2024"#));
        assert!(recognizes("osv-pypi/vulns/requests/PYSEC-2018-28.yaml", b"id: PYSEC-2018-28\ndetails: The Req"));
        assert!(!recognizes("elsewhere/PYSEC-2018-28.yaml", b"id: PYSEC-2018-28\ndetails: The Req"));
        // CVE 5 records carry `id` and `affected`, but nested.
        let cve5 = br#"{"dataType": "CVE_RECORD", "containers": {"cna": {"affected": []}, "adp": [{"id": "CVE-1"}]}}"#;
        assert!(!recognizes("2024/1xxx/CVE-2024-1.json", cve5));
        // NVD: `id` and `affected`, but `lastModified`; node security WG: `id` and `updated_at`.
        let nvd = br#"{"id": "CVE-2018-18074", "lastModified": "x", "affected": []}"#;
        assert!(!recognizes("CVE-2018-18074.json", nvd));
        assert!(!recognizes("vuln/npm/1.json", br#"{"id": 1, "created_at": "2015-10-17", "updated_at": "x"}"#));
        assert!(!recognizes("vulns/x/README.md", b"id: x\nmodified: y"));
    }

    #[test]
    fn events_ranges_and_fix_state() {
        let text = r#"{
          "id": "TEST-1", "modified": "2024-01-01T00:00:00Z", "aliases": ["CVE-1", "TEST-1", "CVE-1"],
          "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}, {"type": "CVSS_V2", "score": "AV:N/AC:L"},
                       {"type": "Ubuntu", "score": "high"}, {"type": "CVSS_V3", "score": "AV:N"}],
          "affected": [
            {"package": {"ecosystem": "PyPI", "name": "Zope.Interface"},
             "ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "0"}, {"fixed": "abc"}]},
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}, {"introduced": "2.0"}, {"fixed": "2.1"}]}],
             "versions": ["0.9"]},
            {"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}]}]},
            {"package": {"ecosystem": "npm", "name": "b"},
             "ranges": [{"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"last_affected": "1.2.0"}]}]},
            {"package": {"ecosystem": "npm", "name": "c"}, "versions": ["1.0.0"]},
            {"package": {"ecosystem": "npm", "name": "d"}, "ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "0"}]}]},
            {"ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "0"}]}]}
          ]
        }"#;
        let advisory = advisory("TEST-1.json", text);
        assert_eq!(advisory.aliases, ["CVE-1"]);
        assert_eq!(advisory.cvss.len(), 2);
        assert_eq!((advisory.cvss[0].version.as_str(), advisory.cvss[0].source.as_deref()), ("3.1", Some("osv")));
        assert_eq!(advisory.cvss[1].version, "2.0");
        let [pypi, not_fixed, last_affected, versions_only] = advisory.affected.as_slice() else {
            panic!("GIT-only and package-less entries must be dropped: {:?}", advisory.affected)
        };
        assert_eq!((pypi.package.as_str(), pypi.scheme), ("zope-interface", Scheme::Pep440));
        assert_eq!(pypi.ranges.len(), 1, "the GIT range is dropped");
        assert_eq!(pypi.fixed, ["1.0", "2.1"]);
        assert_eq!(pypi.state, FixState::Fixed);
        assert_eq!(pypi.versions, ["0.9"]);
        assert_eq!(not_fixed.state, FixState::NotFixed);
        assert_eq!(last_affected.state, FixState::Unknown);
        assert_eq!(versions_only.state, FixState::Unknown);
    }

    #[test]
    fn rustsec_notices_are_negligible_unless_rated() {
        let notice = |aliases: &str, severity: &str| {
            format!(
                r#"{{"id": "RUSTSEC-2099-0001", "modified": "m", "aliases": [{aliases}], "severity": [{severity}],
                   "affected": [{{"package": {{"ecosystem": "crates.io", "name": "x"}},
                                 "database_specific": {{"informational": "unmaintained"}},
                                 "ranges": [{{"type": "SEMVER", "events": [{{"introduced": "0.0.0-0"}}]}}]}}]}}"#
            )
        };
        let cvss = r#"{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}"#;
        assert_eq!(advisory("a.json", &notice("", "")).severity, Some(Severity::Negligible));
        assert_eq!(advisory("a.json", &notice(r#""CVE-2099-1""#, "")).severity, None);
        let rated = advisory("a.json", &notice("", cvss));
        assert_eq!((rated.severity, rated.cvss[0].source.as_deref()), (None, Some("rustsec")));
    }

    #[test]
    fn garbled_records_are_errors_naming_the_file() {
        let cases: [(&str, &str); 4] = [
            ("cut.json", r#"{"id": "X", "modified": "m", "affected": [{"package""#),
            ("no-modified.json", r#"{"id": "X"}"#),
            (
                "two-events.json",
                r#"{"id": "X", "modified": "m", "affected": [{"package": {"ecosystem": "npm", "name": "a"}, "ranges": [{"type": "SEMVER", "events": [{"introduced": "0", "fixed": "1"}]}]}]}"#,
            ),
            ("cut.yaml", "id: X\nmodified: m\naffected:\n- package: {name: a"),
        ];
        for (path, text) in cases {
            let error = parse(path, text.as_bytes()).unwrap_err();
            assert!(error.to_string().starts_with(path), "{error}");
        }
    }
}
