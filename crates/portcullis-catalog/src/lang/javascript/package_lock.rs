//! npm's `package-lock.json` and `npm-shrinkwrap.json`.
//!
//! lockfileVersion 1 (npm 5-6) nests a `dependencies` tree mirroring
//! `node_modules`; 2 (npm 7-8) adds a flat `packages` map keyed by install
//! path and keeps the old tree for old npms; 3 (npm 9+) has only `packages`.

use serde_json::{Map, Value};

use super::package_json::{licenses, string_map};
use super::{JsError, NpmPackage, NpmSource, json_kind, parse_json, split_name};

const FILE: &str = "package-lock.json";

/// Parses a lockfile into one record per installed copy (a version nested
/// under two parents appears twice, with different [`NpmPackage::lock_key`]).
///
/// The root project (`""` in `packages`) is not a dependency and is left
/// out; so are workspace members' own entries (keys outside
/// `node_modules`), which are reported through the `link` entries that
/// install them. Entries without a version (a failed optional install) are
/// skipped. Any lockfileVersion but 1, 2 and 3 is refused rather than read
/// by guesswork.
pub fn parse_package_lock(bytes: &[u8]) -> Result<Vec<NpmPackage>, JsError> {
    let value = parse_json(FILE, bytes)?;
    let Value::Object(root) = value else {
        return Err(JsError::NotAnObject { file: FILE, found: json_kind(&value) });
    };
    let version = match root.get("lockfileVersion") {
        Some(Value::Number(n)) => n.as_u64().filter(|v| (1..=3).contains(v)),
        // npm-shrinkwrap.json of npm < 5 had no version: the v1 tree.
        None if root.contains_key("dependencies") => Some(1),
        _ => None,
    };
    let Some(version) = version else {
        let found = root.get("lockfileVersion").map_or_else(|| "(missing)".to_owned(), Value::to_string);
        return Err(JsError::UnsupportedLockfileVersion { file: FILE, version: found });
    };
    match (version, root.get("packages")) {
        (2 | 3, Some(Value::Object(packages))) => Ok(from_packages(packages)),
        (3, _) => {
            Err(JsError::Malformed { file: FILE, reason: "lockfileVersion 3 without a `packages` object".into() })
        }
        _ => match root.get("dependencies") {
            Some(Value::Object(dependencies)) => Ok(from_dependency_tree(dependencies)),
            None => Ok(Vec::new()),
            Some(other) => Err(JsError::Malformed {
                file: FILE,
                reason: format!("`dependencies` is {}, not an object", json_kind(other)),
            }),
        },
    }
}

fn text(entry: &Map<String, Value>, key: &str) -> Option<String> {
    entry.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

fn flag(entry: &Map<String, Value>, key: &str) -> bool {
    entry.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The name a `packages` key installs: what follows its last `node_modules/`.
fn installed_name(key: &str) -> Option<&str> {
    let (_, name) = key.rsplit_once("node_modules/")?;
    Some(name).filter(|n| !n.is_empty())
}

fn from_packages(packages: &Map<String, Value>) -> Vec<NpmPackage> {
    let mut out = Vec::new();
    for (key, entry) in packages {
        let Some(installed) = installed_name(key) else { continue };
        let Some(entry) = entry.as_object() else { continue };
        // A link's own entry holds only where it points; the package's
        // identity is in the target's entry (a workspace member).
        let target = if flag(entry, "link") {
            text(entry, "resolved").and_then(|r| packages.get(&r)).and_then(Value::as_object)
        } else {
            None
        };
        let described = target.unwrap_or(entry);
        let Some(version) = text(described, "version") else { continue };
        let name = text(described, "name").unwrap_or_else(|| installed.to_owned());
        out.push(NpmPackage {
            alias: (name != installed).then(|| installed.to_owned()),
            name,
            version,
            licenses: licenses(described),
            resolved: text(entry, "resolved"),
            integrity: text(described, "integrity"),
            dev: flag(entry, "dev"),
            // `devOptional`: optional for production, required by a dev dependency.
            optional: flag(entry, "optional") || flag(entry, "devOptional"),
            lock_key: Some(key.clone()),
            dependencies: string_map(described.get("dependencies")),
            source: NpmSource::PackageLock,
            ..NpmPackage::default()
        });
    }
    out
}

/// v1: `{"name": {"version", "resolved", "integrity", "dev", "optional",
/// "requires", "dependencies": {nested...}}}`, walked without recursion so
/// the nesting depth costs heap, not stack.
fn from_dependency_tree(top: &Map<String, Value>) -> Vec<NpmPackage> {
    let mut out = Vec::new();
    let mut pending: Vec<(String, &Map<String, Value>)> = vec![(String::new(), top)];
    while let Some((prefix, dependencies)) = pending.pop() {
        for (installed, entry) in dependencies {
            let Some(entry) = entry.as_object() else { continue };
            let key = format!("{prefix}node_modules/{installed}");
            if let Some(Value::Object(nested)) = entry.get("dependencies") {
                pending.push((format!("{key}/"), nested));
            }
            let Some(version) = text(entry, "version") else { continue };
            // An alias records its target as `npm:real-name@version`.
            let (name, version) = match version.strip_prefix("npm:").and_then(split_name) {
                Some((real, real_version)) => (real.to_owned(), real_version.to_owned()),
                None => (installed.clone(), version),
            };
            out.push(NpmPackage {
                alias: (name != *installed).then(|| installed.clone()),
                name,
                version,
                resolved: text(entry, "resolved"),
                integrity: text(entry, "integrity"),
                dev: flag(entry, "dev"),
                optional: flag(entry, "optional"),
                lock_key: Some(key),
                dependencies: string_map(entry.get("requires")),
                source: NpmSource::PackageLock,
                ..NpmPackage::default()
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<NpmPackage>, JsError> {
        parse_package_lock(text.as_bytes())
    }

    #[test]
    fn links_resolve_to_their_workspace_target() {
        let packages = parse(
            r#"{"lockfileVersion": 3, "packages": {
                "": {"name": "root", "version": "1.0.0"},
                "node_modules/app-a": {"resolved": "packages/a", "link": true},
                "packages/a": {"name": "app-a", "version": "0.2.0", "license": "ISC"},
                "node_modules/@s/x": {"version": "1.0.0", "dev": true},
                "node_modules/@s/x/node_modules/y": {"version": "2.0.0", "optional": true},
                "node_modules/broken": {"resolved": "nowhere", "link": true},
                "node_modules/gone": {"optional": true}
            }}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let summary: Vec<(&str, &str, bool, bool)> =
            packages.iter().map(|p| (p.name.as_str(), p.version.as_str(), p.dev, p.optional)).collect();
        assert_eq!(
            summary,
            [("@s/x", "1.0.0", true, false), ("y", "2.0.0", false, true), ("app-a", "0.2.0", false, false)]
        );
        assert_eq!(packages.get(2).map(|p| p.licenses.clone()).unwrap_or_default(), ["ISC"]);
        assert_eq!(packages.get(2).and_then(|p| p.resolved.as_deref()), Some("packages/a"));
    }

    #[test]
    fn versions_and_shapes() {
        assert_eq!(
            parse(r#"{"lockfileVersion": 4, "packages": {}}"#),
            Err(JsError::UnsupportedLockfileVersion { file: FILE, version: "4".into() })
        );
        assert_eq!(
            parse(r#"{"lockfileVersion": "3", "packages": {}}"#),
            Err(JsError::UnsupportedLockfileVersion { file: FILE, version: "\"3\"".into() })
        );
        assert_eq!(
            parse(r#"{"name": "x"}"#),
            Err(JsError::UnsupportedLockfileVersion { file: FILE, version: "(missing)".into() })
        );
        assert!(matches!(parse(r#"{"lockfileVersion": 3}"#), Err(JsError::Malformed { .. })));
        assert!(matches!(parse(r#"{"lockfileVersion": 1, "dependencies": []}"#), Err(JsError::Malformed { .. })));
        assert_eq!(parse(r#"[]"#), Err(JsError::NotAnObject { file: FILE, found: "an array" }));
        assert!(matches!(parse(r#"{"lockfileVersion": 3,"#), Err(JsError::Json { line: 1, .. })));
        assert_eq!(parse(r#"{"dependencies": {"a": {"version": "1.0.0"}}}"#).map(|p| p.len()), Ok(1));
    }
}
