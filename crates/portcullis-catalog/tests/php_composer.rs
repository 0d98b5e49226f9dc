//! The Composer cataloger against `shared/fixtures/php/` (Composer 1 form)
//! and the same packages rewritten in the Composer 2 form.

use portcullis_catalog::lang::php::{PhpError, parse_installed_json, to_package};
use portcullis_sbom::PackageType;
use portcullis_testkit::data::{expected_json, fixture, read_bytes};
use serde_json::{Value, json};

#[test]
fn composer_1_fixture_and_composer_2_form() {
    let dir = fixture("php/installed-json-composer-v1");
    let expected = expected_json(&dir);
    let bytes = read_bytes(&dir.join("vendor/composer/installed.json"));
    let v1 = parse_installed_json(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert!(v1.skipped.is_empty());
    let want = expected["packages"].as_array().cloned().unwrap_or_default();
    assert_eq!(v1.packages.len(), want.len());
    for (package, want) in v1.packages.iter().zip(&want) {
        assert_eq!(Some(package.name.as_str()), want["name"].as_str());
        assert_eq!(Some(package.version.as_str()), want["version"].as_str());
        assert_eq!(package.package_type.as_deref(), want["type"].as_str());
        assert_eq!(json!(package.licenses), want["license"]);
        assert_eq!(package.source_reference.as_deref(), want["source_reference"].as_str());
        assert!(!package.dev);
    }
    let packages: Vec<_> = v1.packages.iter().map(to_package).collect();
    let purls: Vec<&str> = packages.iter().map(|p| p.purl.as_str()).collect();
    assert_eq!(purls, ["pkg:composer/asm89/stack-cors@1.3.0", "pkg:composer/behat/mink@v1.8.1"]);
    assert_eq!(packages[0].package_type, PackageType::PhpComposer);
    assert_eq!(packages[0].licenses, ["MIT"]);
    assert_eq!(packages[0].metadata["source_url"], "https://github.com/asm89/stack-cors.git");
    assert_eq!(packages[0].found_by.as_deref(), Some("php-composer"));

    // Composer 2 wraps the same array in an object and names dev packages.
    let array: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let v2 = json!({"packages": array, "dev": true, "dev-package-names": ["behat/mink"]});
    let v2 = parse_installed_json(v2.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v2.packages.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["asm89/stack-cors", "behat/mink"]);
    assert_eq!(v2.packages.iter().map(|p| p.dev).collect::<Vec<_>>(), [false, true]);
    assert_eq!(to_package(&v2.packages[1]).metadata["dev"], true);
}

#[test]
fn odd_entries_and_errors() {
    let text = br#"{"packages": [
        {"name": "a/b", "version": "1.0", "license": "MIT"},
        {"name": "no/version"},
        {"version": "1.0"},
        "not an object",
        {"name": "nameless-vendor", "version": "2.0", "license": 5, "authors": [{"name": "X"}, 3]}
    ]}"#;
    let parsed = parse_installed_json(text).unwrap_or_default();
    assert_eq!(parsed.packages.len(), 2);
    assert_eq!(parsed.packages[0].licenses, ["MIT"]);
    assert!(parsed.packages[1].licenses.is_empty());
    assert_eq!(parsed.packages[1].authors, ["X"]);
    assert_eq!(to_package(&parsed.packages[1]).purl, "pkg:composer/nameless-vendor@2.0");
    let reasons: Vec<(usize, &str)> = parsed.skipped.iter().map(|s| (s.index, s.reason)).collect();
    assert_eq!(reasons, [(1, "no version"), (2, "no name"), (3, "not an object")]);

    assert!(matches!(parse_installed_json(b"{\"packages\": [}"), Err(PhpError::Json(_))));
    assert!(matches!(parse_installed_json(b""), Err(PhpError::Json(_))));
    assert!(matches!(parse_installed_json(b"{\"packages\": {}}"), Err(PhpError::Shape)));
    assert!(matches!(parse_installed_json(b"42"), Err(PhpError::Shape)));
}
