//! The gemspec reader against the installed-gem stubs in `shared/fixtures/ruby/`.

use portcullis_catalog::lang::ruby::{self, RubyError, parse_gemspec, to_package};
use portcullis_sbom::PackageType;
use portcullis_testkit::data::{expected_json, fixture_dirs, fixtures_root, read_bytes};
use serde_json::Value;

fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

#[test]
fn fixtures_match_rubygems() {
    let dirs = fixture_dirs("ruby");
    assert_eq!(dirs.len(), 3);
    for dir in dirs {
        let expected = expected_json(&dir);
        let file = expected["files"][0].as_str().unwrap_or_default();
        let spec = parse_gemspec(&read_bytes(&dir.join(file))).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let want = &expected["packages"][0];
        assert_eq!(expected["packages"].as_array().map(Vec::len), Some(1));
        assert_eq!(Some(spec.name.as_str()), want["name"].as_str(), "{}", dir.display());
        assert_eq!(Some(spec.version.as_str()), want["version"].as_str(), "{}", dir.display());
        assert_eq!(spec.licenses, strings(&want["licenses"]), "{}", dir.display());
        assert_eq!(spec.authors, strings(&want["authors"]), "{}", dir.display());
        assert_eq!(spec.homepage.as_deref(), want["homepage"].as_str(), "{}", dir.display());
        assert_eq!(spec.platform.as_deref(), Some("ruby"));

        let package = to_package(&spec);
        assert_eq!(package.package_type, PackageType::Gem);
        assert_eq!(package.purl, format!("pkg:gem/{}@{}", spec.name, spec.version));
        assert_eq!(package.licenses, spec.licenses);
        assert_eq!(package.found_by.as_deref(), Some("ruby"));
        assert_eq!(package.metadata["authors"], want["authors"]);
    }
}

#[test]
fn details_and_errors() {
    let bundler = read_bytes(&fixtures_root().join("ruby/bundler-2.1.4/specifications/bundler-2.1.4.gemspec"));
    let spec = parse_gemspec(&bundler).unwrap_or_default();
    // `\u00E9` escapes decoded as RubyGems' loader decodes them.
    assert_eq!(spec.authors.first().map(String::as_str), Some("André Arko"));
    assert_eq!(spec.files, ["exe/bundle", "exe/bundler"]);
    assert_eq!(spec.summary.as_deref(), Some("The best way to manage your application's dependencies"));

    // Old RubyGems wrote %q{} literals and a single `s.license`.
    let old =
        b"Gem::Specification.new do |s|\n  s.name = %q{json}\n  s.version = \"1.8.6\"\n  s.license = 'Ruby'\nend\n";
    let spec = parse_gemspec(old).unwrap_or_default();
    assert_eq!((spec.name.as_str(), spec.version.as_str()), ("json", "1.8.6"));
    assert_eq!(spec.licenses, ["Ruby"]);
    assert_eq!(spec.platform, None);

    assert_eq!(parse_gemspec(b"just text\n"), Err(RubyError::Missing { field: "name" }));
    assert!(matches!(parse_gemspec(b"\x00\x01"), Err(RubyError::Binary { offset: 0 })));
    assert_eq!(ruby::PATTERNS, ["/**/specifications/**/*.gemspec"]);
}
