//! Wiring of the Python parsers to an image: one package per metadata file,
//! with the files its RECORD (or installed-files.txt) lists.

use portcullis_sbom::Package;

use super::{
    EggLimits, PATTERNS, PythonFile, classify, installed_files, normalize_name, parse_direct_url, parse_egg,
    parse_installed_files, parse_metadata, parse_record, parse_top_level, record_files_checked, site_packages_dir,
    to_package,
};
use crate::analyze::AnalyzeError;
use crate::context::{CatalogContext, Document};

pub(crate) fn catalog(cx: &CatalogContext<'_>) -> Result<Vec<Package>, AnalyzeError> {
    let documents = cx.documents(PATTERNS)?;
    let sibling = |doc: &Document, name: &str| {
        let dir = doc.path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let wanted = format!("{dir}/{name}");
        documents
            .iter()
            .find(|d| d.path == wanted && d.layer == doc.layer)
            .or_else(|| documents.iter().find(|d| d.path == wanted))
    };
    let mut packages = Vec::new();
    for doc in &documents {
        let kind = classify(&doc.path);
        let parsed = match kind {
            Some(PythonFile::Metadata | PythonFile::EggInfoFile) => parse_metadata(&doc.data),
            Some(PythonFile::Egg) => parse_egg(&doc.data, &EggLimits::default()),
            _ => continue,
        };
        let mut meta = match parsed {
            Ok(meta) => meta,
            Err(error) => {
                tracing::warn!(path = doc.path, %error, "unreadable Python package metadata");
                continue;
            }
        };
        // The interpreter's own egg-info (`Python-2.7.egg-info`) describes the runtime, not a package.
        if normalize_name(&meta.name) == "python" {
            continue;
        }
        let mut locations = vec![doc.location.clone()];
        let mut files = Vec::new();
        if let Some(record) = sibling(doc, "RECORD").filter(|_| kind == Some(PythonFile::Metadata)) {
            let site_packages = site_packages_dir(&doc.path).unwrap_or_default();
            match parse_record(&record.data) {
                Ok(entries) => files = record_files_checked(&entries, &site_packages, |p| cx.exists(p)),
                Err(error) => tracing::warn!(path = record.path, %error, "unreadable RECORD"),
            }
            locations.push(record.location.clone());
        } else if let Some(list) = sibling(doc, "installed-files.txt") {
            if let Ok(lines) = parse_installed_files(&list.data) {
                let dir = list.path.rsplit_once('/').map_or("", |(dir, _)| dir);
                files = installed_files(&lines, dir);
            }
            locations.push(list.location.clone());
        }
        if let Some(top_level) = sibling(doc, "top_level.txt") {
            meta.top_level = parse_top_level(&top_level.data);
        }
        if let Some(direct_url) = sibling(doc, "direct_url.json") {
            meta.direct_url = parse_direct_url(&direct_url.data).ok();
        }
        let mut package = to_package(&meta, files);
        package.locations = locations;
        package.introduced_in_layer = Some(doc.layer);
        packages.push(package);
    }
    Ok(packages)
}
