//! Wiring of the apk parser to an image.

use portcullis_sbom::Package;

use super::{ApkEntry, INSTALLED_DB, parse_installed, to_package};
use crate::analyze::AnalyzeError;
use crate::context::CatalogContext;

/// Catalogues the apk database of the image.
pub(crate) fn catalog(cx: &CatalogContext<'_>) -> Result<Vec<Package>, AnalyzeError> {
    let parse = |data: &[u8]| parse_installed(data).map_err(|e| e.to_string());
    let key = |e: &ApkEntry| (e.name.clone(), e.version.clone(), e.arch.clone());
    Ok(cx
        .database(INSTALLED_DB, parse, key)?
        .into_iter()
        .map(|(entry, location, layer)| {
            let mut package = to_package(&entry, cx.distro);
            package.locations = vec![location];
            package.introduced_in_layer = Some(layer);
            package
        })
        .collect())
}
