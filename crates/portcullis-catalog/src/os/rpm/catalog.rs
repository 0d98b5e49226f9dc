//! Wiring of the rpm parsers to an image.

use std::collections::HashMap;

use portcullis_sbom::Package;

use super::{DATABASE_PATHS, MANIFEST_PATHS, RpmPackage, parse_database, parse_manifest, to_package};
use crate::analyze::AnalyzeError;
use crate::context::CatalogContext;

/// Catalogues the rpm databases (or the CBL-Mariner manifest) of the image.
pub(crate) fn catalog(cx: &CatalogContext<'_>) -> Result<Vec<Package>, AnalyzeError> {
    let mut packages = Vec::new();
    let mut seen = HashMap::new();
    let key = |p: &RpmPackage| (p.name.clone(), p.epoch, p.version.clone(), p.release.clone(), p.arch.clone());
    let parse_db = |data: &[u8]| parse_database(data).map_err(|e| e.to_string());
    let parse_manifest = |data: &[u8]| parse_manifest(data).map_err(|e| e.to_string());
    let mut found = Vec::new();
    for path in DATABASE_PATHS {
        found.extend(cx.database(path, parse_db, key)?);
    }
    if found.is_empty() {
        for path in MANIFEST_PATHS {
            found.extend(cx.database(path, parse_manifest, key)?);
        }
    }
    for (record, location, layer) in found {
        if record.is_pseudo() || seen.insert(key(&record), ()).is_some() {
            continue;
        }
        let mut package = to_package(&record, cx.distro);
        package.locations = vec![location];
        package.introduced_in_layer = Some(layer);
        packages.push(package);
    }
    Ok(packages)
}
