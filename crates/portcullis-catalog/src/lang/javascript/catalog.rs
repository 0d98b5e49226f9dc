//! Wiring of the JavaScript parsers to an image.
//!
//! Installed packages (`package.json` files) are what an image contains. A
//! lockfile next to a `node_modules` directory only adds evidence to the
//! installed packages it names; a lockfile without one (sources copied into
//! the image, nothing installed) is reported on its own, since it is then
//! the only record of what the project depends on.

use std::collections::HashMap;

use portcullis_sbom::Package;

use super::{
    JsFile, NpmPackage, PATTERNS, classify, parse_package_json_at, parse_package_lock, parse_pnpm_lock,
    parse_yarn_lock, to_package,
};
use crate::analyze::AnalyzeError;
use crate::context::CatalogContext;

pub(crate) fn catalog(cx: &CatalogContext<'_>) -> Result<Vec<Package>, AnalyzeError> {
    let documents = cx.documents(PATTERNS)?;
    let mut packages: Vec<Package> = Vec::new();
    let mut lockfiles = Vec::new();
    for doc in &documents {
        let parsed: Result<Vec<NpmPackage>, _> = match classify(&doc.path) {
            Some(JsFile::PackageJson) => parse_package_json_at(&doc.path, &doc.data).map(|p| p.into_iter().collect()),
            Some(JsFile::PackageLock) => parse_package_lock(&doc.data),
            Some(JsFile::YarnLock) => parse_yarn_lock(&doc.data),
            Some(JsFile::PnpmLock) => parse_pnpm_lock(&doc.data),
            None => continue,
        };
        let found = match parsed {
            Ok(found) => found,
            Err(error) => {
                tracing::warn!(path = doc.path, %error, "unreadable JavaScript package file");
                continue;
            }
        };
        let is_lockfile = classify(&doc.path) != Some(JsFile::PackageJson);
        for npm in found {
            let mut package = to_package(&npm);
            package.locations = vec![doc.location.clone()];
            package.introduced_in_layer = Some(doc.layer);
            if is_lockfile {
                lockfiles.push((doc.path.clone(), package));
            } else {
                packages.push(package);
            }
        }
    }
    let installed: HashMap<String, usize> = packages.iter().enumerate().map(|(i, p)| (p.id.clone(), i)).collect();
    for (lockfile, package) in lockfiles {
        let project = lockfile.rsplit_once('/').map_or("", |(dir, _)| dir);
        if cx.exists(&format!("{project}/node_modules")) {
            if let Some(&index) = installed.get(&package.id) {
                packages[index].locations.extend(package.locations);
            }
        } else {
            packages.push(package);
        }
    }
    Ok(packages)
}
