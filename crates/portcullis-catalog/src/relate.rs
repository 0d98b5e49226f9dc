//! Relations between packages found by different catalogers.

use std::collections::HashMap;

use portcullis_sbom::{FileRecord, Package};

use crate::binary::classifiers;

/// Merges packages with the same id (same ecosystem, name, version and
/// architecture) found at several places into one, with every location; the
/// earliest layer counts as the one that introduced it.
pub(crate) fn merge_duplicates(packages: Vec<Package>) -> Vec<Package> {
    let mut merged: Vec<Package> = Vec::with_capacity(packages.len());
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for package in packages {
        match by_id.get(&package.id) {
            Some(&index) => {
                let kept = &mut merged[index];
                for location in package.locations {
                    if !kept.locations.contains(&location) {
                        kept.locations.push(location);
                    }
                }
                // Two classifiers can name the same software with different CPEs (curl, libcurl).
                if let Some(serde_json::Value::Array(more)) = package.metadata.get("cpes")
                    && let serde_json::Value::Array(cpes) =
                        kept.metadata.entry("cpes".to_owned()).or_insert_with(|| serde_json::Value::Array(Vec::new()))
                {
                    for cpe in more {
                        if !cpes.contains(cpe) {
                            cpes.push(cpe.clone());
                        }
                    }
                }
                kept.introduced_in_layer = match (kept.introduced_in_layer, package.introduced_in_layer) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            None => {
                by_id.insert(package.id.clone(), merged.len());
                merged.push(package);
            }
        }
    }
    merged
}

/// Links every language or binary package whose evidence is a file an OS
/// package installed to that OS package (`owner`): Debian's `python3-yaml`
/// ships the `PyYAML` dist-info, so a finding against one is a finding
/// against the other and policy can count it once. A classifier's guess
/// about a file an OS package owns adds nothing the OS package does not say
/// better, so those are dropped (as syft does).
///
/// Paths are compared after `canonical` (symlinked directories resolved):
/// dpkg lists `/bin/bash` where a merged-/usr image stores `/usr/bin/bash`.
pub(crate) fn relate_to_os_packages(packages: Vec<Package>, canonical: &dyn Fn(&str) -> String) -> Vec<Package> {
    let mut owners: HashMap<String, &str> = HashMap::new();
    for package in packages.iter().filter(|p| p.package_type.is_os()) {
        for file in &package.files {
            owners.entry(canonical(&file.path)).or_insert(package.id.as_str());
        }
    }
    let owner_of = |package: &Package| {
        package.locations.iter().find_map(|l| owners.get(&canonical(&l.path))).map(|id| (*id).to_owned())
    };
    let assigned: Vec<Option<String>> =
        packages.iter().map(|p| if p.package_type.is_os() { None } else { owner_of(p) }).collect();
    packages
        .into_iter()
        .zip(assigned)
        .filter_map(|(mut package, owner)| {
            if owner.is_some() && package.found_by.as_deref() == Some(classifiers::FOUND_BY) {
                return None;
            }
            package.owner = owner;
            Some(package)
        })
        .collect()
}

/// Fills each file record's `owners` with the packages that list the file
/// (paths compared after `canonical`, as in [`relate_to_os_packages`]).
pub(crate) fn mark_file_owners(files: &mut [FileRecord], packages: &[Package], canonical: &dyn Fn(&str) -> String) {
    let mut owners: HashMap<String, Vec<&str>> = HashMap::new();
    for package in packages {
        for file in &package.files {
            owners.entry(canonical(&file.path)).or_default().push(package.id.as_str());
        }
    }
    for record in files {
        if let Some(ids) = owners.get(record.path.as_str()) {
            record.owners = ids.iter().map(|id| (*id).to_owned()).collect();
        }
    }
}
