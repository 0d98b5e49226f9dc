//! Matching an SBOM against the store.
//!
//! Every package gets one or more *lookups* (namespace, name, version,
//! scheme):
//! * OS packages: the distro release namespace (`debian:12`, `alpine:3.19`,
//!   `ubuntu:22.04`, `rhel:9`...) under the source package name and version
//!   (what the Debian tracker and Alpine secdb key on) and under the binary
//!   name when it differs.
//! * Application packages: their ecosystem (`pypi`, `npm`, `maven`, `go`,
//!   `crates.io`, `rubygems`, `packagist`, `nuget`). Packages that an OS
//!   package owns are left to the OS feed, as their owner's findings.
//! * Binaries found by a classifier: their CPEs (`vendor:product`), and only
//!   they: CPE matching of language packages is the classic source of false
//!   positives, and they all have an ecosystem feed.
//!
//! Records matching the same package are merged when their ids or aliases
//! meet (GHSA = CVE = PYSEC), withdrawn records are dropped, and each finding
//! is enriched with the CVE's NVD / CVE 5 scores, KEV and EPSS.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use portcullis_sbom::{Package, PackageType, Sbom};
use portcullis_vulndb::{
    Advisory, AffectedRow, Cvss, FixState, Severity, StoreError, StoredAdvisory, VulnStore, namespace,
    normalize_package_name,
};
use thiserror::Error;

use crate::ranges::{self, RangeMatch};
use crate::{DatabaseSource, DatabaseStatus, Evidence, Finding, FindingPackage, ScanResult, Summary, risk};

#[derive(Debug, Error)]
pub enum MatchError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the vulnerability database at {0} is empty: run `portcullis feeds sync` (or `portcullis feeds sync --from DIR` offline) first"
    )]
    EmptyDatabase(String),
}

/// One way to look a package up.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Lookup {
    namespace: String,
    name: String,
    version: String,
}

/// Matches every package of `sbom`.
pub async fn match_sbom(store: &VulnStore, sbom: &Sbom) -> Result<ScanResult, MatchError> {
    let sources = store.sources().await?;
    if sources.is_empty() {
        return Err(MatchError::EmptyDatabase(store.location().to_owned()));
    }
    let database = DatabaseStatus {
        location: store.location().to_owned(),
        sources: sources
            .iter()
            .map(|s| DatabaseSource {
                name: s.name.clone(),
                upstream_date: s.upstream_date.clone(),
                synced_at: s.synced_at.clone(),
                advisories: s.advisories,
            })
            .collect(),
    };

    let distro = sbom.distro.as_ref().and_then(distro_namespace);
    let mut lookups_by_package: Vec<(usize, Vec<Lookup>)> = Vec::new();
    for (index, package) in sbom.packages.iter().enumerate() {
        let lookups = lookups(package, distro.as_deref());
        if !lookups.is_empty() {
            lookups_by_package.push((index, lookups));
        }
    }

    // One query per namespace for every name in it.
    let mut names_by_namespace: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (_, lookups) in &lookups_by_package {
        for lookup in lookups {
            names_by_namespace.entry(&lookup.namespace).or_default().insert(lookup.name.clone());
        }
    }
    let mut rows_by_key: HashMap<(String, String), Vec<AffectedRow>> = HashMap::new();
    for (namespace, names) in names_by_namespace {
        let names: Vec<String> = names.into_iter().collect();
        for row in store.affected(namespace, &names).await? {
            rows_by_key.entry((row.affected.namespace.clone(), row.affected.package.clone())).or_default().push(row);
        }
    }

    let mut summary = Summary { packages: sbom.packages.len() as u64, ..Summary::default() };
    let mut raw: Vec<RawMatch> = Vec::new();
    for (index, lookups) in &lookups_by_package {
        let mut unreadable = false;
        for lookup in lookups {
            let Some(rows) = rows_by_key.get(&(lookup.namespace.clone(), lookup.name.clone())) else { continue };
            for row in rows {
                if row.affected.state == portcullis_vulndb::FixState::NotAffected {
                    continue;
                }
                match ranges::evaluate(&row.affected, &lookup.version) {
                    Ok(Some(hit)) => {
                        raw.push(RawMatch { package: *index, lookup: lookup.clone(), row: row.clone(), hit })
                    }
                    Ok(None) => {}
                    Err(error) => {
                        tracing::debug!(package = %sbom.packages[*index].id, %error, "version not comparable");
                        unreadable = true;
                    }
                }
            }
        }
        if unreadable {
            summary.packages_unmatchable += 1;
        }
    }

    let findings = build_findings(store, sbom, raw).await?;
    let mut result =
        ScanResult { findings, ignored: Vec::new(), expired_rules: Vec::new(), base_image: None, summary, database };
    result.findings.sort_by(risk::order);
    result.refresh_summary();
    Ok(result)
}

#[derive(Debug, Clone)]
struct RawMatch {
    package: usize,
    lookup: Lookup,
    row: AffectedRow,
    hit: RangeMatch,
}

/// The namespace of the image's distro release, as the feeds name it.
fn distro_namespace(distro: &portcullis_sbom::Distro) -> Option<String> {
    let version = distro.version_id.as_deref()?;
    let id = distro.id.as_str();
    let release = match id {
        // Debian's tracker and OSV key on the major release; Alpine's secdb on major.minor.
        "debian" | "rhel" | "centos" | "rocky" | "almalinux" | "ol" | "amzn" | "fedora" => {
            version.split('.').next().unwrap_or(version).to_owned()
        }
        "alpine" => version.split('.').take(2).collect::<Vec<_>>().join("."),
        _ => version.to_owned(),
    };
    Some(namespace::distro(id, &release))
}

/// The lookups of one package.
fn lookups(package: &Package, distro: Option<&str>) -> Vec<Lookup> {
    let mut out = Vec::new();
    let mut push = |namespace: &str, name: &str, version: &str| {
        let lookup = Lookup {
            namespace: namespace.to_owned(),
            name: normalize_package_name(namespace, name),
            version: version.to_owned(),
        };
        if !out.contains(&lookup) {
            out.push(lookup);
        }
    };
    if package.package_type.is_os() {
        // Language packages installed by the OS package manager are covered
        // by their owner's OS findings.
        let Some(distro) = distro else { return out };
        if let Some(source) = &package.source {
            push(distro, &source.name, source.version.as_deref().unwrap_or(&package.version));
        }
        push(distro, &package.name, &package.version);
        return out;
    }
    if package.owner.is_some() {
        return out;
    }
    let ecosystem = match package.package_type {
        PackageType::Python => namespace::PYPI,
        PackageType::Npm => namespace::NPM,
        PackageType::GoModule => namespace::GO,
        PackageType::RustCrate => namespace::CRATES_IO,
        PackageType::Gem => namespace::RUBYGEMS,
        PackageType::PhpComposer => namespace::PACKAGIST,
        PackageType::Dotnet => namespace::NUGET,
        PackageType::JavaArchive => {
            if let Some(name) = maven_name(package) {
                push(namespace::MAVEN, &name, &package.version);
            }
            return out;
        }
        PackageType::Binary => {
            for (name, version) in cpe_lookups(package) {
                push(namespace::CPE, &name, &version);
            }
            return out;
        }
        _ => return out,
    };
    push(ecosystem, &package.name, &package.version);
    out
}

/// `groupId:artifactId` from the package's Maven purl.
fn maven_name(package: &Package) -> Option<String> {
    let purl: packageurl::PackageUrl = package.purl.parse().ok()?;
    if purl.ty() != "maven" {
        return None;
    }
    Some(format!("{}:{}", purl.namespace()?, purl.name()))
}

/// (`vendor:product`, version) of every CPE a classifier gave the package.
fn cpe_lookups(package: &Package) -> Vec<(String, String)> {
    let Some(cpes) = package.metadata.get("cpes").and_then(|v| v.as_array()) else { return Vec::new() };
    cpes.iter()
        .filter_map(|cpe| cpe.as_str())
        .filter_map(|cpe| {
            let fields: Vec<&str> = cpe.split(':').collect();
            match fields.as_slice() {
                ["cpe", "2.3", _part, vendor, product, version, ..] if *version != "*" && *version != "-" => {
                    Some((format!("{vendor}:{product}"), (*version).to_owned()))
                }
                _ => None,
            }
        })
        .collect()
}

/// Groups raw matches into findings: per package, records whose ids meet.
async fn build_findings(store: &VulnStore, sbom: &Sbom, raw: Vec<RawMatch>) -> Result<Vec<Finding>, MatchError> {
    // Every copy of the matched ids, then of their aliases not fetched yet
    // (NVD / CVE 5 records of the CVE, GHSA...), for scores and rejections:
    // each record is read once.
    let matched_ids: BTreeSet<String> = raw.iter().map(|m| m.row.advisory_id.clone()).collect();
    let mut copies = store.advisories(&matched_ids.iter().cloned().collect::<Vec<_>>()).await?;
    let alias_ids: BTreeSet<String> = copies
        .iter()
        .flat_map(|stored| &stored.advisory.aliases)
        .filter(|alias| !matched_ids.contains(*alias))
        .cloned()
        .collect();
    copies.extend(store.advisories(&alias_ids.iter().cloned().collect::<Vec<_>>()).await?);
    let mut by_id: HashMap<String, Vec<StoredAdvisory>> = HashMap::new();
    for stored in copies {
        by_id.entry(stored.advisory.id.clone()).or_default().push(stored);
    }
    let records: HashMap<(&str, &str), &Advisory> = by_id
        .values()
        .flatten()
        .map(|stored| ((stored.source.as_str(), stored.advisory.id.as_str()), &stored.advisory))
        .collect();
    let cves: Vec<String> = matched_ids.iter().chain(&alias_ids).filter(|id| id.starts_with("CVE-")).cloned().collect();
    let kev: HashMap<String, _> = store.kev(&cves).await?.into_iter().map(|k| (k.cve.clone(), k)).collect();
    let epss: HashMap<String, _> = store.epss(&cves).await?.into_iter().map(|e| (e.cve.clone(), e)).collect();

    // Per package, union the matches whose id sets intersect.
    let mut per_package: BTreeMap<usize, Vec<(RawMatch, BTreeSet<String>)>> = BTreeMap::new();
    for m in raw {
        let Some(record) = records.get(&(m.row.source.as_str(), m.row.advisory_id.as_str())) else { continue };
        if record.withdrawn.is_some() {
            continue;
        }
        let mut ids: BTreeSet<String> = record.aliases.iter().cloned().collect();
        ids.insert(record.id.clone());
        per_package.entry(m.package).or_default().push((m, ids));
    }

    let mut findings = Vec::new();
    for (package_index, matches) in per_package {
        let package = &sbom.packages[package_index];
        for group in union_by_ids(matches) {
            if let Some(finding) = finding_from_group(package, group, &records, &by_id, &kev, &epss) {
                findings.push(finding);
            }
        }
    }
    Ok(findings)
}

/// Splits matches into groups whose id sets are connected.
fn union_by_ids(matches: Vec<(RawMatch, BTreeSet<String>)>) -> Vec<(Vec<RawMatch>, BTreeSet<String>)> {
    let mut groups: Vec<(Vec<RawMatch>, BTreeSet<String>)> = Vec::new();
    for (m, ids) in matches {
        let mut merged = (vec![m], ids);
        let mut index = 0;
        while index < groups.len() {
            if groups[index].1.is_disjoint(&merged.1) {
                index += 1;
            } else {
                let (ms, ids) = groups.swap_remove(index);
                merged.0.extend(ms);
                merged.1.extend(ids);
            }
        }
        groups.push(merged);
    }
    groups
}

fn finding_from_group(
    package: &Package,
    (matches, ids): (Vec<RawMatch>, BTreeSet<String>),
    records: &HashMap<(&str, &str), &Advisory>,
    by_id: &HashMap<String, Vec<StoredAdvisory>>,
    kev: &HashMap<String, portcullis_vulndb::KevEntry>,
    epss: &HashMap<String, portcullis_vulndb::EpssEntry>,
) -> Option<Finding> {
    // A CVE that its numbering authority or NVD rejected is no vulnerability.
    let rejected = ids.iter().filter(|id| id.starts_with("CVE-")).any(|id| {
        by_id.get(id).is_some_and(|copies| copies.iter().any(|c| c.advisory.withdrawn.is_some() && is_cve_authority(c)))
    });
    if rejected {
        return None;
    }
    let cves: Vec<&String> = ids.iter().filter(|id| id.starts_with("CVE-")).collect();
    let first = matches.first()?;
    let id = match cves.as_slice() {
        [only] => (*only).clone(),
        _ => first.row.advisory_id.clone(),
    };
    let aliases: Vec<String> = ids.iter().filter(|other| **other != id).cloned().collect();

    // Fix state: the most actionable statement wins (a fix beats "won't fix" beats "not fixed").
    let rank = |state: FixState| match state {
        FixState::Fixed => 0,
        FixState::WontFix => 1,
        FixState::NotFixed => 2,
        FixState::Unknown => 3,
        FixState::NotAffected => 4,
    };
    let scheme = first.row.affected.scheme;
    let order = |a: &&String, b: &&String| scheme.compare(a, b).unwrap_or(std::cmp::Ordering::Equal);
    let order_ref = |a: &&&String, b: &&&String| order(a, b);
    // Within one copy of a record, several entries may contain the version
    // (GHSA lists one range per release line, overlapping): the lowest fix is
    // the one of the installed line. Across records and copies (RustSec's
    // "unaffected" intervals in its OSV form against the "patched" list of its
    // native form, a GHSA against a PYSEC), the highest fix resolves them all.
    let mut per_copy: BTreeMap<(&str, &str, &str), Vec<&String>> = BTreeMap::new();
    for m in &matches {
        // A won't-fix or not-fixed entry may carry another release's fix
        // (the Debian sid line); it is no fix for this one.
        if m.row.affected.state != FixState::Fixed {
            continue;
        }
        if let Some(fix) = &m.hit.fixed {
            per_copy.entry((&m.row.source, &m.row.path, &m.row.advisory_id)).or_default().push(fix);
        }
    }
    let fixed_in: Vec<String> = per_copy
        .values()
        .filter_map(|fixes| fixes.iter().min_by(order_ref).copied())
        .max_by(order)
        .cloned()
        .into_iter()
        .collect();
    let mut state = matches.iter().map(|m| m.row.affected.state).min_by_key(|s| rank(*s)).unwrap_or(FixState::Unknown);
    if !fixed_in.is_empty() {
        state = FixState::Fixed;
    } else if state == FixState::Fixed {
        // Fixed elsewhere (another release line) but not for this version's line.
        state = FixState::Unknown;
    }

    let matched_records: Vec<(&RawMatch, &Advisory)> = matches
        .iter()
        .filter_map(|m| records.get(&(m.row.source.as_str(), m.row.advisory_id.as_str())).map(|r| (m, *r)))
        .collect();

    // Vendor severity first: the matched entry's own rating, then the record's.
    let vendor = matched_records.iter().find_map(|(m, r)| {
        m.row
            .affected
            .severity
            .or(r.severity)
            .filter(|s| *s != Severity::Unknown)
            .map(|s| (s, format!("vendor:{}", m.row.source)))
    });
    let mut cvss: Vec<Cvss> = Vec::new();
    let mut push_cvss = |score: &Cvss| {
        if !cvss.iter().any(|c| c.vector == score.vector && c.source == score.source) {
            cvss.push(score.clone());
        }
    };
    for (_, record) in &matched_records {
        record.cvss.iter().for_each(&mut push_cvss);
    }
    for id in &ids {
        for copy in by_id.get(id).into_iter().flatten() {
            copy.advisory.cvss.iter().for_each(&mut push_cvss);
        }
    }
    let (severity, severity_source) = vendor.unwrap_or_else(|| {
        let scored = best_cvss(&cvss);
        match scored {
            Some((score, source)) => (Severity::from_cvss_score(score), format!("cvss:{source}")),
            None => (Severity::Unknown, "none".to_owned()),
        }
    });

    let text_source = matched_records
        .iter()
        .map(|(_, r)| *r)
        .chain(ids.iter().flat_map(|id| by_id.get(id).into_iter().flatten().map(|c| &c.advisory)));
    let (mut summary, mut description, mut published) = (None, None, None);
    let mut urls: Vec<String> = Vec::new();
    let mut cwes: BTreeSet<String> = BTreeSet::new();
    for record in text_source {
        summary = summary.or_else(|| record.summary.clone());
        description = description.or_else(|| record.description.clone());
        published = published.or_else(|| record.published.clone().filter(|p| !p.starts_with("0001-")));
        for url in &record.references {
            if urls.len() < 10 && !urls.contains(url) {
                urls.push(url.clone());
            }
        }
        cwes.extend(record.cwes.iter().cloned());
    }
    let kev_entry = cves.iter().find_map(|cve| kev.get(*cve).cloned());
    let epss_entry = cves
        .iter()
        .filter_map(|cve| epss.get(*cve))
        .max_by(|a, b| a.score.partial_cmp(&b.score).unwrap_or(std::cmp::Ordering::Equal))
        .cloned();

    let evidence = matches
        .iter()
        .map(|m| Evidence {
            record: m.row.advisory_id.clone(),
            source: m.row.source.clone(),
            namespace: m.lookup.namespace.clone(),
            package: m.lookup.name.clone(),
            version: m.lookup.version.clone(),
            scheme: m.row.affected.scheme.as_str().to_owned(),
            constraint: m.hit.constraint.clone(),
            comparison: m.hit.comparison.clone(),
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let mut finding = Finding {
        id,
        aliases,
        package: FindingPackage {
            id: package.id.clone(),
            name: package.name.clone(),
            version: package.version.clone(),
            package_type: package.package_type.as_str().to_owned(),
            purl: package.purl.clone(),
            locations: package.locations.iter().map(|l| l.path.clone()).collect(),
            layer_index: package.introduced_in_layer,
        },
        origin: None,
        state,
        fixed_in,
        severity,
        severity_source,
        cvss,
        kev: kev_entry,
        epss: epss_entry,
        risk: 0.0,
        summary,
        description,
        published,
        urls,
        cwes: cwes.into_iter().collect(),
        evidence,
    };
    finding.risk = risk::score(&finding);
    Some(finding)
}

/// Records that speak for a CVE id itself (NVD, CVE 5), whose rejection means
/// the CVE is void; other feeds' withdrawn copies only withdraw themselves.
fn is_cve_authority(copy: &StoredAdvisory) -> bool {
    copy.advisory.id.starts_with("CVE-") && copy.advisory.affected.iter().all(|a| a.namespace == namespace::CPE)
}

/// The highest base score: NVD's primary score first, then any.
fn best_cvss(cvss: &[Cvss]) -> Option<(f64, String)> {
    let newest_first = |c: &&Cvss| std::cmp::Reverse(c.version.clone());
    let mut nvd: Vec<&Cvss> =
        cvss.iter().filter(|c| c.source.as_deref() == Some("nvd") && c.base_score.is_some()).collect();
    nvd.sort_by_key(newest_first);
    if let Some(c) = nvd.first() {
        return c.base_score.map(|s| (s, "nvd".to_owned()));
    }
    let mut any: Vec<&Cvss> = cvss.iter().filter(|c| c.base_score.is_some()).collect();
    any.sort_by_key(newest_first);
    any.first().and_then(|c| c.base_score.map(|s| (s, c.source.clone().unwrap_or_else(|| "unknown".to_owned()))))
}
