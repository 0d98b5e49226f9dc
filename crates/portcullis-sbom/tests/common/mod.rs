//! Shared by the format tests: the official validators (from the test kit)
//! keyed by [`Format`], and package-set comparison.

#![allow(dead_code)]

use std::collections::BTreeSet;

use portcullis_sbom::Sbom;
use portcullis_sbom::format::Format;

pub use portcullis_testkit::schema::validator_versions;

/// Validates every document with the official validator of its format;
/// panics with the validator's messages if any is invalid.
pub fn validate(documents: &[(Format, String, String)]) {
    let named: Vec<(&str, String, String)> =
        documents.iter().map(|(format, label, text)| (format.name(), label.clone(), text.clone())).collect();
    portcullis_testkit::schema::validate(&named);
}

/// (id, name, version, type, purl, licences) of each package.
pub type PackageKey = (String, String, String, String, String, Vec<String>);

pub fn package_keys(sbom: &Sbom) -> BTreeSet<PackageKey> {
    sbom.packages
        .iter()
        .map(|p| {
            (
                p.id.clone(),
                p.name.clone(),
                p.version.clone(),
                p.package_type.as_str().to_owned(),
                p.purl.clone(),
                p.licenses.clone(),
            )
        })
        .collect()
}

/// Panics listing the differences if the two SBOMs' package sets differ.
pub fn assert_same_packages(label: &str, expected: &Sbom, actual: &Sbom) {
    let expected_keys = package_keys(expected);
    let actual_keys = package_keys(actual);
    if expected_keys != actual_keys {
        let missing: Vec<_> = expected_keys.difference(&actual_keys).collect();
        let extra: Vec<_> = actual_keys.difference(&expected_keys).collect();
        panic!("{label}: package sets differ\nmissing after the round trip: {missing:#?}\nextra: {extra:#?}");
    }
    assert_eq!(expected.packages.len(), actual.packages.len(), "{label}: package count");
}
