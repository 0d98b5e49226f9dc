//! The standard formats on a real analysis: the native JSON document named by
//! `PORTCULLIS_SBOM_SAMPLE` (e.g. `portcullis sbom oci-dir:target/lab/oci/deb-python
//! -o json=sample.json`) is written in every standard format, each document is
//! checked by the official validators, and reading it back gives the same
//! packages. Without the variable the test says so and passes: the CLI tests
//! provide the sample.

mod common;

use portcullis_sbom::Sbom;
use portcullis_sbom::format::{self, Format, WriteOptions};

#[test]
fn real_sbom_in_every_standard_format() {
    let Some(path) = std::env::var_os("PORTCULLIS_SBOM_SAMPLE") else {
        eprintln!("PORTCULLIS_SBOM_SAMPLE is not set: nothing to check");
        return;
    };
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.to_string_lossy()));
    let samples: Vec<Sbom> = format::read_all(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.to_string_lossy()));
    assert!(!samples.is_empty());
    let mut documents = Vec::new();
    for (index, sbom) in samples.iter().enumerate() {
        assert!(!sbom.packages.is_empty(), "sample {index} has no packages");
        for format in [Format::CycloneDxJson, Format::CycloneDxXml, Format::SpdxJson, Format::SpdxTagValue] {
            for options in [
                WriteOptions::default(),
                WriteOptions { portcullis_properties: false, spdx_files: true, ..WriteOptions::default() },
            ] {
                let text = format::write(sbom, format, &options).unwrap();
                let back = format::read(text.as_bytes()).unwrap_or_else(|e| panic!("{format}: {e}"));
                common::assert_same_packages(&format!("sample {index} via {format}"), sbom, &back);
                if options.portcullis_properties {
                    assert_eq!(back.distro, sbom.distro, "{format}");
                    assert_eq!(back.layers, sbom.layers, "{format}");
                    assert_eq!(back.source, sbom.source, "{format}");
                    for (want, got) in sbom.packages.iter().zip(&back.packages) {
                        let mut want = want.clone();
                        want.files.clear();
                        assert_eq!(&want, got, "{format}");
                    }
                }
                documents.push((format, format!("sample {index} {format} {options:?}"), text));
            }
        }
    }
    common::validate(&documents);
    eprintln!("{}: {} documents valid ({})", path.to_string_lossy(), documents.len(), common::validator_versions());
}
