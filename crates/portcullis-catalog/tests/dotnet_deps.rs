//! The .NET cataloger against the `*.deps.json` files in `shared/fixtures/dotnet/`.

use portcullis_catalog::lang::dotnet::{DotnetError, parse_deps_json, to_packages};
use portcullis_sbom::PackageType;
use portcullis_testkit::data::{expected_json, fixture, fixture_dirs, read_bytes};

/// name, version, type, sha512, path.
type Library = (String, String, String, Option<String>, Option<String>);

#[test]
fn fixtures_match_expected() {
    let dirs = fixture_dirs("dotnet");
    assert_eq!(dirs.len(), 3);
    for dir in dirs {
        let expected = expected_json(&dir);
        let file = expected["files"][0].as_str().unwrap_or_default();
        let doc = parse_deps_json(&read_bytes(&dir.join(file))).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        assert_eq!(doc.runtime_target.as_deref(), expected["runtime_target"].as_str(), "{}", dir.display());

        let mut ours: Vec<Library> = doc
            .libraries
            .iter()
            .map(|l| (l.name.clone(), l.version.clone(), l.library_type.clone(), l.sha512.clone(), l.path.clone()))
            .collect();
        let mut want: Vec<Library> = expected["packages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                let text = |k: &str| p[k].as_str().unwrap_or_default().to_owned();
                let opt = |k: &str| p[k].as_str().map(str::to_owned);
                (text("name"), text("version"), text("type"), opt("sha512"), opt("path"))
            })
            .collect();
        ours.sort();
        want.sort();
        assert_eq!(ours, want, "{}", dir.display());

        // Reported: NuGet packages, plus the project the file is named after.
        let deps_json_path = format!("/app/{}", file.rsplit('/').next().unwrap_or_default());
        let packages = to_packages(&doc, &deps_json_path);
        let root_project = deps_json_path.trim_start_matches("/app/").trim_end_matches(".deps.json");
        let mut reported: Vec<(String, String)> =
            packages.iter().map(|p| (p.name.clone(), p.version.clone())).collect();
        let mut chosen: Vec<(String, String)> = want
            .iter()
            .filter(|(name, _, kind, _, _)| kind == "package" || (kind == "project" && name == root_project))
            .map(|(name, version, ..)| (name.clone(), version.clone()))
            .collect();
        reported.sort();
        chosen.sort();
        assert_eq!(reported, chosen, "{}", dir.display());
        for package in &packages {
            assert_eq!(package.package_type, PackageType::Dotnet);
            assert_eq!(package.purl, format!("pkg:nuget/{}@{}", package.name, package.version));
            assert_eq!(package.found_by.as_deref(), Some("dotnet-deps"));
        }
    }
}

#[test]
fn root_project_and_edges() {
    let dir = fixture("dotnet/testlibrary-net6-deps-json/app");
    let doc = parse_deps_json(&read_bytes(&dir.join("TestLibrary.deps.json"))).unwrap_or_default();
    let packages = to_packages(&doc, "/app/TestLibrary.deps.json");
    assert_eq!(packages.len(), 13, "12 NuGet packages and the TestLibrary project");
    let root = packages.iter().find(|p| p.name == "TestLibrary").unwrap_or_else(|| panic!("no root project"));
    assert_eq!(root.metadata["type"], "project");
    assert!(packages.iter().all(|p| p.name != "TestCommon"), "a project reference is not a NuGet package");
    let serilog = packages.iter().find(|p| p.name == "Serilog").unwrap_or_else(|| panic!("no Serilog"));
    assert_eq!(serilog.metadata["path"], "serilog/2.10.0");
    assert_eq!(serilog.metadata["hash_path"], "serilog.2.10.0.nupkg.sha512");
    assert!(root.metadata["dependencies"].as_array().is_some_and(|d| !d.is_empty()));

    // The self-contained app's runtime packs are not NuGet packages either.
    let dir = fixture("dotnet/self-contained-deps-json/app");
    let doc = parse_deps_json(&read_bytes(&dir.join("self-contained.deps.json"))).unwrap_or_default();
    let names: Vec<String> = to_packages(&doc, "/app/ExampleApp1.deps.json").into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["ExampleApp1", "Newtonsoft.Json"]);
}

#[test]
fn invalid_json_is_an_error() {
    assert!(matches!(parse_deps_json(b"{\"libraries\": {"), Err(DotnetError::Json(_))));
    assert!(matches!(parse_deps_json(b"not json"), Err(DotnetError::Json(_))));
    assert!(matches!(parse_deps_json(b"{\"libraries\": []}"), Err(DotnetError::NoLibraries)));
}
