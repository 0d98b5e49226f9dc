//! .NET applications: the `<App>.deps.json` file the SDK writes next to a
//! published application, listing every library it was built against.
//!
//! The `libraries` map is keyed `Name/Version`; each entry's `type` says what
//! it is: `package` (a NuGet package), `project` (the application itself or
//! a project reference built from source), `referenceassembly`, or
//! `runtimepack` (the runtime of a self-contained app). `targets` adds the
//! dependency edges.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use portcullis_sbom::{Package, PackageType};

use crate::distro::purl_encode;

/// Dependency manifests of published .NET applications.
pub const PATTERNS: &[&str] = &["/**/*.deps.json"];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepsJson {
    /// `runtimeTarget.name`, e.g. `.NETCoreApp,Version=v8.0/linux-x64`.
    pub runtime_target: Option<String>,
    /// Every entry of `libraries`, sorted by key.
    pub libraries: Vec<DepsLibrary>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepsLibrary {
    pub name: String,
    pub version: String,
    /// `package`, `project`, `referenceassembly`, `runtimepack`, as written.
    pub library_type: String,
    /// `sha512-<base64>` of the .nupkg, for NuGet packages.
    pub sha512: Option<String>,
    /// Directory in the NuGet cache (`newtonsoft.json/13.0.1`).
    pub path: Option<String>,
    pub hash_path: Option<String>,
    pub serviceable: Option<bool>,
    /// `Name/Version` of its dependencies, from the first target listing it.
    pub dependencies: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DotnetError {
    #[error("deps.json is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("deps.json has no `libraries` object")]
    NoLibraries,
}

#[derive(Deserialize)]
struct RawDeps {
    #[serde(rename = "runtimeTarget")]
    runtime_target: Option<Value>,
    targets: Option<Value>,
    libraries: Option<Value>,
}

/// Parses a `*.deps.json`. Keys without a `/` cannot be split into name and
/// version and are left out; fields of an unexpected JSON type count as absent.
pub fn parse_deps_json(bytes: &[u8]) -> Result<DepsJson, DotnetError> {
    // deps.json files written on Windows start with a UTF-8 byte-order mark,
    // which serde_json refuses.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let raw: RawDeps = serde_json::from_slice(bytes)?;
    let Some(Value::Object(libraries)) = raw.libraries else {
        return Err(DotnetError::NoLibraries);
    };
    let mut dependencies: BTreeMap<String, Vec<String>> = BTreeMap::new();
    if let Some(Value::Object(targets)) = &raw.targets {
        for target in targets.values() {
            let Value::Object(entries) = target else { continue };
            for (key, entry) in entries {
                if dependencies.contains_key(key) {
                    continue;
                }
                let deps = match entry.get("dependencies") {
                    Some(Value::Object(deps)) => {
                        deps.iter().filter_map(|(n, v)| v.as_str().map(|v| format!("{n}/{v}"))).collect()
                    }
                    _ => Vec::new(),
                };
                dependencies.insert(key.clone(), deps);
            }
        }
    }
    let text =
        |entry: &Value, key: &str| entry.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_owned);
    let mut out =
        DepsJson { runtime_target: raw.runtime_target.as_ref().and_then(|t| text(t, "name")), libraries: Vec::new() };
    let mut keys: Vec<&String> = libraries.keys().collect();
    keys.sort();
    for key in keys {
        let Some((name, version)) = key.rsplit_once('/') else {
            tracing::warn!(key, "deps.json library key without a version ignored");
            continue;
        };
        let Some(entry) = libraries.get(key) else { continue };
        out.libraries.push(DepsLibrary {
            name: name.to_owned(),
            version: version.to_owned(),
            library_type: text(entry, "type").unwrap_or_default(),
            sha512: text(entry, "sha512"),
            path: text(entry, "path"),
            hash_path: text(entry, "hashPath"),
            serviceable: entry.get("serviceable").and_then(Value::as_bool),
            dependencies: dependencies.get(key).cloned().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The application's own project: the `project` library named like the
/// deps.json file (`MyApp.deps.json` → `MyApp`), the convention syft uses.
fn root_project_name(deps_json_path: &str) -> Option<&str> {
    let file = deps_json_path.rsplit(['/', '\\']).next()?;
    file.strip_suffix(".deps.json").filter(|name| !name.is_empty())
}

/// The packages a deps.json reports, the way syft's deps.json cataloger
/// chooses them: every NuGet `package`, plus the application's own
/// `project` when the file name identifies it.
///
/// Other `project` entries are project references compiled into the app
/// from source, not NuGet packages, so a `pkg:nuget` identity would be
/// wrong for them; `referenceassembly` and `runtimepack` entries are left
/// out too (older syft reported `package` entries only; trivy also reports
/// only `package`).
pub fn to_packages(doc: &DepsJson, deps_json_path: &str) -> Vec<Package> {
    let root = root_project_name(deps_json_path);
    doc.libraries
        .iter()
        .filter(|lib| match lib.library_type.as_str() {
            "package" => true,
            "project" => root == Some(lib.name.as_str()),
            _ => false,
        })
        .map(|lib| to_package(lib, doc.runtime_target.as_deref()))
        .collect()
}

/// `pkg:nuget/<Name>@<version>`, the name's case kept as NuGet displays it.
pub fn purl(library: &DepsLibrary) -> String {
    format!("pkg:nuget/{}@{}", purl_encode(&library.name), purl_encode(&library.version))
}

/// Builds the SBOM package for one library; locations are left for the caller.
pub fn to_package(library: &DepsLibrary, runtime_target: Option<&str>) -> Package {
    let mut package = Package::new(PackageType::Dotnet, &library.name, &library.version, None, purl(library));
    package.found_by = Some("dotnet-deps".to_owned());
    let metadata = &mut package.metadata;
    metadata.insert("type".to_owned(), library.library_type.clone().into());
    let mut put = |key: &str, value: Option<&str>| {
        if let Some(value) = value {
            metadata.insert(key.to_owned(), value.into());
        }
    };
    put("sha512", library.sha512.as_deref());
    put("path", library.path.as_deref());
    put("hash_path", library.hash_path.as_deref());
    put("runtime_target", runtime_target);
    if !library.dependencies.is_empty() {
        metadata.insert("dependencies".to_owned(), library.dependencies.clone().into());
    }
    package
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_project_from_file_name() {
        assert_eq!(root_project_name("/app/MyApp.deps.json"), Some("MyApp"));
        assert_eq!(root_project_name("C:\\app\\My.App.deps.json"), Some("My.App"));
        assert_eq!(root_project_name("/app/.deps.json"), None);
        assert_eq!(root_project_name("/app/deps.json"), None);
    }

    #[test]
    fn shapes() {
        assert!(matches!(parse_deps_json(b"{}"), Err(DotnetError::NoLibraries)));
        assert!(matches!(parse_deps_json(b"[1]"), Err(DotnetError::Json(_))));
        let doc = parse_deps_json(b"\xEF\xBB\xBF{\"libraries\":{\"noversion\":{},\"A/1\":{\"type\":5}}}");
        let libs: Vec<(String, String, String)> = doc
            .map(|d| d.libraries.into_iter().map(|l| (l.name, l.version, l.library_type)).collect())
            .unwrap_or_default();
        assert_eq!(libs, [("A".to_owned(), "1".to_owned(), String::new())]);
    }
}
