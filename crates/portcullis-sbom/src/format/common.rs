//! Helpers shared by the CycloneDX and SPDX mappings: purls, licences, time
//! stamps, identifiers, and the conversion of a foreign package description
//! into a native [`Package`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::{Distro, Location, Package, PackageType, SourcePackage};

use super::props::{self, Props};

/// Every package type, for parsing type names.
pub(crate) const PACKAGE_TYPES: [PackageType; 12] = [
    PackageType::Deb,
    PackageType::Rpm,
    PackageType::Apk,
    PackageType::Python,
    PackageType::Npm,
    PackageType::JavaArchive,
    PackageType::GoModule,
    PackageType::RustCrate,
    PackageType::Gem,
    PackageType::PhpComposer,
    PackageType::Dotnet,
    PackageType::Binary,
];

/// The package type named `name` (Portcullis' and syft's names are the same).
pub(crate) fn package_type_named(name: &str) -> Option<PackageType> {
    PACKAGE_TYPES.into_iter().find(|t| t.as_str() == name)
}

/// The package type of a purl type, if Portcullis has one for it.
pub(crate) fn package_type_of_purl(purl_type: &str) -> Option<PackageType> {
    Some(match purl_type.to_ascii_lowercase().as_str() {
        "deb" => PackageType::Deb,
        "rpm" => PackageType::Rpm,
        "apk" => PackageType::Apk,
        "pypi" => PackageType::Python,
        "npm" => PackageType::Npm,
        "maven" => PackageType::JavaArchive,
        "golang" => PackageType::GoModule,
        "cargo" => PackageType::RustCrate,
        "gem" => PackageType::Gem,
        "composer" => PackageType::PhpComposer,
        "nuget" => PackageType::Dotnet,
        "generic" => PackageType::Binary,
        _ => return None,
    })
}

/// A package URL split into its parts, percent-decoded. Lenient: anything
/// after `pkg:` parses, so a sloppy purl in a foreign document never fails a read.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Purl {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: BTreeMap<String, String>,
}

impl Purl {
    pub(crate) fn parse(text: &str) -> Option<Purl> {
        let rest = text.trim().strip_prefix("pkg:")?;
        let rest = rest.trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(before, _subpath)| before);
        let (rest, qualifiers) = match rest.split_once('?') {
            Some((before, q)) => (before, q),
            None => (rest, ""),
        };
        let (kind, path) = rest.split_once('/')?;
        let path = path.trim_end_matches('/');
        let (path, version) = match path.rfind('@') {
            // An `@` in the first segment of an npm namespace (`@scope`) is not a version.
            Some(at) if !path[..at].is_empty() && !path[at..].contains('/') => (&path[..at], Some(&path[at + 1..])),
            _ => (path, None),
        };
        let (namespace, name) = match path.rsplit_once('/') {
            Some((ns, name)) => (Some(ns), name),
            None => (None, path),
        };
        if kind.is_empty() || name.is_empty() {
            return None;
        }
        let qualifiers = qualifiers
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(k, v)| !k.is_empty() && !v.is_empty())
            .map(|(k, v)| (percent_decode(k).to_ascii_lowercase(), percent_decode(v)))
            .collect();
        Some(Purl {
            kind: kind.to_ascii_lowercase(),
            namespace: namespace.map(|ns| ns.split('/').map(percent_decode).collect::<Vec<_>>().join("/")),
            name: percent_decode(name),
            version: version.map(percent_decode),
            qualifiers,
        })
    }
}

pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(value) = u8::from_str_radix(hex, 16)
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How a licence string of the native model is expressed in the standards.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LicenseKind {
    /// A single SPDX licence identifier, spelled exactly as in the SPDX list.
    Id,
    /// A valid SPDX expression that is more than one identifier (`A OR B`,
    /// `GPL-2.0-or-later WITH Classpath-exception-2.0`, `GPL-2.0+`).
    Expression,
    /// Anything else: a free-text licence name.
    Text,
}

/// Classifies a licence string with the SPDX licence list of the `spdx` crate.
/// Expressions referring to `LicenseRef-`/`DocumentRef-` count as free text:
/// their definitions are not in the document.
pub(crate) fn classify_license(text: &str) -> LicenseKind {
    let text = text.trim();
    if spdx::license_id(text).is_some_and(|id| id.name == text) {
        return LicenseKind::Id;
    }
    let mode = spdx::ParseMode {
        allow_slash_as_or_operator: false,
        allow_imprecise_license_names: false,
        allow_postfix_plus_on_gpl: true,
        allow_deprecated: true,
        allow_unknown: false,
    };
    match spdx::Expression::parse_mode(text, mode) {
        Ok(expression)
            if expression.requirements().all(|r| matches!(r.req.license, spdx::LicenseItem::Spdx { .. })) =>
        {
            LicenseKind::Expression
        }
        _ => LicenseKind::Text,
    }
}

/// Splits an SPDX expression at its top-level `AND`s and strips one pair of
/// enclosing parentheses from each part: `A AND (B OR C)` gives `A`, `B OR C`.
/// This undoes how the writers join several licences into one expression.
pub(crate) fn split_top_level_and(expression: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    let bytes = expression.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            b' ' if depth == 0 && expression[i..].starts_with(" AND ") => {
                parts.push(&expression[start..i]);
                i += 5;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&expression[start..]);
    parts.into_iter().map(|part| strip_enclosing_parens(part.trim()).to_owned()).filter(|p| !p.is_empty()).collect()
}

fn strip_enclosing_parens(text: &str) -> &str {
    let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) else {
        return text;
    };
    // Only if the first `(` closes at the very end: `(A) AND (B)` keeps its parentheses.
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 && i != text.len() - 1 {
                    return text;
                }
            }
            _ => {}
        }
    }
    inner.trim()
}

/// RFC 3339 UTC time stamp with second precision (`2024-01-02T03:04:05Z`), the
/// form SPDX requires and CycloneDX accepts.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// 64-bit FNV-1a: a stable, dependency-free hash for identifiers.
pub(crate) fn fnv64(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Keeps ASCII letters, digits, `.` and `-`; anything else becomes `-`.
pub(crate) fn sanitize_idstring(text: &str) -> String {
    let out: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' { c } else { '-' }).collect();
    if out.is_empty() { "unnamed".to_owned() } else { out }
}

/// A hash value from a document or the model's metadata, normalised to the
/// lower-case algorithm names used in native digests (`sha256`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HashValue {
    pub alg: &'static str,
    pub hex: String,
}

/// Algorithms both standards name, with their hex lengths:
/// (native name, CycloneDX name, SPDX name, hex length).
pub(crate) const HASH_ALGORITHMS: [(&str, &str, &str, usize); 5] = [
    ("md5", "MD5", "MD5", 32),
    ("sha1", "SHA-1", "SHA1", 40),
    ("sha256", "SHA-256", "SHA256", 64),
    ("sha384", "SHA-384", "SHA384", 96),
    ("sha512", "SHA-512", "SHA512", 128),
];

impl HashValue {
    /// `alg` in any of the spellings of [`HASH_ALGORITHMS`]; `hex` checked.
    pub(crate) fn new(alg: &str, hex: &str) -> Option<HashValue> {
        let normalized: String = alg.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_lowercase();
        let (native, _, _, len) = HASH_ALGORITHMS.iter().find(|(n, ..)| *n == normalized)?;
        let hex = hex.trim().to_ascii_lowercase();
        (hex.len() == *len && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(HashValue { alg: native, hex })
    }

    pub(crate) fn cyclonedx_alg(&self) -> &'static str {
        HASH_ALGORITHMS.iter().find(|(n, ..)| *n == self.alg).map_or("SHA-256", |a| a.1)
    }

    pub(crate) fn spdx_alg(&self) -> &'static str {
        HASH_ALGORITHMS.iter().find(|(n, ..)| *n == self.alg).map_or("SHA256", |a| a.2)
    }
}

/// A Subresource Integrity value (`sha512-<base64>`, as NuGet and npm write
/// them) as a hex hash.
fn from_subresource_integrity(alg: &str, value: &str) -> Option<HashValue> {
    use base64::Engine as _;
    let encoded = value.strip_prefix(alg)?.strip_prefix('-')?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    HashValue::new(alg, &bytes.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// Package hashes from the model's metadata: keys `md5`, `sha1` (the Java
/// cataloger's archive digest), `sha256`, `sha384`, `sha512` (hex strings),
/// `digests` (array of `alg:hex`), and for Rust crates `checksum` (the
/// SHA-256 of the `.crate` file, from `Cargo.lock`).
pub(crate) fn package_hashes(package: &Package) -> Vec<HashValue> {
    let mut out = Vec::new();
    if package.package_type == PackageType::RustCrate
        && let Some(hex) = package.metadata.get("checksum").and_then(|v| v.as_str())
        && let Some(hash) = HashValue::new("sha256", hex)
    {
        out.push(hash);
    }
    for (native, ..) in HASH_ALGORITHMS {
        if let Some(value) = package.metadata.get(native).and_then(|v| v.as_str())
            && let Some(hash) = HashValue::new(native, value).or_else(|| from_subresource_integrity(native, value))
            && !out.contains(&hash)
        {
            out.push(hash);
        }
    }
    if let Some(digests) = package.metadata.get("digests").and_then(|v| v.as_array()) {
        for digest in digests.iter().filter_map(|d| d.as_str()) {
            if let Some((alg, hex)) = digest.split_once(':')
                && let Some(hash) = HashValue::new(alg, hex)
                && !out.contains(&hash)
            {
                out.push(hash);
            }
        }
    }
    out
}

/// CPE 2.3 strings from the model's metadata (`metadata["cpes"]`).
pub(crate) fn package_cpes(package: &Package) -> Vec<String> {
    package
        .metadata
        .get("cpes")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|c| c.as_str()).filter(|c| !c.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// What a standard document says about one package, before it becomes a
/// native [`Package`].
#[derive(Debug, Default)]
pub(crate) struct ForeignPackage {
    pub name: String,
    pub version: String,
    pub purl: Option<String>,
    pub licenses: Vec<String>,
    pub cpes: Vec<String>,
    pub hashes: Vec<HashValue>,
    pub location_paths: Vec<String>,
    pub found_by: Option<String>,
    /// The producing tool's own type name (syft's `syft:package:type`).
    pub type_hint: Option<String>,
    pub vendor: Option<String>,
    pub maintainer: Option<String>,
    /// Portcullis properties, when Portcullis wrote the document.
    pub props: Props,
}

/// Converts a foreign package. Type: Portcullis' property, else the tool's type
/// name when Portcullis knows it, else the purl type; packages of any other
/// ecosystem are kept as `binary` with `metadata.original_type` saying what
/// they were (the model has no catch-all type).
pub(crate) fn to_package(foreign: ForeignPackage) -> Package {
    let purl = foreign.purl.as_deref().and_then(Purl::parse);
    let props = &foreign.props;
    let (package_type, original_type) = match props::get(props, "portcullis:type").and_then(package_type_named) {
        Some(t) => (t, None),
        None => match (
            foreign.type_hint.as_deref().and_then(package_type_named),
            purl.as_ref().and_then(|p| package_type_of_purl(&p.kind)),
        ) {
            (_, Some(t)) | (Some(t), None) => (t, None),
            (None, None) => (
                PackageType::Binary,
                Some(
                    foreign
                        .type_hint
                        .clone()
                        .or_else(|| purl.as_ref().map(|p| p.kind.clone()))
                        .unwrap_or_else(|| "unknown".to_owned()),
                ),
            ),
        },
    };
    let arch = props::get(props, "portcullis:arch")
        .map(str::to_owned)
        .or_else(|| purl.as_ref().and_then(|p| p.qualifiers.get("arch").cloned()));
    let purl_text = match &foreign.purl {
        Some(p) if !p.trim().is_empty() => p.trim().to_owned(),
        _ => generic_purl(&foreign.name, &foreign.version),
    };
    let mut package = Package::new(package_type, &foreign.name, &foreign.version, arch.as_deref(), purl_text);
    if let Some(id) = props::get(props, "portcullis:id") {
        package.id = id.to_owned();
    }
    package.licenses = foreign.licenses;
    package.source = props::source(props).or_else(|| purl.as_ref().and_then(|p| upstream_source(package_type, p)));
    package.vendor = props::get(props, "portcullis:vendor").map(str::to_owned).or(foreign.vendor);
    package.maintainer = props::get(props, "portcullis:maintainer").map(str::to_owned).or(foreign.maintainer);
    package.installed_size = props::get(props, "portcullis:installed_size").and_then(|v| v.parse().ok());
    package.introduced_in_layer = props::get(props, "portcullis:introduced_in_layer").and_then(|v| v.parse().ok());
    package.found_by = props::get(props, "portcullis:found_by").map(str::to_owned).or(foreign.found_by);
    package.owner = props::get(props, "portcullis:owner").map(str::to_owned);
    let locations = props::locations(props);
    package.locations = if locations.is_empty() {
        foreign
            .location_paths
            .into_iter()
            .map(|path| Location { path, layer_index: None, layer_diff_id: None })
            .collect()
    } else {
        locations
    };
    let metadata = props::metadata(props);
    if props::has_package_props(props) {
        package.metadata = metadata;
    } else {
        if !foreign.cpes.is_empty() {
            package.metadata.insert("cpes".to_owned(), serde_json::json!(foreign.cpes));
        }
        for hash in foreign.hashes {
            package.metadata.entry(hash.alg.to_owned()).or_insert(serde_json::Value::String(hash.hex));
        }
        if let Some(original) = original_type {
            package.metadata.insert("original_type".to_owned(), serde_json::Value::String(original));
        }
    }
    package
}

fn generic_purl(name: &str, version: &str) -> String {
    let encode = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    if version.is_empty() {
        format!("pkg:generic/{}", encode(name))
    } else {
        format!("pkg:generic/{}@{}", encode(name), encode(version))
    }
}

/// The source package from a purl's `upstream` qualifier: `name`, `name@version`,
/// or for rpm a source RPM file name (`name-version-release.src.rpm`).
fn upstream_source(package_type: PackageType, purl: &Purl) -> Option<SourcePackage> {
    let upstream = purl.qualifiers.get("upstream")?;
    if package_type == PackageType::Rpm
        && let Some(nvr) = upstream.strip_suffix(".src.rpm")
    {
        let mut parts = nvr.rsplitn(3, '-');
        let release = parts.next()?;
        let version = parts.next();
        let name = parts.next();
        if let (Some(name), Some(version)) = (name, version) {
            return Some(SourcePackage { name: name.to_owned(), version: Some(format!("{version}-{release}")) });
        }
    }
    Some(match upstream.split_once('@') {
        Some((name, version)) => SourcePackage { name: name.to_owned(), version: Some(version.to_owned()) },
        None => SourcePackage { name: upstream.clone(), version: None },
    })
}

/// Makes package ids unique and sorts packages the way native documents are
/// sorted. Packages with the same id and purl (one package seen by two
/// catalogers, e.g. syft's `requirements.txt` entry and the installed
/// distribution) are merged: locations and licences are united, the first
/// one's other fields kept. Same id with another purl gets `#2`, `#3`...
pub(crate) fn finish_packages(packages: Vec<Package>) -> Vec<Package> {
    let mut out: Vec<Package> = Vec::with_capacity(packages.len());
    let mut by_id: HashMap<String, Vec<usize>> = HashMap::new();
    for mut package in packages {
        let base = package.id.clone();
        let same = by_id.get(&base).and_then(|indexes| indexes.iter().copied().find(|&i| out[i].purl == package.purl));
        if let Some(index) = same {
            let existing = &mut out[index];
            for location in package.locations {
                if !existing.locations.contains(&location) {
                    existing.locations.push(location);
                }
            }
            for license in package.licenses {
                if !existing.licenses.contains(&license) {
                    existing.licenses.push(license);
                }
            }
            continue;
        }
        let entry = by_id.entry(base.clone()).or_default();
        if !entry.is_empty() {
            package.id = format!("{base}#{}", entry.len() + 1);
        }
        entry.push(out.len());
        out.push(package);
    }
    out.sort_by(|a, b| (&a.name, &a.version, &a.id).cmp(&(&b.name, &b.version, &b.id)));
    out
}

/// A distribution guessed from the purls' `distro` qualifiers (`debian-12`),
/// the most frequent one winning, for documents that do not name one.
pub(crate) fn distro_from_purls<'a>(purls: impl Iterator<Item = &'a str>) -> Option<Distro> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for purl in purls {
        if let Some(distro) = Purl::parse(purl).and_then(|p| p.qualifiers.get("distro").cloned()) {
            *counts.entry(distro).or_default() += 1;
        }
    }
    let (qualifier, _) = counts.into_iter().max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(&a.0)))?;
    // `debian-12`, `opensuse-leap-15.5`: the version starts after the last `-` followed by a digit.
    let split = qualifier
        .match_indices('-')
        .map(|(i, _)| i)
        .rfind(|&i| qualifier[i + 1..].starts_with(|c: char| c.is_ascii_digit()));
    let (id, version) = match split {
        Some(i) => (qualifier[..i].to_owned(), Some(qualifier[i + 1..].to_owned())),
        None => (qualifier.clone(), None),
    };
    Some(Distro { id, version_id: version, ..Distro::default() })
}

/// Converts `Name <email>` to SPDX's `Name (email)` and back.
pub(crate) fn spdx_actor(name: &str) -> String {
    let name = name.trim();
    match (name.rfind('<'), name.ends_with('>')) {
        (Some(open), true) => {
            let person = name[..open].trim();
            let email = &name[open + 1..name.len() - 1];
            if person.is_empty() { format!("({email})") } else { format!("{person} ({email})") }
        }
        _ => name.to_owned(),
    }
}

pub(crate) fn from_spdx_actor(actor: &str) -> Option<(ActorKind, String)> {
    let actor = actor.trim();
    let (kind, rest) = if let Some(rest) = actor.strip_prefix("Person:") {
        (ActorKind::Person, rest)
    } else if let Some(rest) = actor.strip_prefix("Organization:") {
        (ActorKind::Organization, rest)
    } else if let Some(rest) = actor.strip_prefix("Tool:") {
        (ActorKind::Tool, rest)
    } else {
        return None;
    };
    let rest = rest.trim();
    if rest.is_empty() || rest == "NOASSERTION" {
        return None;
    }
    let value = match (rest.rfind('('), rest.ends_with(')')) {
        (Some(open), true) => {
            let who = rest[..open].trim();
            let email = &rest[open + 1..rest.len() - 1];
            if email.is_empty() {
                who.to_owned()
            } else if who.is_empty() {
                format!("<{email}>")
            } else {
                format!("{who} <{email}>")
            }
        }
        _ => rest.to_owned(),
    };
    Some((kind, value))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActorKind {
    Person,
    Organization,
    Tool,
}

/// Makes `candidate` unique among `taken` by appending `-2`, `-3`...
pub(crate) fn unique(candidate: String, taken: &mut BTreeSet<String>) -> String {
    if taken.insert(candidate.clone()) {
        return candidate;
    }
    for n in 2.. {
        let next = format!("{candidate}-{n}");
        if taken.insert(next.clone()) {
            return next;
        }
    }
    unreachable!("an unbounded counter always finds a free name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_parse_leniently() {
        let p =
            Purl::parse("pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12&upstream=gcc-12").unwrap();
        assert_eq!(p.kind, "deb");
        assert_eq!(p.namespace.as_deref(), Some("debian"));
        assert_eq!(p.name, "libstdc++6");
        assert_eq!(p.version.as_deref(), Some("12.2.0-14"));
        assert_eq!(p.qualifiers["upstream"], "gcc-12");
        let npm = Purl::parse("pkg:npm/%40angular/core@1.0.0").unwrap();
        assert_eq!((npm.namespace.as_deref(), npm.name.as_str()), (Some("@angular"), "core"));
        let scoped_no_version = Purl::parse("pkg:npm/@scope/name").unwrap();
        assert_eq!((scoped_no_version.name.as_str(), scoped_no_version.version), ("name", None));
        assert_eq!(Purl::parse("not a purl"), None);
        assert_eq!(Purl::parse("pkg:"), None);
    }

    #[test]
    fn licences_are_classified() {
        assert_eq!(classify_license("MIT"), LicenseKind::Id);
        assert_eq!(classify_license("GPL-2.0"), LicenseKind::Id);
        assert_eq!(classify_license("MIT OR Apache-2.0"), LicenseKind::Expression);
        assert_eq!(classify_license("GPL-2.0+"), LicenseKind::Expression);
        assert_eq!(classify_license("mit"), LicenseKind::Text);
        assert_eq!(classify_license("MIT+"), LicenseKind::Expression);
        assert_eq!(classify_license("Apache 2.0"), LicenseKind::Text);
        assert_eq!(classify_license("LicenseRef-foo"), LicenseKind::Text);
        assert_eq!(classify_license(""), LicenseKind::Text);
    }

    #[test]
    fn top_level_and_splits() {
        assert_eq!(split_top_level_and("A AND (B OR C)"), ["A", "B OR C"]);
        assert_eq!(split_top_level_and("(A AND B)"), ["A AND B"]);
        assert_eq!(split_top_level_and("(A) AND (B)"), ["A", "B"]);
        assert_eq!(split_top_level_and("MIT"), ["MIT"]);
    }

    #[test]
    fn time_stamps() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(UNIX_EPOCH + std::time::Duration::from_secs(1_709_251_199)), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn actors() {
        assert_eq!(spdx_actor("Jane Doe <jane@example.org>"), "Jane Doe (jane@example.org)");
        assert_eq!(
            from_spdx_actor("Person: Jane Doe (jane@example.org)"),
            Some((ActorKind::Person, "Jane Doe <jane@example.org>".to_owned()))
        );
        assert_eq!(from_spdx_actor("NOASSERTION"), None);
    }

    #[test]
    fn distro_guess() {
        let d = distro_from_purls(["pkg:rpm/opensuse/a@1?distro=opensuse-leap-15.5"].into_iter()).unwrap();
        assert_eq!((d.id.as_str(), d.version_id.as_deref()), ("opensuse-leap", Some("15.5")));
    }
}
