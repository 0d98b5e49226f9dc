//! CycloneDX 1.6: the document model shared by the JSON and XML encodings,
//! the mapping from and to the native model, and the JSON encoding.

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Distro, ImageInfo, Package, Sbom, SchemaInfo, SourceInfo, ToolInfo};

use super::common::{self, ForeignPackage, HashValue, LicenseKind};
use super::props::{self, Props};
use super::{FormatError, TOOL_VERSION, WriteOptions};

pub(crate) const SPEC_VERSION: &str = "1.6";
pub(crate) const JSON_SCHEMA: &str = "http://cyclonedx.org/schema/bom-1.6.schema.json";
pub(crate) const XML_NAMESPACE: &str = "http://cyclonedx.org/schema/bom/1.6";
/// Nesting depth of `components` inside components that is followed.
pub(crate) const MAX_COMPONENT_DEPTH: usize = 32;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct Bom {
    #[serde(rename = "$schema", skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub bom_format: String,
    pub spec_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(skip_deserializing)]
    pub version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_tools",
        deserialize_with = "deserialize_tools"
    )]
    pub tools: Vec<Tool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<Component>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

/// A tool that made the document: 1.6 `tools.components[]` (type
/// `application`), or the legacy (1.4) `tools[]` when reading.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Tool {
    pub name: String,
    pub version: Option<String>,
}

fn serialize_tools<S: Serializer>(tools: &[Tool], serializer: S) -> Result<S::Ok, S::Error> {
    let components: Vec<serde_json::Value> = tools
        .iter()
        .map(|t| {
            let mut c = serde_json::json!({"type": "application", "name": t.name});
            if let Some(version) = &t.version {
                c["version"] = serde_json::Value::String(version.clone());
            }
            c
        })
        .collect();
    serde_json::json!({ "components": components }).serialize(serializer)
}

fn deserialize_tools<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Tool>, D::Error> {
    #[derive(Deserialize)]
    struct LegacyTool {
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        version: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Tools {
        Legacy(Vec<LegacyTool>),
        Modern {
            #[serde(default)]
            components: Vec<LegacyTool>,
        },
    }
    let tools = match Option::<Tools>::deserialize(deserializer)? {
        None => return Ok(Vec::new()),
        Some(Tools::Legacy(tools)) => tools,
        Some(Tools::Modern { components }) => components,
    };
    Ok(tools.into_iter().filter_map(|t| Some(Tool { name: t.name?, version: t.version })).collect())
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Component {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    pub bom_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplier: Option<OrganizationalEntity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct OrganizationalEntity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Hash {
    pub alg: String,
    pub content: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct LicenseChoice {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<License>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct License {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Property {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub(crate) struct Dependency {
    #[serde(rename = "ref")]
    pub reference: String,
    #[serde(rename = "dependsOn", skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

fn properties(props: Props) -> Vec<Property> {
    props.into_iter().map(|(name, value)| Property { name, value: Some(value) }).collect()
}

fn to_props(properties: &[Property]) -> Props {
    properties.iter().map(|p| (p.name.clone(), p.value.clone().unwrap_or_default())).collect()
}

/// A `bom-ref` from a package id: printable ASCII without whitespace or
/// markup characters; anything else becomes `_`.
fn bom_ref(id: &str, taken: &mut BTreeSet<String>) -> String {
    let clean: String = id
        .chars()
        .map(|c| if c.is_ascii_graphic() && !matches!(c, '"' | '\'' | '<' | '>' | '&' | '\\' | '`') { c } else { '_' })
        .collect();
    common::unique(clean, taken)
}

/// Licences of a package. CycloneDX 1.6 allows either a list of `license`
/// entries or a single `expression`: one compound expression alone is written
/// as `expression`; otherwise SPDX ids as `license.id` and everything else
/// (compound expressions included) as `license.name`, which reads back as the
/// same strings.
fn licenses(package: &Package) -> Vec<LicenseChoice> {
    let licenses: Vec<&str> = package.licenses.iter().map(|l| l.trim()).filter(|l| !l.is_empty()).collect();
    if let [only] = licenses.as_slice()
        && common::classify_license(only) == LicenseKind::Expression
    {
        return vec![LicenseChoice { license: None, expression: Some((*only).to_owned()) }];
    }
    licenses
        .into_iter()
        .map(|l| {
            let license = if common::classify_license(l) == LicenseKind::Id {
                License { id: Some(l.to_owned()), name: None }
            } else {
                License { id: None, name: Some(l.to_owned()) }
            };
            LicenseChoice { license: Some(license), expression: None }
        })
        .collect()
}

/// The native model as a CycloneDX document.
pub(crate) fn build(sbom: &Sbom, options: &WriteOptions) -> Bom {
    let mut taken = BTreeSet::new();
    let subject_ref = match &sbom.source.image {
        Some(image) => format!("image:{}", image.config_digest),
        None => format!("{}:{}", sbom.source.scheme, sbom.source.input),
    };
    let subject_ref = bom_ref(&subject_ref, &mut taken);
    let subject = match &sbom.source.image {
        Some(image) => Component {
            kind: "container".to_owned(),
            bom_ref: Some(subject_ref.clone()),
            name: image.references.first().cloned().unwrap_or_else(|| sbom.source.input.clone()),
            version: image.manifest_digest.clone().or_else(|| Some(image.config_digest.clone())),
            ..Component::default()
        },
        None => Component {
            kind: "file".to_owned(),
            bom_ref: Some(subject_ref.clone()),
            name: sbom.source.input.clone(),
            ..Component::default()
        },
    };
    let mut components = Vec::with_capacity(sbom.packages.len() + 1);
    if let Some(distro) = &sbom.distro {
        let reference = match &distro.version_id {
            Some(version) => format!("os:{}@{}", distro.id, version),
            None => format!("os:{}", distro.id),
        };
        components.push(Component {
            kind: "operating-system".to_owned(),
            bom_ref: Some(bom_ref(&reference, &mut taken)),
            name: distro.id.clone(),
            version: distro.version_id.clone(),
            description: distro.pretty_name.clone(),
            properties: if options.portcullis_properties {
                properties(props::distro_props(distro))
            } else {
                Vec::new()
            },
            ..Component::default()
        });
    }
    for package in &sbom.packages {
        let cpes = common::package_cpes(package);
        let mut props = if options.portcullis_properties { props::package_props(package) } else { Props::new() };
        for cpe in cpes.iter().skip(1) {
            props.push(("portcullis:cpe23".to_owned(), cpe.clone()));
        }
        components.push(Component {
            kind: "library".to_owned(),
            bom_ref: Some(bom_ref(&package.id, &mut taken)),
            supplier: package.vendor.clone().map(|name| OrganizationalEntity { name: Some(name) }),
            publisher: package.maintainer.clone(),
            name: package.name.clone(),
            version: (!package.version.is_empty()).then(|| package.version.clone()),
            hashes: common::package_hashes(package)
                .into_iter()
                .map(|h| Hash { alg: h.cyclonedx_alg().to_owned(), content: h.hex })
                .collect(),
            licenses: licenses(package),
            cpe: cpes.first().cloned(),
            purl: (!package.purl.is_empty()).then(|| package.purl.clone()),
            properties: properties(props),
            ..Component::default()
        });
    }
    let dependencies = vec![Dependency {
        reference: subject_ref,
        depends_on: components.iter().filter_map(|c| c.bom_ref.clone()).collect(),
    }];
    let metadata = Metadata {
        timestamp: Some(options.timestamp()),
        tools: vec![Tool { name: "portcullis".to_owned(), version: Some(TOOL_VERSION.to_owned()) }],
        component: Some(subject),
        properties: if options.portcullis_properties { properties(props::document_props(sbom)) } else { Vec::new() },
    };
    Bom {
        schema: Some(JSON_SCHEMA.to_owned()),
        bom_format: "CycloneDX".to_owned(),
        spec_version: SPEC_VERSION.to_owned(),
        serial_number: Some(format!("urn:uuid:{}", options.uuid())),
        version: 1,
        metadata: Some(metadata),
        components,
        dependencies,
    }
}

pub(crate) fn write_json(sbom: &Sbom, options: &WriteOptions) -> String {
    // Plain data with string keys: serialisation cannot fail.
    serde_json::to_string_pretty(&build(sbom, options)).unwrap_or_default()
}

pub(crate) fn read_json(bytes: &[u8]) -> Result<Sbom, FormatError> {
    let bom: Bom = super::json_from_slice(bytes, "CycloneDX JSON")?;
    to_sbom(bom, "CycloneDX JSON")
}

/// Component types that describe a package (others are files, the OS, containers, data...).
fn is_package_type(kind: &str) -> bool {
    matches!(kind, "library" | "framework" | "application" | "firmware" | "")
}

/// The native model from a CycloneDX document (either encoding).
pub(crate) fn to_sbom(bom: Bom, format: &'static str) -> Result<Sbom, FormatError> {
    if bom.bom_format != "CycloneDX" {
        return Err(FormatError::Invalid {
            format,
            location: "bomFormat".to_owned(),
            message: format!("`{}`, expected `CycloneDX`", bom.bom_format),
        });
    }
    let spec_version = bom.spec_version.trim();
    if !spec_version.is_empty() && !spec_version.starts_with("1.") {
        return Err(FormatError::UnsupportedVersion {
            format: "CycloneDX",
            version: spec_version.to_owned(),
            supported: "CycloneDX 1.x is read",
        });
    }
    let metadata = bom.metadata.unwrap_or_default();
    let tool = metadata
        .tools
        .first()
        .map(|t| ToolInfo { name: t.name.clone(), version: t.version.clone().unwrap_or_default() })
        .unwrap_or_else(|| ToolInfo { name: "unknown".to_owned(), version: String::new() });
    let mut sbom = Sbom {
        schema: SchemaInfo::default(),
        tool,
        source: foreign_source(metadata.component.as_ref()),
        distro: None,
        layers: Vec::new(),
        packages: Vec::new(),
        files: Vec::new(),
        secrets: Vec::new(),
        content_matches: Vec::new(),
        retrieved_files: Vec::new(),
        dockerfile: None,
    };
    let document_props = to_props(&metadata.properties);
    let portcullis_document = props::apply_document_props(&mut sbom, &document_props);
    let mut packages = Vec::new();
    collect(&bom.components, 0, &mut sbom.distro, &mut packages, format)?;
    if let Some(subject) = &metadata.component {
        // Some tools nest the image's packages under the metadata component.
        collect(&subject.components, 1, &mut sbom.distro, &mut packages, format)?;
    }
    if sbom.distro.is_none() && !portcullis_document {
        sbom.distro = common::distro_from_purls(packages.iter().map(|p| p.purl.as_str()));
    }
    sbom.packages = common::finish_packages(packages);
    Ok(sbom)
}

fn collect(
    components: &[Component],
    depth: usize,
    distro: &mut Option<Distro>,
    packages: &mut Vec<Package>,
    format: &'static str,
) -> Result<(), FormatError> {
    if depth > MAX_COMPONENT_DEPTH {
        return Err(FormatError::Invalid {
            format,
            location: "components".to_owned(),
            message: format!("components nested more than {MAX_COMPONENT_DEPTH} deep"),
        });
    }
    for component in components {
        if component.kind == "operating-system" {
            if distro.is_none() {
                let mut d = Distro {
                    id: component.name.to_lowercase(),
                    version_id: component.version.clone(),
                    pretty_name: component.description.clone(),
                    ..Distro::default()
                };
                props::apply_distro_props(&mut d, &to_props(&component.properties));
                *distro = Some(d);
            }
        } else if is_package_type(&component.kind) && !component.name.is_empty() {
            packages.push(common::to_package(foreign_package(component)));
        }
        collect(&component.components, depth + 1, distro, packages, format)?;
    }
    Ok(())
}

fn foreign_package(component: &Component) -> ForeignPackage {
    let all_props = to_props(&component.properties);
    let mut licenses = Vec::new();
    for choice in &component.licenses {
        if let Some(expression) = &choice.expression {
            licenses.push(expression.trim().to_owned());
        }
        if let Some(license) = &choice.license
            && let Some(text) = license.id.as_ref().or(license.name.as_ref())
        {
            licenses.push(text.trim().to_owned());
        }
    }
    licenses.retain(|l| !l.is_empty());
    let mut cpes: Vec<String> = component.cpe.iter().cloned().collect();
    for (name, value) in &all_props {
        if matches!(name.as_str(), "syft:cpe23" | "portcullis:cpe23") && !cpes.contains(value) {
            cpes.push(value.clone());
        }
    }
    let portcullis: Props = all_props.iter().filter(|(n, _)| n.starts_with("portcullis:")).cloned().collect();
    ForeignPackage {
        name: component.name.clone(),
        version: component.version.clone().unwrap_or_default(),
        purl: component.purl.clone(),
        licenses,
        cpes,
        hashes: component.hashes.iter().filter_map(|h| HashValue::new(&h.alg, &h.content)).collect(),
        location_paths: props::syft_locations(&all_props),
        found_by: props::get(&all_props, "syft:package:foundBy").map(str::to_owned),
        type_hint: props::get(&all_props, "syft:package:type").map(str::to_owned),
        vendor: component.supplier.as_ref().and_then(|s| s.name.clone()),
        maintainer: component.publisher.clone().or_else(|| component.author.clone()),
        props: portcullis,
    }
}

/// What a document from another tool says was analysed: scheme `sbom`, the
/// subject's name as input, and for a `container` subject its digest.
fn foreign_source(subject: Option<&Component>) -> SourceInfo {
    let input = subject.map(|s| s.name.clone()).unwrap_or_default();
    let image = subject.filter(|s| s.kind == "container").map(|s| ImageInfo {
        manifest_digest: s.version.clone().filter(|v| v.contains(':')),
        references: vec![s.name.clone()],
        ..ImageInfo::default()
    });
    SourceInfo { scheme: "sbom".to_owned(), input, scope: "squashed".to_owned(), image }
}
