//! Wiring of the dpkg parsers to an image.

use std::collections::HashMap;

use portcullis_sbom::{Location, Package};

use super::{
    DpkgEntry, STATUS_D_PATTERN, STATUS_FILE, copyright_licenses, info_file_stems, is_status_d_entry, owned_files,
    parse_file_list, parse_md5sums, parse_status, to_package,
};
use crate::analyze::AnalyzeError;
use crate::context::CatalogContext;

/// Catalogues the dpkg databases of the image.
pub(crate) fn catalog(cx: &CatalogContext<'_>) -> Result<Vec<Package>, AnalyzeError> {
    let mut databases = vec![STATUS_FILE.to_owned()];
    databases.extend(cx.matching_paths(STATUS_D_PATTERN)?.into_iter().filter(|p| is_status_d_entry(p)));
    let mut packages = Vec::new();
    let key = |e: &DpkgEntry| (e.name.clone(), e.version.clone(), e.architecture.clone());
    let mut seen = HashMap::new();
    let parse = |data: &[u8]| {
        parse_status(data)
            .map(|entries| entries.into_iter().filter(|e| e.installed).collect::<Vec<_>>())
            .map_err(|e| e.to_string())
    };
    for database in databases {
        for (entry, location, layer) in cx.database(&database, parse, key)? {
            if seen.insert(key(&entry), ()).is_some() {
                continue;
            }
            packages.push(package(cx, entry, location, layer));
        }
    }
    Ok(packages)
}

fn package(cx: &CatalogContext<'_>, entry: DpkgEntry, location: Location, layer: usize) -> Package {
    let mut locations = vec![location];
    let mut list = Vec::new();
    let mut md5sums = Vec::new();
    let stems = info_file_stems(&entry.name, entry.architecture.as_deref());
    let [plain, with_arch] = &stems;
    // Distroless keeps md5sums beside the status files; classic images under info/.
    let candidates = [
        format!("/var/lib/dpkg/info/{with_arch}.md5sums"),
        format!("/var/lib/dpkg/info/{plain}.md5sums"),
        format!("/var/lib/dpkg/status.d/{plain}.md5sums"),
    ];
    if let Some((data, location)) = candidates.iter().find_map(|path| cx.supporting_file(path)) {
        md5sums = parse_md5sums(&data);
        locations.push(location);
    }
    let lists = [format!("/var/lib/dpkg/info/{with_arch}.list"), format!("/var/lib/dpkg/info/{plain}.list")];
    if let Some((data, location)) = lists.iter().find_map(|path| cx.supporting_file(path)) {
        list = parse_file_list(&data);
        locations.push(location);
    }
    let files = owned_files(&entry, &list, &md5sums);
    let mut licenses = Vec::new();
    if let Some((data, location)) = cx.supporting_file(&format!("/usr/share/doc/{}/copyright", entry.name)) {
        licenses = copyright_licenses(&data);
        locations.push(location);
    }
    let mut package = to_package(&entry, files, licenses, cx.distro);
    package.locations = locations;
    package.introduced_in_layer = Some(layer);
    package
}
