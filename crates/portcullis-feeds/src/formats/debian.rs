//! Debian security tracker data, in the three shapes it is published in:
//!
//! * the tracker's JSON export (`https://security-tracker.debian.org/tracker/data/json`):
//!   `{source package: {CVE or TEMP id: {description, releases: {codename: {status,
//!   fixed_version, urgency, nodsa, nodsa_reason}}}}}`;
//! * aquasecurity vuln-list-debian's per-record files (`tracker/CVE/YYYY/CVE-*.json`, and the
//!   same for DSA/DLA ids): one entry of the tracker's `data/CVE/list`, one `Annotations[]`
//!   item per line;
//! * the tracker's native advisory lists (`data/DSA/list`, `data/DLA/list`).
//!
//! Each shape yields one [`Advisory`] per tracker id (CVE, `TEMP-`, DSA, DLA ids are kept as
//! written) with one [`Affected`] per (source package, release), in namespace
//! `debian:<version>` ([`RELEASES`]; `sid` is `debian:unstable`). Lines for a codename
//! outside that table (`experimental`, a release newer than the table) are skipped and
//! counted in [`DebianParse::unknown_releases`].
//!
//! Urgencies become [`Affected::severity`]: `unimportant` and `end-of-life` are
//! [`Severity::Negligible`]; `low`, `medium`, `high` (also with the `**` the tracker appends
//! when the urgency was derived from NVD) are Low, Medium, High; `not yet assigned` is
//! [`Severity::Unknown`].

use std::collections::BTreeMap;
use std::fmt;

use portcullis_vulndb::{
    Advisory, Affected, FixState, RangeEvent, Record, Scheme, Severity, VersionRange, namespace, normalize_package_name,
};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::FormatError;

/// Debian codenames and the release number used in the namespace. The releases before 4.0
/// keep their minor number because it names a distinct release (woody 3.0, sarge 3.1).
pub const RELEASES: &[(&str, &str)] = &[
    ("buzz", "1.1"),
    ("rex", "1.2"),
    ("bo", "1.3"),
    ("hamm", "2.0"),
    ("slink", "2.1"),
    ("potato", "2.2"),
    ("woody", "3.0"),
    ("sarge", "3.1"),
    ("etch", "4"),
    ("lenny", "5"),
    ("squeeze", "6"),
    ("wheezy", "7"),
    ("jessie", "8"),
    ("stretch", "9"),
    ("buster", "10"),
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("forky", "14"),
    ("duke", "15"),
    ("sid", "unstable"),
];

/// Releases that take the unstable line of a package in a vuln-list annotation file when
/// they have no line of their own (the tracker compares their version with the sid fix).
const RELEASES_INHERITING_SID: &[&str] = &["buster", "bullseye", "bookworm", "trixie"];

/// What one tracker file yields, with what was left out.
#[derive(Debug, Default)]
pub struct DebianParse {
    pub records: Vec<Record>,
    /// Lines skipped because their codename is not in [`RELEASES`], by codename.
    pub unknown_releases: BTreeMap<String, usize>,
}

/// The namespace of a Debian codename (`bookworm` -> `debian:12`).
pub fn release_namespace(codename: &str) -> Option<String> {
    RELEASES.iter().find(|(name, _)| *name == codename).map(|(_, version)| namespace::distro("debian", version))
}

pub fn recognizes(path: &str, head: &[u8]) -> bool {
    let head = String::from_utf8_lossy(head);
    if path.ends_with(".json") {
        is_annotation_json(&head) || is_tracker_json(&head)
    } else {
        head.lines()
            .next()
            .and_then(|line| parse_list_header(line).ok())
            .is_some_and(|header| is_advisory_id(header.id))
    }
}

pub fn parse(path: &str, bytes: &[u8]) -> Result<Vec<Record>, FormatError> {
    parse_with_report(path, bytes).map(|parsed| parsed.records)
}

/// [`parse`], also reporting the lines skipped for an unknown codename.
pub fn parse_with_report(path: &str, bytes: &[u8]) -> Result<DebianParse, FormatError> {
    let mut parsed = DebianParse::default();
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    parsed.records = match first {
        Some(b'{') => {
            let head = String::from_utf8_lossy(bytes.get(..4096).unwrap_or(bytes));
            if is_annotation_json(&head) {
                parse_annotation_file(path, bytes, &mut parsed.unknown_releases)?
            } else {
                parse_tracker_json(path, bytes, &mut parsed.unknown_releases)?
            }
        }
        Some(b'[') => parse_advisory_list(path, bytes, &mut parsed.unknown_releases)?,
        _ => return Err(FormatError::invalid(path, "neither tracker JSON nor a DSA/DLA list")),
    };
    Ok(parsed)
}

fn is_annotation_json(head: &str) -> bool {
    head.contains("\"Annotations\"") && head.contains("\"Header\"")
}

fn is_tracker_json(head: &str) -> bool {
    head.contains("\"releases\"") && (head.contains("\"urgency\"") || head.contains("\"repositories\""))
}

fn json_error(path: &str) -> impl Fn(serde_json::Error) -> FormatError + '_ {
    move |source| FormatError::Json { path: path.to_owned(), source }
}

/// The namespace of `codename`, or `None` after counting it as unknown.
fn known_namespace(codename: &str, unknown: &mut BTreeMap<String, usize>) -> Option<String> {
    let namespace = release_namespace(codename);
    if namespace.is_none() {
        *unknown.entry(codename.to_owned()).or_default() += 1;
    }
    namespace
}

fn debian_affected(namespace: String, package: &str, state: FixState) -> Affected {
    Affected {
        package: normalize_package_name(&namespace, package),
        namespace,
        scheme: Scheme::Dpkg,
        ranges: Vec::new(),
        versions: Vec::new(),
        state,
        fixed: Vec::new(),
        severity: None,
        note: None,
        cpe: None,
    }
}

/// Fixed in `version`: a tracker version `0` means the release never had the flaw.
fn set_fixed_version(affected: &mut Affected, version: &str) {
    if version == "0" {
        affected.state = FixState::NotAffected;
    } else {
        affected.state = FixState::Fixed;
        affected.ranges = vec![VersionRange::Events {
            events: vec![RangeEvent::Introduced("0".to_owned()), RangeEvent::Fixed(version.to_owned())],
        }];
        affected.fixed = vec![version.to_owned()];
    }
}

fn urgency_severity(urgency: &str) -> Option<Severity> {
    let urgency = urgency.trim().trim_end_matches('*');
    if urgency == "end-of-life" { Some(Severity::Negligible) } else { Severity::from_label(urgency) }
}

/// `kind: detail`, as the tracker shows a no-dsa or end-of-life decision.
fn decision_note(kind: &str, detail: Option<&str>) -> String {
    match detail.map(str::trim).filter(|detail| !detail.is_empty()) {
        Some(detail) => format!("{kind}: {detail}"),
        None => kind.to_owned(),
    }
}

fn push_unique(list: &mut Vec<String>, value: &str, own_id: &str) {
    if value != own_id && !list.iter().any(|existing| existing == value) {
        list.push(value.to_owned());
    }
}

// ---------------------------------------------------------------------------------------------
// The tracker's list syntax, shared by the vuln-list annotations and the DSA/DLA lists.

/// One package line: `- pkg 1.2-3 (low)`, `[bookworm] - pkg <no-dsa> (Minor issue)`.
struct PackageLine<'a> {
    package: &'a str,
    /// `fixed` (with a version), `unfixed`, `no-dsa`, `ignored`, `postponed`,
    /// `not-affected`, `end-of-life`, `undetermined`, `removed`, `itp`.
    kind: &'a str,
    version: Option<&'a str>,
    /// The parenthesised free text of a decision (`Minor issue`).
    detail: Option<&'a str>,
}

/// What a package line says for `namespace`; `None` for lines about packages that are not
/// in the archive (`removed`, `itp`), which describe no installed version.
fn line_affected(line: &PackageLine<'_>, namespace: String) -> Result<Option<Affected>, String> {
    let mut affected = debian_affected(namespace, line.package, FixState::NotFixed);
    match line.kind {
        "fixed" => match line.version.map(str::trim).filter(|version| !version.is_empty()) {
            Some(version) => set_fixed_version(&mut affected, version),
            None => return Err(format!("package {}: fixed without a version", line.package)),
        },
        "unfixed" => {}
        "end-of-life" => {
            affected.severity = Some(Severity::Negligible);
            affected.note = Some(decision_note(line.kind, line.detail));
        }
        "no-dsa" | "ignored" | "postponed" => {
            affected.state = FixState::WontFix;
            affected.note = Some(decision_note(line.kind, line.detail));
        }
        "not-affected" => {
            affected.state = FixState::NotAffected;
            affected.note = line.detail.map(str::to_owned);
        }
        "undetermined" => affected.state = FixState::Unknown,
        "removed" | "itp" => return Ok(None),
        other => return Err(format!("package {}: unknown line kind <{other}>", line.package)),
    }
    Ok(Some(affected))
}

// ---------------------------------------------------------------------------------------------
// The tracker JSON export.

#[derive(Deserialize)]
struct TrackerIssue {
    #[serde(default)]
    description: Option<String>,
    #[serde(default, deserialize_with = "releases_map")]
    releases: BTreeMap<String, TrackerRelease>,
}

#[derive(Deserialize)]
struct TrackerRelease {
    status: String,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    /// The no-dsa comment (`Minor issue`); present, even empty, when the release is no-dsa.
    #[serde(default)]
    nodsa: Option<String>,
    /// `ignored`, `postponed` or empty (plain no-dsa).
    #[serde(default)]
    nodsa_reason: Option<String>,
}

/// The tracker writes an issue without releases as `[]` instead of `{}`.
fn releases_map<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, TrackerRelease>, D::Error> {
    struct ReleasesVisitor;

    impl<'de> Visitor<'de> for ReleasesVisitor {
        type Value = BTreeMap<String, TrackerRelease>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of releases (or an empty list)")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut releases = BTreeMap::new();
            while let Some((codename, release)) = map.next_entry()? {
                releases.insert(codename, release);
            }
            Ok(releases)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            match seq.next_element::<de::IgnoredAny>()? {
                None => Ok(BTreeMap::new()),
                Some(_) => Err(de::Error::custom("releases is a non-empty list, expected a map")),
            }
        }
    }

    deserializer.deserialize_any(ReleasesVisitor)
}

fn parse_tracker_json(
    path: &str,
    bytes: &[u8],
    unknown: &mut BTreeMap<String, usize>,
) -> Result<Vec<Record>, FormatError> {
    let packages: BTreeMap<String, BTreeMap<String, TrackerIssue>> =
        serde_json::from_slice(bytes).map_err(json_error(path))?;
    let mut advisories: BTreeMap<String, Advisory> = BTreeMap::new();
    for (package, issues) in &packages {
        for (id, issue) in issues {
            let advisory =
                advisories.entry(id.clone()).or_insert_with(|| Advisory { id: id.clone(), ..Advisory::default() });
            if advisory.description.is_none() {
                advisory.description = issue.description.clone().filter(|text| !text.trim().is_empty());
            }
            for (codename, release) in &issue.releases {
                let Some(namespace) = known_namespace(codename, unknown) else { continue };
                let affected = tracker_release_affected(namespace, package, release).map_err(|reason| {
                    FormatError::invalid(path, format!("{id}, package {package}, release {codename}: {reason}"))
                })?;
                advisory.affected.push(affected);
            }
        }
    }
    Ok(advisories.into_values().map(|advisory| Record::Advisory(Box::new(advisory))).collect())
}

fn tracker_release_affected(namespace: String, package: &str, release: &TrackerRelease) -> Result<Affected, String> {
    let mut affected = debian_affected(namespace, package, FixState::NotFixed);
    let urgency = release.urgency.as_deref().unwrap_or_default();
    affected.severity = urgency_severity(urgency);
    match release.status.as_str() {
        "resolved" => match release.fixed_version.as_deref().map(str::trim).filter(|version| !version.is_empty()) {
            Some(version) => set_fixed_version(&mut affected, version),
            // Resolved means the release's version is not vulnerable; with no version named
            // there is no older vulnerable version to describe.
            None => affected.state = FixState::NotAffected,
        },
        "open" => {
            let reason = release.nodsa_reason.as_deref().map(str::trim).unwrap_or_default();
            if release.nodsa.is_some() || matches!(reason, "ignored" | "postponed") {
                affected.state = FixState::WontFix;
                let kind = if reason.is_empty() { "no-dsa" } else { reason };
                affected.note = Some(decision_note(kind, release.nodsa.as_deref()));
            } else if urgency.trim() == "end-of-life" {
                affected.note = Some("end-of-life".to_owned());
            }
        }
        "undetermined" => affected.state = FixState::Unknown,
        other => return Err(format!("unknown status {other:?}")),
    }
    Ok(affected)
}

// ---------------------------------------------------------------------------------------------
// vuln-list-debian annotation files.

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AnnotationFile {
    header: AnnotationHeader,
    #[serde(default)]
    annotations: Vec<Annotation>,
}

#[derive(Deserialize)]
struct AnnotationHeader {
    #[serde(rename = "ID")]
    id: String,
    #[serde(rename = "Description", default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Annotation {
    /// `package`, `xref`, `NOTE`, `TODO`, `RESERVED`, `REJECTED`, `NOT-FOR-US`.
    #[serde(rename = "Type")]
    line_type: String,
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    bugs: Vec<String>,
}

impl Annotation {
    fn package_line(&self) -> Result<PackageLine<'_>, String> {
        Ok(PackageLine {
            package: self.package.as_deref().filter(|name| !name.is_empty()).ok_or("package line without Package")?,
            kind: self.kind.as_deref().ok_or("package line without Kind")?,
            version: self.version.as_deref(),
            detail: self.description.as_deref(),
        })
    }

    fn severity(&self) -> Option<Severity> {
        self.severity.as_deref().and_then(urgency_severity)
    }
}

/// The list header's description: `(NVD's text, cut ...)` or `[the tracker's own summary]`.
fn header_description(text: &str) -> Option<String> {
    let text = text.trim();
    let inner = text
        .strip_prefix('(')
        .and_then(|rest| rest.strip_suffix(')'))
        .or_else(|| text.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')))
        .unwrap_or(text)
        .trim();
    (!inner.is_empty()).then(|| inner.to_owned())
}

fn parse_annotation_file(
    path: &str,
    bytes: &[u8],
    unknown: &mut BTreeMap<String, usize>,
) -> Result<Vec<Record>, FormatError> {
    let file: AnnotationFile = serde_json::from_slice(bytes).map_err(json_error(path))?;
    let id = file.header.id.trim().to_owned();
    if id.is_empty() {
        return Err(FormatError::invalid(path, "Header.ID is empty"));
    }
    let mut advisory = Advisory {
        description: file.header.description.as_deref().and_then(header_description),
        ..Advisory::default()
    };
    // A package's lines, in file order; the tracker keys every decision by (package, release).
    let mut packages: Vec<(&str, Vec<&Annotation>)> = Vec::new();
    for annotation in &file.annotations {
        match annotation.line_type.as_str() {
            "package" => {
                let package = annotation.package.as_deref().unwrap_or_default();
                match packages.iter_mut().find(|(name, _)| *name == package) {
                    Some((_, lines)) => lines.push(annotation),
                    None => packages.push((package, vec![annotation])),
                }
            }
            // A DSA's xrefs are the CVEs it fixes (the same vulnerabilities); a CVE's xrefs are
            // the DSAs/DLAs that fixed it together with other CVEs (related, not the same).
            "xref" if is_advisory_id(&id) => {
                annotation.bugs.iter().for_each(|bug| push_unique(&mut advisory.aliases, bug, &id))
            }
            "xref" => annotation.bugs.iter().for_each(|bug| push_unique(&mut advisory.related, bug, &id)),
            // The list carries no date for a rejection; the marker is what makes it withdrawn.
            "REJECTED" => advisory.withdrawn = Some("REJECTED".to_owned()),
            _ => {}
        }
    }
    for (_, lines) in &packages {
        package_affected(lines, &mut advisory.affected, unknown)
            .map_err(|reason| FormatError::invalid(path, format!("{id}: {reason}")))?;
    }
    advisory.id = id;
    Ok(vec![Record::Advisory(Box::new(advisory))])
}

fn is_advisory_id(id: &str) -> bool {
    ["DSA-", "DLA-", "DTSA-"].iter().any(|prefix| id.starts_with(prefix))
}

/// The Affected entries of one package's lines, with the tracker's release semantics: a
/// release line decides for its release; a supported release without one takes the sid line.
fn package_affected(
    lines: &[&Annotation],
    out: &mut Vec<Affected>,
    unknown: &mut BTreeMap<String, usize>,
) -> Result<(), String> {
    let unstable = |line: &Annotation| -> Result<Option<Affected>, String> {
        let affected = line_affected(&line.package_line()?, namespace::distro("debian", "unstable"))?;
        Ok(affected.map(|affected| Affected { severity: affected.severity.or(line.severity()), ..affected }))
    };
    let sid = match lines.iter().find(|line| line.release.is_none()) {
        Some(line) => unstable(line)?,
        None => None,
    };
    for line in lines {
        let Some(codename) = line.release.as_deref() else {
            out.extend(unstable(line)?);
            continue;
        };
        let Some(namespace) = known_namespace(codename, unknown) else { continue };
        let Some(mut affected) = line_affected(&line.package_line()?, namespace)? else { continue };
        if affected.state == FixState::WontFix {
            // A no-dsa decision is not a package note of its own: the tracker still judges the
            // release by the sid line (vulnerable below the sid fix) and with its urgency.
            if let Some(sid) = sid.as_ref() {
                if sid.state == FixState::Fixed {
                    affected.ranges = sid.ranges.clone();
                }
                affected.severity = affected.severity.or(sid.severity);
            }
        }
        affected.severity = affected.severity.or(line.severity());
        out.push(affected);
    }
    if let Some(sid) = sid.as_ref() {
        for codename in RELEASES_INHERITING_SID {
            if lines.iter().any(|line| line.release.as_deref() == Some(*codename)) {
                continue;
            }
            if let Some(namespace) = release_namespace(codename) {
                out.push(Affected { namespace, ..sid.clone() });
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// DSA / DLA lists.

struct ListHeader<'a> {
    date: &'a str,
    id: &'a str,
    summary: &'a str,
}

/// `[29 Mar 2023] DSA-5380-1 xorg-server - security update`
fn parse_list_header(line: &str) -> Result<ListHeader<'_>, String> {
    let (date, rest) =
        line.strip_prefix('[').and_then(|rest| rest.split_once(']')).ok_or("expected `[date] ID ...`")?;
    let (id, summary) = split_word(rest.trim());
    if id.is_empty() {
        return Err("advisory header without an id".to_owned());
    }
    Ok(ListHeader { date: date.trim(), id, summary })
}

fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    match text.find(char::is_whitespace) {
        Some(end) => (&text[..end], text[end..].trim()),
        None => (text, ""),
    }
}

/// `29 Mar 2023` -> `2023-03-29`.
fn iso_date(date: &str) -> Result<String, String> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let invalid = || format!("invalid date {date:?}, expected `DD Mon YYYY`");
    let mut parts = date.split_whitespace();
    let (Some(day), Some(month), Some(year), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let day: u8 = day.parse().map_err(|_| invalid())?;
    let month = MONTHS.iter().position(|name| *name == month).ok_or_else(invalid)? + 1;
    let year: u16 = year.parse().map_err(|_| invalid())?;
    if !(1..=31).contains(&day) {
        return Err(invalid());
    }
    Ok(format!("{year:04}-{month:02}-{day:02}"))
}

/// `[bookworm] - pkg 1.2-3`, `[lenny] - pkg <not-affected> (Vulnerable code not present)`.
fn parse_list_release_line(line: &str) -> Result<(&str, PackageLine<'_>), String> {
    let invalid = || format!("expected `[release] - package version`, got {line:?}");
    let (codename, rest) = line.strip_prefix('[').and_then(|rest| rest.split_once(']')).ok_or_else(invalid)?;
    let rest = rest.trim_start().strip_prefix('-').ok_or_else(invalid)?;
    let (package, rest) = split_word(rest);
    if package.is_empty() {
        return Err(invalid());
    }
    let (kind, version, rest) = match rest.strip_prefix('<') {
        Some(pseudo) => {
            let (kind, rest) = pseudo.split_once('>').ok_or_else(invalid)?;
            (kind, None, rest.trim())
        }
        None => {
            let (version, rest) = split_word(rest);
            if version.is_empty() { ("unfixed", None, rest) } else { ("fixed", Some(version), rest) }
        }
    };
    let detail = rest.strip_prefix('(').and_then(|inner| inner.strip_suffix(')')).unwrap_or(rest).trim();
    let detail = (!detail.is_empty()).then_some(detail);
    Ok((codename.trim(), PackageLine { package, kind, version, detail }))
}

fn parse_advisory_list(
    path: &str,
    bytes: &[u8],
    unknown: &mut BTreeMap<String, usize>,
) -> Result<Vec<Record>, FormatError> {
    let text = std::str::from_utf8(bytes).map_err(|e| FormatError::invalid(path, format!("not UTF-8: {e}")))?;
    let mut advisories: Vec<Advisory> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let at_line = |reason: String| FormatError::invalid(path, format!("line {}: {reason}", index + 1));
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if !line.starts_with(char::is_whitespace) {
            let header = parse_list_header(trimmed).map_err(at_line)?;
            advisories.push(Advisory {
                id: header.id.to_owned(),
                summary: (!header.summary.is_empty()).then(|| header.summary.to_owned()),
                published: Some(iso_date(header.date).map_err(at_line)?),
                ..Advisory::default()
            });
            continue;
        }
        let advisory =
            advisories.last_mut().ok_or_else(|| at_line("indented line before the first advisory".to_owned()))?;
        if trimmed.starts_with("NOTE:") {
            continue;
        }
        if let Some(ids) = trimmed.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')) {
            let own_id = advisory.id.clone();
            ids.split_whitespace().for_each(|alias| push_unique(&mut advisory.aliases, alias, &own_id));
        } else if trimmed.starts_with('[') {
            let (codename, package_line) = parse_list_release_line(trimmed).map_err(at_line)?;
            let Some(namespace) = known_namespace(codename, unknown) else { continue };
            advisory.affected.extend(line_affected(&package_line, namespace).map_err(at_line)?);
        } else {
            return Err(at_line(format!("unrecognised line {trimmed:?}")));
        }
    }
    Ok(advisories.into_iter().map(|advisory| Record::Advisory(Box::new(advisory))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advisories(records: Vec<Record>) -> Vec<Advisory> {
        records
            .into_iter()
            .map(|record| match record {
                Record::Advisory(advisory) => *advisory,
                other => panic!("not an advisory: {other:?}"),
            })
            .collect()
    }

    fn find<'a>(advisory: &'a Advisory, namespace: &str, package: &str) -> &'a Affected {
        advisory
            .affected
            .iter()
            .find(|affected| affected.namespace == namespace && affected.package == package)
            .unwrap_or_else(|| panic!("{}: no {namespace} {package} in {:?}", advisory.id, advisory.affected))
    }

    #[test]
    fn tracker_json_states_and_severities() {
        let json = br#"{
          "bash": {
            "CVE-2026-2000": {"description": "d", "releases": {
              "trixie": {"status": "open", "urgency": "unimportant", "nodsa": "Minor issue", "nodsa_reason": "postponed"},
              "bookworm": {"status": "open", "urgency": "low**", "nodsa": ""},
              "bullseye": {"status": "open", "urgency": "end-of-life"},
              "sid": {"status": "resolved", "fixed_version": "5.2-1", "urgency": "medium**"},
              "experimental": {"status": "open", "urgency": "low"}
            }},
            "TEMP-0000001-ABCDEF": {"releases": {"sid": {"status": "undetermined", "urgency": "not yet assigned"}}}
          },
          "zsh": {
            "CVE-2026-2000": {"releases": {"sid": {"status": "resolved", "fixed_version": "0", "urgency": "high"}}},
            "CVE-2026-3000": {"releases": []}
          }
        }"#;
        let parsed = parse_with_report("debian.json", json).unwrap();
        assert_eq!(parsed.unknown_releases, BTreeMap::from([("experimental".to_owned(), 1)]));
        let advisories = advisories(parsed.records);
        let ids: Vec<&str> = advisories.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["CVE-2026-2000", "CVE-2026-3000", "TEMP-0000001-ABCDEF"]);

        let merged = &advisories[0];
        assert_eq!(merged.affected.len(), 5, "bash in four known releases plus zsh in sid");
        let trixie = find(merged, "debian:13", "bash");
        assert_eq!((trixie.state, trixie.severity), (FixState::WontFix, Some(Severity::Negligible)));
        assert_eq!(trixie.note.as_deref(), Some("postponed: Minor issue"));
        let bookworm = find(merged, "debian:12", "bash");
        assert_eq!((bookworm.state, bookworm.severity), (FixState::WontFix, Some(Severity::Low)));
        assert_eq!(bookworm.note.as_deref(), Some("no-dsa"));
        let bullseye = find(merged, "debian:11", "bash");
        assert_eq!((bullseye.state, bullseye.severity), (FixState::NotFixed, Some(Severity::Negligible)));
        assert!(bullseye.ranges.is_empty() && bullseye.versions.is_empty());
        let sid = find(merged, "debian:unstable", "bash");
        assert_eq!(
            (sid.state, sid.severity, sid.fixed.as_slice()),
            (FixState::Fixed, Some(Severity::Medium), &["5.2-1".to_owned()][..])
        );
        assert_eq!(
            sid.ranges,
            [VersionRange::Events {
                events: vec![RangeEvent::Introduced("0".into()), RangeEvent::Fixed("5.2-1".into())]
            }]
        );
        let zsh = find(merged, "debian:unstable", "zsh");
        assert_eq!((zsh.state, zsh.severity), (FixState::NotAffected, Some(Severity::High)));
        assert!(zsh.ranges.is_empty());

        assert!(advisories[1].affected.is_empty());
        let temp = find(&advisories[2], "debian:unstable", "bash");
        assert_eq!((temp.state, temp.severity), (FixState::Unknown, Some(Severity::Unknown)));
    }

    #[test]
    fn tracker_json_rejects_unknown_status_and_garbage() {
        let bad_status = br#"{"bash": {"CVE-1": {"releases": {"sid": {"status": "fixed-ish"}}}}}"#;
        let error = parse("debian.json", bad_status).unwrap_err().to_string();
        assert!(error.contains("debian.json") && error.contains("fixed-ish"), "{error}");
        let truncated = br#"{"bash": {"CVE-1": {"releases": {"sid": {"status": "open""#;
        assert!(matches!(parse("debian.json", truncated), Err(FormatError::Json { .. })));
        let non_empty_list = br#"{"bash": {"CVE-1": {"releases": [1]}}}"#;
        assert!(parse("debian.json", non_empty_list).is_err());
        assert!(parse("debian.json", b"").is_err());
    }

    #[test]
    fn annotation_release_semantics() {
        let json = br#"{"Header": {"ID": "CVE-2030-0001", "Description": "(Some text ...)"},
          "Annotations": [
            {"Type": "package", "Package": "foo", "Kind": "fixed", "Version": "1:2.0-1", "Severity": "low"},
            {"Type": "package", "Release": "bookworm", "Package": "foo", "Kind": "no-dsa", "Description": "Minor issue"},
            {"Type": "package", "Release": "bullseye", "Package": "foo", "Kind": "fixed", "Version": "1:1.0-1+deb11u1"},
            {"Type": "package", "Release": "experimental", "Package": "foo", "Kind": "fixed", "Version": "1:2.0~rc1-1"},
            {"Type": "package", "Package": "bar", "Kind": "removed"},
            {"Type": "package", "Release": "bookworm", "Package": "bar", "Kind": "ignored"},
            {"Type": "xref", "Bugs": ["DSA-1-1", "DSA-1-1"]},
            {"Type": "NOTE", "Description": "whatever"}
          ]}"#;
        assert!(recognizes("tracker/CVE/2030/CVE-2030-0001.json", json));
        let parsed = parse_with_report("CVE-2030-0001.json", json).unwrap();
        assert_eq!(parsed.unknown_releases, BTreeMap::from([("experimental".to_owned(), 1)]));
        let advisory = advisories(parsed.records).remove(0);
        assert_eq!(advisory.description.as_deref(), Some("Some text ..."));
        assert_eq!(advisory.related, ["DSA-1-1"]);
        assert!(advisory.aliases.is_empty());
        let namespaces: Vec<(&str, &str)> =
            advisory.affected.iter().map(|a| (a.namespace.as_str(), a.package.as_str())).collect();
        assert_eq!(
            namespaces,
            [
                ("debian:unstable", "foo"),
                ("debian:12", "foo"),
                ("debian:11", "foo"),
                ("debian:10", "foo"),
                ("debian:13", "foo"),
                ("debian:12", "bar"),
            ]
        );
        let sid_fix = VersionRange::Events {
            events: vec![RangeEvent::Introduced("0".into()), RangeEvent::Fixed("1:2.0-1".into())],
        };
        // no-dsa keeps the sid range (vulnerable below the sid fix) and urgency, names no fix.
        let bookworm = find(&advisory, "debian:12", "foo");
        assert_eq!((bookworm.state, bookworm.severity), (FixState::WontFix, Some(Severity::Low)));
        assert_eq!(bookworm.ranges, std::slice::from_ref(&sid_fix));
        assert!(bookworm.fixed.is_empty());
        assert_eq!(bookworm.note.as_deref(), Some("no-dsa: Minor issue"));
        // A release line of its own has its own (here absent) urgency.
        let bullseye = find(&advisory, "debian:11", "foo");
        assert_eq!((bullseye.state, bullseye.severity), (FixState::Fixed, None));
        assert_eq!(bullseye.fixed, ["1:1.0-1+deb11u1"]);
        // buster and trixie have no line: they take the sid line.
        for inherited in ["debian:10", "debian:13"] {
            let copy = find(&advisory, inherited, "foo");
            assert_eq!(
                (copy.state, copy.severity, &copy.ranges),
                (FixState::Fixed, Some(Severity::Low), &vec![sid_fix.clone()])
            );
        }
        // bar is gone from sid (nothing emitted, nothing inherited) but bookworm ignores it.
        let bar = find(&advisory, "debian:12", "bar");
        assert_eq!((bar.state, bar.ranges.is_empty()), (FixState::WontFix, true));
        assert_eq!(bar.note.as_deref(), Some("ignored"));
    }

    #[test]
    fn annotation_errors_name_the_file() {
        let unknown_kind = br#"{"Header": {"ID": "CVE-1"}, "Annotations": [{"Type": "package", "Package": "foo", "Kind": "mystery"}]}"#;
        let error = parse("CVE-1.json", unknown_kind).unwrap_err().to_string();
        assert!(error.starts_with("CVE-1.json: ") && error.contains("mystery"), "{error}");
        let fixed_without_version =
            br#"{"Header": {"ID": "CVE-1"}, "Annotations": [{"Type": "package", "Package": "foo", "Kind": "fixed"}]}"#;
        assert!(parse("CVE-1.json", fixed_without_version).is_err());
        let truncated = br#"{"Header": {"ID": "CVE-1"}, "Annotations": [{"Type": "package", "#;
        assert!(matches!(parse("CVE-1.json", truncated), Err(FormatError::Json { .. })));
    }

    #[test]
    fn advisory_list_lines() {
        let list = "[29 Mar 2023] DSA-5380-1 xorg-server - security update\n\
                    \t{CVE-2023-1393  CVE-2023-1394}\n\
                    \t[bullseye] - xorg-server 2:1.20.11-1+deb11u6\n\
                    \t[lenny] - vlc <not-affected> (Vulnerable code not present)\n\
                    \t[etch] - clamav <end-of-life>\n\
                    \t[hurd] - foo 1.0\n\
                    \tNOTE: fixed in testing at time of DSA\n\
                    [05 Feb 2007] DSA-1257 samba\n";
        assert!(recognizes("data/DSA/list", list.as_bytes()));
        let parsed = parse_with_report("DSA-list", list.as_bytes()).unwrap();
        assert_eq!(parsed.unknown_releases, BTreeMap::from([("hurd".to_owned(), 1)]));
        let advisories = advisories(parsed.records);
        assert_eq!(advisories.len(), 2);
        let dsa = &advisories[0];
        assert_eq!(dsa.id, "DSA-5380-1");
        assert_eq!(dsa.aliases, ["CVE-2023-1393", "CVE-2023-1394"]);
        assert_eq!(dsa.published.as_deref(), Some("2023-03-29"));
        assert_eq!(dsa.summary.as_deref(), Some("xorg-server - security update"));
        let fixed = find(dsa, "debian:11", "xorg-server");
        assert_eq!((fixed.state, fixed.fixed.as_slice()), (FixState::Fixed, &["2:1.20.11-1+deb11u6".to_owned()][..]));
        let not_affected = find(dsa, "debian:5", "vlc");
        assert_eq!(not_affected.state, FixState::NotAffected);
        assert_eq!(not_affected.note.as_deref(), Some("Vulnerable code not present"));
        let eol = find(dsa, "debian:4", "clamav");
        assert_eq!((eol.state, eol.note.as_deref()), (FixState::NotFixed, Some("end-of-life")));
        assert_eq!((advisories[1].id.as_str(), advisories[1].summary.as_deref()), ("DSA-1257", Some("samba")));
        assert_eq!(advisories[1].published.as_deref(), Some("2007-02-05"));
    }

    #[test]
    fn advisory_list_garbage_is_an_error_with_its_line() {
        let cases: [(&str, &str); 4] = [
            ("\t[bullseye] - foo 1.0\n", "line 1"),
            ("[29 Mar 2023] DSA-1-1 foo\n\tsomething odd\n", "line 2"),
            ("[32 Mar 2023] DSA-1-1 foo\n", "line 1"),
            ("[29 Mar 2023] DSA-1-1 foo\n\t[bullseye] foo 1.0\n", "line 2"),
        ];
        for (text, line) in cases {
            let error = parse("DSA-list", text.as_bytes()).unwrap_err().to_string();
            assert!(error.starts_with("DSA-list: ") && error.contains(line), "{text:?}: {error}");
        }
    }
}
