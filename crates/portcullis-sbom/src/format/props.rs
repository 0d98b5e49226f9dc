//! Portcullis-specific facts as `portcullis:*` name/value properties.
//!
//! CycloneDX carries them as `properties`; SPDX, which has no properties, as
//! one annotation per element whose comment is the JSON object of the same
//! names and values. Reading them back restores what the standard fields
//! cannot hold (layer attribution, cataloger, metadata, image details).

use std::collections::BTreeMap;

use crate::{Distro, ImageInfo, Layer, Location, Package, Sbom, SourceInfo, SourcePackage, ToolInfo};

/// Ordered name/value pairs.
pub(crate) type Props = Vec<(String, String)>;

pub(crate) fn get<'a>(props: &'a Props, name: &str) -> Option<&'a str> {
    props.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn push(props: &mut Props, name: impl Into<String>, value: impl Into<String>) {
    props.push((name.into(), value.into()));
}

fn push_opt(props: &mut Props, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        push(props, name, value);
    }
}

/// Whether `props` hold a package written by Portcullis.
pub(crate) fn has_package_props(props: &Props) -> bool {
    get(props, "portcullis:id").is_some()
}

pub(crate) fn package_props(package: &Package) -> Props {
    let mut props = Props::new();
    push(&mut props, "portcullis:id", &package.id);
    push(&mut props, "portcullis:type", package.package_type.as_str());
    push_opt(&mut props, "portcullis:arch", package.arch.as_deref());
    push_opt(&mut props, "portcullis:found_by", package.found_by.as_deref());
    push_opt(&mut props, "portcullis:owner", package.owner.as_deref());
    if let Some(layer) = package.introduced_in_layer {
        push(&mut props, "portcullis:introduced_in_layer", layer.to_string());
    }
    if let Some(size) = package.installed_size {
        push(&mut props, "portcullis:installed_size", size.to_string());
    }
    if let Some(source) = &package.source {
        push(&mut props, "portcullis:source:name", &source.name);
        push_opt(&mut props, "portcullis:source:version", source.version.as_deref());
    }
    push_opt(&mut props, "portcullis:maintainer", package.maintainer.as_deref());
    push_opt(&mut props, "portcullis:vendor", package.vendor.as_deref());
    for (i, location) in package.locations.iter().enumerate() {
        push(&mut props, format!("portcullis:location:{i}:path"), &location.path);
        if let Some(layer) = location.layer_index {
            push(&mut props, format!("portcullis:location:{i}:layer_index"), layer.to_string());
        }
        push_opt(&mut props, &format!("portcullis:location:{i}:layer_diff_id"), location.layer_diff_id.as_deref());
    }
    for (key, value) in &package.metadata {
        push(&mut props, format!("portcullis:metadata:{key}"), value.to_string());
    }
    props
}

pub(crate) fn source(props: &Props) -> Option<SourcePackage> {
    let name = get(props, "portcullis:source:name")?;
    Some(SourcePackage { name: name.to_owned(), version: get(props, "portcullis:source:version").map(str::to_owned) })
}

/// `portcullis:location:N:*` in index order.
pub(crate) fn locations(props: &Props) -> Vec<Location> {
    let mut by_index: BTreeMap<usize, Location> = BTreeMap::new();
    for (name, value) in props {
        let Some(rest) = name.strip_prefix("portcullis:location:") else { continue };
        let Some((index, field)) = rest.split_once(':') else { continue };
        let Ok(index) = index.parse::<usize>() else { continue };
        let location = by_index.entry(index).or_insert_with(|| Location {
            path: String::new(),
            layer_index: None,
            layer_diff_id: None,
        });
        match field {
            "path" => location.path = value.clone(),
            "layer_index" => location.layer_index = value.parse().ok(),
            "layer_diff_id" => location.layer_diff_id = Some(value.clone()),
            _ => {}
        }
    }
    by_index.into_values().filter(|l| !l.path.is_empty()).collect()
}

/// `portcullis:metadata:KEY` values (JSON text; plain text if it does not parse).
pub(crate) fn metadata(props: &Props) -> BTreeMap<String, serde_json::Value> {
    props
        .iter()
        .filter_map(|(name, value)| {
            let key = name.strip_prefix("portcullis:metadata:")?;
            let value = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.clone()));
            Some((key.to_owned(), value))
        })
        .collect()
}

/// Document-level facts: the analysing tool, the source, the image and its layers.
pub(crate) fn document_props(sbom: &Sbom) -> Props {
    let mut props = Props::new();
    push(&mut props, "portcullis:schema_version", &sbom.schema.version);
    push(&mut props, "portcullis:tool:name", &sbom.tool.name);
    push(&mut props, "portcullis:tool:version", &sbom.tool.version);
    push(&mut props, "portcullis:source:scheme", &sbom.source.scheme);
    push(&mut props, "portcullis:source:input", &sbom.source.input);
    push(&mut props, "portcullis:source:scope", &sbom.source.scope);
    if let Some(image) = &sbom.source.image {
        push(&mut props, "portcullis:image:config_digest", &image.config_digest);
        push_opt(&mut props, "portcullis:image:manifest_digest", image.manifest_digest.as_deref());
        push_opt(&mut props, "portcullis:image:index_digest", image.index_digest.as_deref());
        push_opt(&mut props, "portcullis:image:manifest_media_type", image.manifest_media_type.as_deref());
        push_opt(&mut props, "portcullis:image:platform", image.platform.as_deref());
        push_opt(&mut props, "portcullis:image:created", image.created.as_deref());
        for (i, reference) in image.references.iter().enumerate() {
            push(&mut props, format!("portcullis:image:reference:{i}"), reference);
        }
        push(&mut props, "portcullis:image:config", json(&image.config));
        push(&mut props, "portcullis:image:history", json(&image.history));
    }
    for layer in &sbom.layers {
        let i = layer.index;
        push_opt(&mut props, &format!("portcullis:layer:{i}:digest"), layer.digest.as_deref());
        push_opt(&mut props, &format!("portcullis:layer:{i}:diff_id"), layer.diff_id.as_deref());
        push_opt(&mut props, &format!("portcullis:layer:{i}:media_type"), layer.media_type.as_deref());
        if let Some(size) = layer.size {
            push(&mut props, format!("portcullis:layer:{i}:size"), size.to_string());
        }
        push(&mut props, format!("portcullis:layer:{i}:uncompressed_size"), layer.uncompressed_size.to_string());
        push(&mut props, format!("portcullis:layer:{i}:file_count"), layer.file_count.to_string());
    }
    props
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Applies document-level properties; returns false if there were none.
pub(crate) fn apply_document_props(sbom: &mut Sbom, props: &Props) -> bool {
    let Some(scheme) = get(props, "portcullis:source:scheme") else { return false };
    sbom.source = SourceInfo {
        scheme: scheme.to_owned(),
        input: get(props, "portcullis:source:input").unwrap_or_default().to_owned(),
        scope: get(props, "portcullis:source:scope").unwrap_or("squashed").to_owned(),
        image: None,
    };
    if let (Some(name), Some(version)) = (get(props, "portcullis:tool:name"), get(props, "portcullis:tool:version")) {
        sbom.tool = ToolInfo { name: name.to_owned(), version: version.to_owned() };
    }
    if let Some(config_digest) = get(props, "portcullis:image:config_digest") {
        let opt = |name: &str| get(props, name).map(str::to_owned);
        let mut references: Vec<(usize, String)> = props
            .iter()
            .filter_map(|(n, v)| Some((n.strip_prefix("portcullis:image:reference:")?.parse().ok()?, v.clone())))
            .collect();
        references.sort();
        sbom.source.image = Some(ImageInfo {
            manifest_digest: opt("portcullis:image:manifest_digest"),
            index_digest: opt("portcullis:image:index_digest"),
            manifest_media_type: opt("portcullis:image:manifest_media_type"),
            config_digest: config_digest.to_owned(),
            references: references.into_iter().map(|(_, r)| r).collect(),
            platform: opt("portcullis:image:platform"),
            created: opt("portcullis:image:created"),
            config: get(props, "portcullis:image:config")
                .and_then(|c| serde_json::from_str(c).ok())
                .unwrap_or_default(),
            history: get(props, "portcullis:image:history")
                .and_then(|h| serde_json::from_str(h).ok())
                .unwrap_or_default(),
        });
    }
    let mut layers: BTreeMap<usize, Layer> = BTreeMap::new();
    for (name, value) in props {
        let Some(rest) = name.strip_prefix("portcullis:layer:") else { continue };
        let Some((index, field)) = rest.split_once(':') else { continue };
        let Ok(index) = index.parse::<usize>() else { continue };
        let layer = layers.entry(index).or_insert_with(|| Layer {
            index,
            digest: None,
            diff_id: None,
            media_type: None,
            size: None,
            uncompressed_size: 0,
            file_count: 0,
        });
        match field {
            "digest" => layer.digest = Some(value.clone()),
            "diff_id" => layer.diff_id = Some(value.clone()),
            "media_type" => layer.media_type = Some(value.clone()),
            "size" => layer.size = value.parse().ok(),
            "uncompressed_size" => layer.uncompressed_size = value.parse().unwrap_or_default(),
            "file_count" => layer.file_count = value.parse().unwrap_or_default(),
            _ => {}
        }
    }
    sbom.layers = layers.into_values().collect();
    true
}

pub(crate) fn distro_props(distro: &Distro) -> Props {
    let mut props = Props::new();
    push(&mut props, "portcullis:distro:id", &distro.id);
    push_opt(&mut props, "portcullis:distro:version_id", distro.version_id.as_deref());
    push_opt(&mut props, "portcullis:distro:version_codename", distro.version_codename.as_deref());
    for (i, like) in distro.id_like.iter().enumerate() {
        push(&mut props, format!("portcullis:distro:id_like:{i}"), like);
    }
    push_opt(&mut props, "portcullis:distro:name", distro.name.as_deref());
    push_opt(&mut props, "portcullis:distro:pretty_name", distro.pretty_name.as_deref());
    push_opt(&mut props, "portcullis:distro:cpe_name", distro.cpe_name.as_deref());
    push(&mut props, "portcullis:distro:source_file", &distro.source_file);
    props
}

/// A distro from Portcullis' or syft's properties, over what the standard fields said.
pub(crate) fn apply_distro_props(distro: &mut Distro, props: &Props) {
    let opt = |names: &[&str]| names.iter().find_map(|n| get(props, n)).map(str::to_owned);
    if let Some(id) = opt(&["portcullis:distro:id", "syft:distro:id"]) {
        distro.id = id;
    }
    for (field, names) in [
        (&mut distro.version_id, ["portcullis:distro:version_id", "syft:distro:versionID"]),
        (&mut distro.version_codename, ["portcullis:distro:version_codename", "syft:distro:versionCodename"]),
        (&mut distro.name, ["portcullis:distro:name", "syft:distro:name"]),
        (&mut distro.pretty_name, ["portcullis:distro:pretty_name", "syft:distro:prettyName"]),
        (&mut distro.cpe_name, ["portcullis:distro:cpe_name", "syft:distro:cpeName"]),
    ] {
        if let Some(value) = opt(&names) {
            *field = Some(value);
        }
    }
    let mut like: Vec<(usize, String)> = props
        .iter()
        .filter_map(|(n, v)| Some((n.strip_prefix("portcullis:distro:id_like:")?.parse().ok()?, v.clone())))
        .collect();
    if like.is_empty() {
        // syft writes `syft:distro:idLike:0`...
        like = props
            .iter()
            .filter_map(|(n, v)| Some((n.strip_prefix("syft:distro:idLike:")?.parse().ok()?, v.clone())))
            .collect();
    }
    if !like.is_empty() {
        like.sort();
        distro.id_like = like.into_iter().map(|(_, v)| v).collect();
    }
    if let Some(file) = get(props, "portcullis:distro:source_file") {
        distro.source_file = file.to_owned();
    }
}

/// syft's per-package properties: location paths and cataloger.
pub(crate) fn syft_locations(props: &Props) -> Vec<String> {
    let mut paths: Vec<(usize, String)> = props
        .iter()
        .filter_map(|(n, v)| {
            let rest = n.strip_prefix("syft:location:")?;
            let (index, field) = rest.split_once(':')?;
            (field == "path").then_some(())?;
            Some((index.parse().ok()?, v.clone()))
        })
        .collect();
    paths.sort();
    paths.into_iter().map(|(_, p)| p).collect()
}

/// Serialises properties as the JSON object carried in an SPDX annotation.
pub(crate) fn to_annotation_comment(props: &Props) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        props.iter().map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone()))).collect();
    serde_json::Value::Object(map).to_string()
}

/// The properties in an annotation comment written by [`to_annotation_comment`].
pub(crate) fn from_annotation_comment(comment: &str) -> Option<Props> {
    let serde_json::Value::Object(map) = serde_json::from_str(comment.trim()).ok()? else { return None };
    let props: Props = map
        .into_iter()
        .filter_map(|(n, v)| Some((n, v.as_str()?.to_owned())))
        .filter(|(n, _)| n.starts_with("portcullis:"))
        .collect();
    (!props.is_empty()).then_some(props)
}
