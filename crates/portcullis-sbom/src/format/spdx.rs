//! SPDX 2.3: the document model shared by the JSON and tag-value encodings,
//! the mapping from and to the native model, and the JSON encoding.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::{Distro, ImageInfo, Package, Sbom, SchemaInfo, SourceInfo, ToolInfo};

use super::common::{self, ActorKind, ForeignPackage, HashValue, LicenseKind};
use super::props::{self, Props};
use super::{FormatError, TOOL_VERSION, WriteOptions};

pub(crate) const SPDX_VERSION: &str = "SPDX-2.3";
pub(crate) const NOASSERTION: &str = "NOASSERTION";
/// Base of the `documentNamespace` URIs Portcullis writes.
pub(crate) const NAMESPACE_BASE: &str = "https://github.com/portcullis-scan/portcullis/spdx";

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Document {
    pub spdx_version: String,
    pub data_license: String,
    #[serde(rename = "SPDXID")]
    pub spdx_id: String,
    pub name: String,
    pub document_namespace: String,
    pub creation_info: CreationInfo,
    #[serde(skip_serializing)]
    pub document_describes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<SpdxPackage>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<File>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub has_extracted_licensing_infos: Vec<ExtractedLicense>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub relationships: Vec<Relationship>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct CreationInfo {
    pub created: String,
    pub creators: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_list_version: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct SpdxPackage {
    pub name: String,
    #[serde(rename = "SPDXID")]
    pub spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub originator: Option<String>,
    pub download_location: String,
    pub files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_concluded: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_declared: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copyright_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_package_purpose: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<Annotation>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Checksum {
    pub algorithm: String,
    pub checksum_value: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ExternalRef {
    pub reference_category: String,
    pub reference_type: String,
    pub reference_locator: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Annotation {
    pub annotation_date: String,
    pub annotation_type: String,
    pub annotator: String,
    pub comment: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct File {
    pub file_name: String,
    #[serde(rename = "SPDXID")]
    pub spdx_id: String,
    pub checksums: Vec<Checksum>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ExtractedLicense {
    pub license_id: String,
    pub extracted_text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Relationship {
    pub spdx_element_id: String,
    pub related_spdx_element: String,
    pub relationship_type: String,
}

fn relationship(from: &str, kind: &str, to: &str) -> Relationship {
    Relationship {
        spdx_element_id: from.to_owned(),
        related_spdx_element: to.to_owned(),
        relationship_type: kind.to_owned(),
    }
}

/// Free-text licences become `LicenseRef-...` ids with their text in
/// `hasExtractedLicensingInfos`.
#[derive(Default)]
struct LicenseRefs {
    by_text: HashMap<String, String>,
    taken: BTreeSet<String>,
    extracted: Vec<ExtractedLicense>,
}

impl LicenseRefs {
    fn reference(&mut self, text: &str) -> String {
        if let Some(id) = self.by_text.get(text) {
            return id.clone();
        }
        let id = common::unique(format!("LicenseRef-{}", common::sanitize_idstring(text)), &mut self.taken);
        self.by_text.insert(text.to_owned(), id.clone());
        self.extracted.push(ExtractedLicense {
            license_id: id.clone(),
            extracted_text: text.to_owned(),
            name: Some(text.to_owned()),
        });
        id
    }

    /// One SPDX expression for all of a package's licences: identifiers and
    /// expressions as they are (compound ones parenthesised), free text as
    /// `LicenseRef-`s, joined with `AND`. [`common::split_top_level_and`]
    /// gives the original list back.
    fn declared(&mut self, licenses: &[String]) -> String {
        let parts: Vec<String> = licenses
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .map(|l| match common::classify_license(l) {
                LicenseKind::Id => l.to_owned(),
                LicenseKind::Expression if l.contains(char::is_whitespace) => format!("({l})"),
                LicenseKind::Expression => l.to_owned(),
                LicenseKind::Text => self.reference(l),
            })
            .collect();
        if parts.is_empty() { NOASSERTION.to_owned() } else { parts.join(" AND ") }
    }
}

fn annotation(props: Props, date: &str) -> Vec<Annotation> {
    if props.is_empty() {
        return Vec::new();
    }
    vec![Annotation {
        annotation_date: date.to_owned(),
        annotation_type: "OTHER".to_owned(),
        annotator: format!("Tool: portcullis-{TOOL_VERSION}"),
        comment: props::to_annotation_comment(&props),
    }]
}

fn bare_package(name: &str, spdx_id: String) -> SpdxPackage {
    SpdxPackage {
        name: name.to_owned(),
        spdx_id,
        download_location: NOASSERTION.to_owned(),
        files_analyzed: false,
        license_concluded: Some(NOASSERTION.to_owned()),
        license_declared: Some(NOASSERTION.to_owned()),
        copyright_text: Some(NOASSERTION.to_owned()),
        ..SpdxPackage::default()
    }
}

/// The native model as an SPDX document.
pub(crate) fn build(sbom: &Sbom, options: &WriteOptions) -> Document {
    let created = options.timestamp();
    let mut ids = BTreeSet::new();
    ids.insert("SPDXRef-DOCUMENT".to_owned());
    let mut refs = LicenseRefs::default();
    let mut packages = Vec::with_capacity(sbom.packages.len() + 2);
    let mut relationships = Vec::with_capacity(sbom.packages.len() + 2);

    // The analysed image (or directory): what the document describes.
    let (subject_name, subject_version, kind) = match &sbom.source.image {
        Some(image) => (
            image.references.first().cloned().unwrap_or_else(|| sbom.source.input.clone()),
            Some(image.manifest_digest.clone().unwrap_or_else(|| image.config_digest.clone())),
            "Image",
        ),
        None => (sbom.source.input.clone(), None, "Directory"),
    };
    let subject_name = if subject_name.is_empty() { "unnamed".to_owned() } else { subject_name };
    let subject_id =
        common::unique(format!("SPDXRef-DocumentRoot-{kind}-{}", common::sanitize_idstring(&subject_name)), &mut ids);
    let mut subject = bare_package(&subject_name, subject_id.clone());
    subject.version_info = subject_version.clone();
    subject.primary_package_purpose = Some(if kind == "Image" { "CONTAINER" } else { "FILE" }.to_owned());
    subject.supplier = Some(NOASSERTION.to_owned());
    if options.portcullis_properties {
        subject.annotations = annotation(props::document_props(sbom), &created);
    }
    packages.push(subject);
    relationships.push(relationship("SPDXRef-DOCUMENT", "DESCRIBES", &subject_id));

    if let Some(distro) = &sbom.distro {
        let label = match &distro.version_id {
            Some(version) => format!("{}-{}", distro.id, version),
            None => distro.id.clone(),
        };
        let id = common::unique(format!("SPDXRef-OperatingSystem-{}", common::sanitize_idstring(&label)), &mut ids);
        let mut os = bare_package(&distro.id, id.clone());
        os.version_info = distro.version_id.clone();
        os.description = distro.pretty_name.clone();
        os.primary_package_purpose = Some("OPERATING-SYSTEM".to_owned());
        if options.portcullis_properties {
            os.annotations = annotation(props::distro_props(distro), &created);
        }
        packages.push(os);
        relationships.push(relationship(&subject_id, "CONTAINS", &id));
    }

    let mut id_of_package: HashMap<&str, String> = HashMap::new();
    for package in &sbom.packages {
        let id = common::unique(
            format!(
                "SPDXRef-Package-{}-{}-{:016x}",
                package.package_type.as_str(),
                common::sanitize_idstring(&package.name),
                common::fnv64(&package.id)
            ),
            &mut ids,
        );
        id_of_package.insert(package.id.as_str(), id.clone());
        packages.push(spdx_package(package, id.clone(), &mut refs, options, &created));
        relationships.push(relationship(&subject_id, "CONTAINS", &id));
    }

    let mut files = Vec::new();
    let mut containing: HashSet<String> = HashSet::new();
    if options.spdx_files {
        for file in sbom.files.iter().filter(|f| f.sha1.is_some()) {
            let mut checksums = Vec::new();
            for (alg, value) in [("sha1", &file.sha1), ("sha256", &file.sha256), ("md5", &file.md5)] {
                let hex = value.as_deref().map(|v| v.split_once(':').map_or(v, |(_, hex)| hex));
                if let Some(hash) = hex.and_then(|hex| HashValue::new(alg, hex)) {
                    checksums.push(Checksum { algorithm: hash.spdx_alg().to_owned(), checksum_value: hash.hex });
                }
            }
            if !checksums.iter().any(|c| c.algorithm == "SHA1") {
                continue;
            }
            let id = common::unique(
                format!("SPDXRef-File-{}-{:016x}", common::sanitize_idstring(file.path.trim_start_matches('/')), {
                    common::fnv64(&format!("{}@{:?}", file.path, file.layer_index))
                }),
                &mut ids,
            );
            let owners: Vec<&String> = file.owners.iter().filter_map(|o| id_of_package.get(o.as_str())).collect();
            let containers = if owners.is_empty() { vec![&subject_id] } else { owners };
            for container in containers {
                relationships.push(relationship(container, "CONTAINS", &id));
                containing.insert(container.clone());
            }
            // SPDX file names are relative to the package root: `./usr/bin/tool`.
            files.push(File { file_name: format!("./{}", file.path.trim_start_matches('/')), spdx_id: id, checksums });
        }
    }

    // A package whose files are listed has had its files analysed.
    for package in &mut packages {
        if containing.contains(&package.spdx_id) {
            package.files_analyzed = true;
        }
    }

    let name = match (&sbom.source.image, &subject_version) {
        (Some(_), Some(digest)) if !subject_name.contains('@') => format!("{subject_name}@{digest}"),
        _ => subject_name.clone(),
    };
    let namespace =
        format!("{NAMESPACE_BASE}/{}/{}-{}", kind.to_lowercase(), common::sanitize_idstring(&name), options.uuid());
    let list_version = spdx::license_version();
    let list_version = list_version.split('.').take(2).collect::<Vec<_>>().join(".");
    Document {
        spdx_version: SPDX_VERSION.to_owned(),
        data_license: "CC0-1.0".to_owned(),
        spdx_id: "SPDXRef-DOCUMENT".to_owned(),
        name,
        document_namespace: namespace,
        creation_info: CreationInfo {
            created,
            creators: vec!["Organization: Portcullis".to_owned(), format!("Tool: portcullis-{TOOL_VERSION}")],
            license_list_version: Some(list_version),
        },
        document_describes: Vec::new(),
        packages,
        files,
        has_extracted_licensing_infos: refs.extracted,
        relationships,
    }
}

fn spdx_package(
    package: &Package,
    id: String,
    refs: &mut LicenseRefs,
    options: &WriteOptions,
    created: &str,
) -> SpdxPackage {
    let mut out = bare_package(&package.name, id);
    out.version_info = (!package.version.is_empty()).then(|| package.version.clone());
    // The vendor (rpm) distributes the package; the maintainer (dpkg, apk) does
    // when there is no vendor, and is the originator otherwise.
    match (&package.vendor, &package.maintainer) {
        (Some(vendor), maintainer) => {
            out.supplier = Some(format!("Organization: {}", one_line(vendor)));
            out.originator = maintainer.as_ref().map(|m| format!("Person: {}", one_line(&common::spdx_actor(m))));
        }
        (None, Some(maintainer)) => {
            out.supplier = Some(format!("Person: {}", one_line(&common::spdx_actor(maintainer))));
        }
        (None, None) => out.supplier = Some(NOASSERTION.to_owned()),
    }
    out.checksums = common::package_hashes(package)
        .into_iter()
        .map(|h| Checksum { algorithm: h.spdx_alg().to_owned(), checksum_value: h.hex })
        .collect();
    if !package.locations.is_empty() {
        let what = package.found_by.as_deref().unwrap_or(package.package_type.as_str());
        let paths: Vec<&str> = package.locations.iter().map(|l| l.path.as_str()).collect();
        out.source_info = Some(format!("acquired package info from {what}: {}", paths.join(", ")));
    }
    out.license_declared = Some(refs.declared(&package.licenses));
    for cpe in common::package_cpes(package) {
        out.external_refs.push(ExternalRef {
            reference_category: "SECURITY".to_owned(),
            reference_type: if cpe.starts_with("cpe:2.3:") { "cpe23Type" } else { "cpe22Type" }.to_owned(),
            reference_locator: cpe,
        });
    }
    if !package.purl.is_empty() {
        out.external_refs.push(ExternalRef {
            reference_category: "PACKAGE-MANAGER".to_owned(),
            reference_type: "purl".to_owned(),
            reference_locator: package.purl.clone(),
        });
    }
    if options.portcullis_properties {
        out.annotations = annotation(props::package_props(package), created);
    }
    out
}

/// SPDX actors are one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(crate) fn write_json(sbom: &Sbom, options: &WriteOptions) -> String {
    let mut document = build(sbom, options);
    // The JSON schema spells purposes with `_` (`OPERATING_SYSTEM`), tag-value with `-`.
    for package in &mut document.packages {
        if let Some(purpose) = &mut package.primary_package_purpose {
            *purpose = purpose.replace('-', "_");
        }
    }
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

pub(crate) fn read_json(bytes: &[u8]) -> Result<Sbom, FormatError> {
    let document: Document = super::json_from_slice(bytes, "SPDX JSON")?;
    to_sbom(document, "SPDX JSON")
}

/// Portcullis' properties from a package's annotations.
fn portcullis_props(annotations: &[Annotation]) -> Props {
    annotations
        .iter()
        .filter(|a| a.annotator.trim_start().starts_with("Tool: portcullis"))
        .filter_map(|a| props::from_annotation_comment(&a.comment))
        .flatten()
        .collect()
}

/// The native model from an SPDX document (either encoding).
pub(crate) fn to_sbom(mut document: Document, format: &'static str) -> Result<Sbom, FormatError> {
    for package in &mut document.packages {
        if let Some(purpose) = &mut package.primary_package_purpose {
            *purpose = purpose.trim().replace('_', "-").to_ascii_uppercase();
        }
    }
    let version = document.spdx_version.trim();
    if !version.starts_with("SPDX-2.") {
        return Err(FormatError::UnsupportedVersion {
            format: "SPDX",
            version: version.to_owned(),
            supported: "SPDX 2.x is read",
        });
    }
    let mut seen = HashSet::new();
    for (i, package) in document.packages.iter().enumerate() {
        if package.spdx_id.is_empty() {
            return Err(FormatError::Invalid {
                format,
                location: format!("packages[{i}] (`{}`)", package.name),
                message: "package without an SPDXID".to_owned(),
            });
        }
        if !seen.insert(package.spdx_id.as_str()) {
            return Err(FormatError::Invalid {
                format,
                location: format!("packages[{i}]"),
                message: format!("SPDXID `{}` is used twice", package.spdx_id),
            });
        }
    }
    let extracted: HashMap<&str, &str> = document
        .has_extracted_licensing_infos
        .iter()
        .map(|e| {
            let text =
                if e.extracted_text.trim().is_empty() { e.name.as_deref().unwrap_or("") } else { &e.extracted_text };
            (e.license_id.as_str(), text)
        })
        .collect();
    let document_id = if document.spdx_id.is_empty() { "SPDXRef-DOCUMENT" } else { document.spdx_id.as_str() };
    let mut described: Vec<&str> = document.document_describes.iter().map(String::as_str).collect();
    for r in &document.relationships {
        match r.relationship_type.as_str() {
            "DESCRIBES" if r.spdx_element_id == document_id => described.push(&r.related_spdx_element),
            "DESCRIBED_BY" if r.related_spdx_element == document_id => described.push(&r.spdx_element_id),
            _ => {}
        }
    }
    let is_subject = |p: &SpdxPackage| {
        described.contains(&p.spdx_id.as_str())
            && (matches!(p.primary_package_purpose.as_deref(), Some("CONTAINER" | "FILE" | "SOURCE"))
                || p.spdx_id.starts_with("SPDXRef-DocumentRoot")
                || !p.external_refs.iter().any(|r| r.reference_type == "purl"))
    };

    let tool = document
        .creation_info
        .creators
        .iter()
        .find_map(|c| match common::from_spdx_actor(c) {
            Some((ActorKind::Tool, tool)) => Some(tool),
            _ => None,
        })
        .map(|tool| match tool.rsplit_once('-') {
            Some((name, version)) if version.starts_with(|c: char| c.is_ascii_digit()) => {
                ToolInfo { name: name.to_owned(), version: version.to_owned() }
            }
            _ => ToolInfo { name: tool, version: String::new() },
        })
        .unwrap_or_else(|| ToolInfo { name: "unknown".to_owned(), version: String::new() });

    let subject = document.packages.iter().find(|p| is_subject(p));
    let mut sbom = Sbom {
        schema: SchemaInfo::default(),
        tool,
        source: foreign_source(subject, &document.name),
        distro: None,
        layers: Vec::new(),
        packages: Vec::new(),
        files: Vec::new(),
        secrets: Vec::new(),
        content_matches: Vec::new(),
        retrieved_files: Vec::new(),
        dockerfile: None,
    };
    let portcullis_document =
        subject.is_some_and(|s| props::apply_document_props(&mut sbom, &portcullis_props(&s.annotations)));

    let mut packages = Vec::new();
    for package in &document.packages {
        if is_subject(package) {
            continue;
        }
        if package.primary_package_purpose.as_deref() == Some("OPERATING-SYSTEM") {
            if sbom.distro.is_none() {
                let mut distro = Distro {
                    id: package.name.to_lowercase(),
                    version_id: package.version_info.clone(),
                    pretty_name: package.description.clone(),
                    ..Distro::default()
                };
                props::apply_distro_props(&mut distro, &portcullis_props(&package.annotations));
                sbom.distro = Some(distro);
            }
            continue;
        }
        packages.push(common::to_package(foreign_package(package, &extracted)));
    }
    if sbom.distro.is_none() && !portcullis_document {
        sbom.distro = common::distro_from_purls(packages.iter().map(|p| p.purl.as_str()));
    }
    sbom.packages = common::finish_packages(packages);
    Ok(sbom)
}

fn is_unset(value: &str) -> bool {
    matches!(value.trim(), "" | "NOASSERTION" | "NONE")
}

/// Licences from `licenseDeclared` (else `licenseConcluded`), split at the top-level
/// `AND`s, with `LicenseRef-`s replaced by their extracted text.
fn licenses(package: &SpdxPackage, extracted: &HashMap<&str, &str>) -> Vec<String> {
    let declared = [&package.license_declared, &package.license_concluded].into_iter().flatten().find(|l| !is_unset(l));
    let Some(declared) = declared else { return Vec::new() };
    common::split_top_level_and(declared.trim())
        .into_iter()
        .map(|part| match extracted.get(part.as_str()) {
            Some(text) if !text.trim().is_empty() => (*text).to_owned(),
            _ => part,
        })
        .collect()
}

fn foreign_package(package: &SpdxPackage, extracted: &HashMap<&str, &str>) -> ForeignPackage {
    let purl = package
        .external_refs
        .iter()
        .find(|r| r.reference_type == "purl")
        .map(|r| r.reference_locator.trim().to_owned());
    let cpes = package
        .external_refs
        .iter()
        .filter(|r| matches!(r.reference_type.as_str(), "cpe23Type" | "cpe22Type"))
        .map(|r| r.reference_locator.trim().to_owned())
        .collect();
    let (mut vendor, mut maintainer) = (None, None);
    match package.supplier.as_deref().and_then(common::from_spdx_actor) {
        Some((ActorKind::Organization, name)) => vendor = Some(name),
        Some((_, name)) => maintainer = Some(name),
        None => {}
    }
    if let Some((_, name)) = package.originator.as_deref().and_then(common::from_spdx_actor) {
        maintainer.get_or_insert(name);
    }
    // syft and Portcullis: "acquired package info from WHAT: path, path".
    let location_paths = package
        .source_info
        .as_deref()
        .and_then(|info| info.split_once(": "))
        .map(|(_, paths)| paths.split(", ").map(str::trim).filter(|p| p.starts_with('/')).map(str::to_owned).collect())
        .unwrap_or_default();
    ForeignPackage {
        name: package.name.clone(),
        version: package.version_info.clone().filter(|v| !is_unset(v)).unwrap_or_default(),
        purl,
        licenses: licenses(package, extracted),
        cpes,
        hashes: package.checksums.iter().filter_map(|c| HashValue::new(&c.algorithm, &c.checksum_value)).collect(),
        location_paths,
        found_by: None,
        type_hint: None,
        vendor,
        maintainer,
        props: portcullis_props(&package.annotations),
    }
}

fn foreign_source(subject: Option<&SpdxPackage>, document_name: &str) -> SourceInfo {
    let input = subject.map_or(document_name, |s| s.name.as_str()).to_owned();
    let is_image = subject.is_some_and(|s| {
        s.primary_package_purpose.as_deref() == Some("CONTAINER") || s.spdx_id.starts_with("SPDXRef-DocumentRoot-Image")
    });
    let image = is_image.then(|| ImageInfo {
        manifest_digest: subject.and_then(|s| s.version_info.clone()).filter(|v| v.contains(':')),
        references: vec![input.clone()],
        ..ImageInfo::default()
    });
    SourceInfo { scheme: "sbom".to_owned(), input, scope: "squashed".to_owned(), image }
}
