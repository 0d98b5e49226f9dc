//! CycloneDX 1.6 XML: written element by element in the order of the XSD,
//! read through a small element tree into the same model as JSON.

use crate::Sbom;

use super::cyclonedx::{
    self, Bom, Component, Dependency, Hash, License, LicenseChoice, Metadata, OrganizationalEntity, Property, Tool,
};
use super::xml::{self, Element, Writer};
use super::{FormatError, WriteOptions, line_of};

const FORMAT: &str = "CycloneDX XML";
const NAMESPACE_PREFIX: &str = "http://cyclonedx.org/schema/bom/";

pub(crate) fn write(sbom: &Sbom, options: &WriteOptions) -> String {
    let bom = cyclonedx::build(sbom, options);
    let mut w = Writer::new();
    let serial = bom.serial_number.clone().unwrap_or_default();
    w.start("bom", &[("xmlns", cyclonedx::XML_NAMESPACE), ("serialNumber", &serial), ("version", "1")]);
    if let Some(metadata) = &bom.metadata {
        w.start("metadata", &[]);
        if let Some(timestamp) = &metadata.timestamp {
            w.text_element("timestamp", &[], timestamp);
        }
        if !metadata.tools.is_empty() {
            w.start("tools", &[]);
            w.start("components", &[]);
            for tool in &metadata.tools {
                w.start("component", &[("type", "application")]);
                w.text_element("name", &[], &tool.name);
                if let Some(version) = &tool.version {
                    w.text_element("version", &[], version);
                }
                w.end("component");
            }
            w.end("components");
            w.end("tools");
        }
        if let Some(component) = &metadata.component {
            write_component(&mut w, component);
        }
        write_properties(&mut w, &metadata.properties);
        w.end("metadata");
    }
    if !bom.components.is_empty() {
        w.start("components", &[]);
        for component in &bom.components {
            write_component(&mut w, component);
        }
        w.end("components");
    }
    if !bom.dependencies.is_empty() {
        w.start("dependencies", &[]);
        for dependency in &bom.dependencies {
            if dependency.depends_on.is_empty() {
                w.empty("dependency", &[("ref", &dependency.reference)]);
            } else {
                w.start("dependency", &[("ref", &dependency.reference)]);
                for target in &dependency.depends_on {
                    w.empty("dependency", &[("ref", target)]);
                }
                w.end("dependency");
            }
        }
        w.end("dependencies");
    }
    w.end("bom");
    w.finish()
}

fn write_component(w: &mut Writer, c: &Component) {
    let mut attributes = vec![("type", c.kind.as_str())];
    if let Some(reference) = &c.bom_ref {
        attributes.push(("bom-ref", reference.as_str()));
    }
    w.start("component", &attributes);
    if let Some(name) = c.supplier.as_ref().and_then(|s| s.name.as_ref()) {
        w.start("supplier", &[]);
        w.text_element("name", &[], name);
        w.end("supplier");
    }
    for (name, value) in [("author", &c.author), ("publisher", &c.publisher), ("group", &c.group)] {
        if let Some(value) = value {
            w.text_element(name, &[], value);
        }
    }
    w.text_element("name", &[], &c.name);
    for (name, value) in [("version", &c.version), ("description", &c.description)] {
        if let Some(value) = value {
            w.text_element(name, &[], value);
        }
    }
    if !c.hashes.is_empty() {
        w.start("hashes", &[]);
        for hash in &c.hashes {
            w.text_element("hash", &[("alg", &hash.alg)], &hash.content);
        }
        w.end("hashes");
    }
    if !c.licenses.is_empty() {
        w.start("licenses", &[]);
        for choice in &c.licenses {
            if let Some(expression) = &choice.expression {
                w.text_element("expression", &[], expression);
            }
            if let Some(license) = &choice.license {
                w.start("license", &[]);
                if let Some(id) = &license.id {
                    w.text_element("id", &[], id);
                } else if let Some(name) = &license.name {
                    w.text_element("name", &[], name);
                }
                w.end("license");
            }
        }
        w.end("licenses");
    }
    for (name, value) in [("cpe", &c.cpe), ("purl", &c.purl)] {
        if let Some(value) = value {
            w.text_element(name, &[], value);
        }
    }
    write_properties(w, &c.properties);
    if !c.components.is_empty() {
        w.start("components", &[]);
        for child in &c.components {
            write_component(w, child);
        }
        w.end("components");
    }
    w.end("component");
}

fn write_properties(w: &mut Writer, properties: &[Property]) {
    if properties.is_empty() {
        return;
    }
    w.start("properties", &[]);
    for property in properties {
        w.text_element("property", &[("name", &property.name)], property.value.as_deref().unwrap_or(""));
    }
    w.end("properties");
}

fn parse_error(bytes: &[u8], error: xml::XmlError) -> FormatError {
    FormatError::Syntax { format: FORMAT, line: line_of(bytes, error.offset), message: error.message }
}

fn text(bytes: &[u8]) -> Result<&str, FormatError> {
    std::str::from_utf8(bytes).map_err(|e| FormatError::Syntax {
        format: FORMAT,
        line: line_of(bytes, e.valid_up_to()),
        message: "the document is not UTF-8".to_owned(),
    })
}

/// The CycloneDX spec version of a root `bom` element, from its namespace.
fn spec_version(root: &Element) -> Result<String, FormatError> {
    let namespace = root.namespace.as_deref().unwrap_or("");
    match namespace.strip_prefix(NAMESPACE_PREFIX) {
        Some(version) if root.name == "bom" && version.starts_with("1.") => Ok(version.to_owned()),
        _ => Err(FormatError::Unrecognized(format!(
            "the XML root element is <{}> in namespace `{}`, not a CycloneDX <bom> in `{}1.x`",
            root.name,
            if namespace.is_empty() { "(none)" } else { namespace },
            NAMESPACE_PREFIX
        ))),
    }
}

/// Checks that the document's root is a CycloneDX 1.x `bom`.
pub(crate) fn sniff(bytes: &[u8]) -> Result<(), FormatError> {
    let root = xml::parse_root(text(bytes)?).map_err(|e| parse_error(bytes, e))?;
    spec_version(&root).map(|_| ())
}

pub(crate) fn read(bytes: &[u8]) -> Result<Sbom, FormatError> {
    let root = xml::parse(text(bytes)?).map_err(|e| parse_error(bytes, e))?;
    let spec_version = spec_version(&root)?;
    let bom = Bom {
        schema: None,
        bom_format: "CycloneDX".to_owned(),
        spec_version,
        serial_number: root.attribute("serialNumber").map(str::to_owned),
        version: 0,
        metadata: root.child("metadata").map(metadata),
        components: root.child("components").map(components).unwrap_or_default(),
        dependencies: root
            .child("dependencies")
            .map(|d| {
                d.children_named("dependency")
                    .map(|dep| Dependency {
                        reference: dep.attribute("ref").unwrap_or_default().to_owned(),
                        depends_on: dep
                            .children_named("dependency")
                            .filter_map(|t| t.attribute("ref").map(str::to_owned))
                            .collect(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    cyclonedx::to_sbom(bom, FORMAT)
}

fn metadata(element: &Element) -> Metadata {
    let mut tools = Vec::new();
    if let Some(tools_element) = element.child("tools") {
        // 1.5+: <tools><components><component>; 1.4: <tools><tool>.
        let modern = tools_element.child("components").into_iter().flat_map(|c| c.children_named("component"));
        for tool in modern.chain(tools_element.children_named("tool")) {
            if let Some(name) = tool.child_text("name") {
                tools.push(Tool { name, version: tool.child_text("version") });
            }
        }
    }
    Metadata {
        timestamp: element.child_text("timestamp"),
        tools,
        component: element.child("component").map(component),
        properties: element.child("properties").map(properties).unwrap_or_default(),
    }
}

fn components(element: &Element) -> Vec<Component> {
    element.children_named("component").map(component).collect()
}

fn component(element: &Element) -> Component {
    Component {
        kind: element.attribute("type").unwrap_or_default().to_owned(),
        bom_ref: element.attribute("bom-ref").map(str::to_owned),
        supplier: element.child("supplier").map(|s| OrganizationalEntity { name: s.child_text("name") }),
        author: element.child_text("author"),
        publisher: element.child_text("publisher"),
        group: element.child_text("group"),
        name: element.child_text("name").unwrap_or_default(),
        version: element.child_text("version"),
        description: element.child_text("description"),
        hashes: element
            .child("hashes")
            .map(|h| {
                h.children_named("hash")
                    .map(|hash| Hash {
                        alg: hash.attribute("alg").unwrap_or_default().to_owned(),
                        content: hash.text.trim().to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        licenses: element
            .child("licenses")
            .map(|l| {
                l.children
                    .iter()
                    .filter_map(|choice| match choice.name.as_str() {
                        "expression" => Some(LicenseChoice { license: None, expression: Some(choice.text.clone()) }),
                        "license" => Some(LicenseChoice {
                            license: Some(License { id: choice.child_text("id"), name: choice.child_text("name") }),
                            expression: None,
                        }),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        cpe: element.child_text("cpe"),
        purl: element.child_text("purl"),
        properties: element.child("properties").map(properties).unwrap_or_default(),
        components: element.child("components").map(components).unwrap_or_default(),
    }
}

fn properties(element: &Element) -> Vec<Property> {
    element
        .children_named("property")
        .map(|p| Property { name: p.attribute("name").unwrap_or_default().to_owned(), value: Some(p.text.clone()) })
        .collect()
}
