//! `package.json`: the manifest of every installed npm package (inside
//! `node_modules`), of Debian's system-wide node packages
//! (`/usr/share/nodejs`), and of the application itself.

use serde_json::{Map, Value};

use super::{JsError, NpmPackage, NpmSource, json_kind, parse_json};

/// Parses a `package.json`. `Ok(None)` for a manifest without a string
/// `name` and `version`: packages contain many such files (`lib/package.json`
/// holding only `{"type": "module"}`), which declare no package.
pub fn parse_package_json(bytes: &[u8]) -> Result<Option<NpmPackage>, JsError> {
    let value = parse_json("package.json", bytes)?;
    let Value::Object(object) = value else {
        return Err(JsError::NotAnObject { file: "package.json", found: json_kind(&value) });
    };
    let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let (Some(name), Some(version)) = (text("name"), text("version")) else {
        return Ok(None);
    };
    Ok(Some(NpmPackage {
        name: name.to_owned(),
        version: version.to_owned(),
        licenses: licenses(&object),
        author: object.get("author").and_then(person),
        homepage: text("homepage").map(str::to_owned),
        repository: object.get("repository").and_then(repository),
        description: text("description").map(str::to_owned),
        private: object.get("private").is_some_and(|p| p.as_bool() == Some(true) || p.as_str() == Some("true")),
        dependencies: string_map(object.get("dependencies")),
        source: NpmSource::PackageJson,
        ..NpmPackage::default()
    }))
}

/// [`parse_package_json`], marking the application's own manifest:
/// [`NpmPackage::root`] is set when `path` is not an installed package's
/// (see [`is_project_manifest`]).
pub fn parse_package_json_at(path: &str, bytes: &[u8]) -> Result<Option<NpmPackage>, JsError> {
    let mut package = parse_package_json(bytes)?;
    if let Some(package) = &mut package {
        package.root = is_project_manifest(path);
    }
    Ok(package)
}

/// Directories where Debian installs node packages for the system's node
/// (its `NODE_PATH`): packages there are installed libraries (owned by
/// their deb), not an application's manifest.
pub const SYSTEM_NODE_DIRS: &[&str] = &["/usr/share/nodejs/", "/usr/lib/nodejs/", "/usr/share/javascript/"];

/// Whether a `package.json` is a project's own manifest rather than an
/// installed package: it sits in no `node_modules` directory and not under
/// one of [`SYSTEM_NODE_DIRS`].
pub fn is_project_manifest(path: &str) -> bool {
    !path.split('/').any(|component| component == "node_modules")
        && !SYSTEM_NODE_DIRS.iter().any(|dir| path.starts_with(dir))
}

/// Licences from `license` (a string, or the legacy `{"type": ...}`
/// object) and the legacy `licenses` array, in that order, each kept whole
/// (an SPDX expression such as `(MIT OR Apache-2.0)` is one licence),
/// without duplicates: many packages state the same licence both ways.
pub(crate) fn licenses(object: &Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |value: &Value| {
        let text = match value {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) => o.get("type").or_else(|| o.get("name")).and_then(Value::as_str),
            _ => None,
        };
        if let Some(text) = text.map(str::trim).filter(|t| !t.is_empty())
            && !out.iter().any(|known| known == text)
        {
            out.push(text.to_owned());
        }
    };
    for key in ["license", "licenses"] {
        match object.get(key) {
            Some(Value::Array(items)) => items.iter().for_each(&mut add),
            Some(value) => add(value),
            None => {}
        }
    }
    out
}

/// A person field: `"Name <email> (url)"` as written, or the object form
/// rendered the same way (as syft does).
fn person(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Object(o) => {
            let field = |key: &str| o.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
            let mut out = field("name").unwrap_or_default().to_owned();
            if let Some(email) = field("email") {
                out = format!("{out} <{email}>").trim_start().to_owned();
            }
            if let Some(url) = field("url") {
                out = format!("{out} ({url})").trim_start().to_owned();
            }
            Some(out).filter(|s| !s.is_empty())
        }
        _ => None,
    }
}

/// `repository`: a URL or shorthand (`github:user/repo`, `user/repo`), or
/// `{"type": "git", "url": ...}`.
fn repository(value: &Value) -> Option<String> {
    let url = match value {
        Value::String(s) => s.as_str(),
        Value::Object(o) => o.get("url").and_then(Value::as_str)?,
        _ => return None,
    };
    Some(url.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A `{"name": "range"}` object; entries whose value is not a string are
/// left out.
pub(crate) fn string_map(value: Option<&Value>) -> std::collections::BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|o| o.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Option<NpmPackage> {
        parse_package_json(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn licence_forms() {
        let p =
            parse(r#"{"name":"a","version":"1","license":"MIT","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#);
        assert_eq!(p.map(|p| p.licenses).unwrap_or_default(), ["MIT", "Apache-2.0"]);
        let p = parse(r#"{"name":"a","version":"1","license":{"type":"ISC","url":"x"}}"#);
        assert_eq!(p.map(|p| p.licenses).unwrap_or_default(), ["ISC"]);
        let p = parse(r#"{"name":"a","version":"1","license":"(MIT OR Apache-2.0)","licenses":"BSD"}"#);
        assert_eq!(p.map(|p| p.licenses).unwrap_or_default(), ["(MIT OR Apache-2.0)", "BSD"]);
        let p = parse(r#"{"name":"a","version":"1","license":["MIT", 3, ""]}"#);
        assert_eq!(p.map(|p| p.licenses).unwrap_or_default(), ["MIT"]);
    }

    #[test]
    fn people_and_repositories() {
        let p = parse(
            r#"{"name":"a","version":"1","author":{"name":"J","email":"j@x","url":"http://x"},
                "repository":{"type":"git","url":"git://x/y.git"},"private":true}"#,
        )
        .unwrap_or_default();
        assert_eq!(p.author.as_deref(), Some("J <j@x> (http://x)"));
        assert_eq!(p.repository.as_deref(), Some("git://x/y.git"));
        assert!(p.private);
        let p = parse(r#"{"name":"a","version":"1","author":{"email":"j@x"},"repository":"u/r"}"#).unwrap_or_default();
        assert_eq!(p.author.as_deref(), Some("<j@x>"));
        assert_eq!(p.repository.as_deref(), Some("u/r"));
    }

    #[test]
    fn manifests_without_identity_are_skipped() {
        assert_eq!(parse(r#"{"type":"module"}"#), None);
        assert_eq!(parse(r#"{"name":"a"}"#), None);
        assert_eq!(parse(r#"{"name":"a","version":1}"#), None);
        assert_eq!(parse(r#"{"name":"","version":"1"}"#), None);
    }

    #[test]
    fn project_manifests() {
        assert!(is_project_manifest("/app/package.json"));
        assert!(!is_project_manifest("/app/node_modules/a/package.json"));
        assert!(!is_project_manifest("/app/node_modules/@s/a/package.json"));
        assert!(!is_project_manifest("/usr/share/nodejs/acorn/package.json"));
        assert!(is_project_manifest("/srv/node_modules_backup/package.json"));
    }
}
