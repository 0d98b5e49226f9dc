//! `pnpm-lock.yaml`. Its `packages` keys changed with the lockfile version:
//!
//! | lockfileVersion | pnpm | key |
//! | --- | --- | --- |
//! | 5.x | 5-7 | `/name/1.2.3`, `/@scope/name/1.2.3`, peers as `_peer@1.0.0` |
//! | 6.x | 8 | `/name@1.2.3`, `/@scope/name@1.2.3`, peers as `(peer@1.0.0)` |
//! | 9.x | 9-10 | `name@1.2.3` (peers only in `snapshots`) |
//!
//! 5.x and 6.x mark packages `dev: true|false`; 9.x does not, so dev-only
//! packages are found by walking the graph from the importers.

use std::collections::{BTreeMap, BTreeSet};

use serde_norway::Value as Yaml;

use super::yarn_lock::{scalar, yaml_string_map};
use super::{JsError, NpmPackage, NpmSource, split_name};

const FILE: &str = "pnpm-lock.yaml";

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyStyle {
    /// 5.x: `/name/version_peers`.
    Slash,
    /// 6.x and 9.x: `[/]name@version(peers)`.
    At,
}

/// Parses a pnpm lockfile into one record per `packages` entry (one per
/// name and version; peer-dependency variants are one package). Any
/// lockfileVersion but 5.x, 6.x and 9.x is refused.
pub fn parse_pnpm_lock(bytes: &[u8]) -> Result<Vec<NpmPackage>, JsError> {
    let doc: Yaml =
        serde_norway::from_slice(bytes).map_err(|e| JsError::Yaml { file: FILE, message: e.to_string() })?;
    let root = doc.as_mapping().ok_or(JsError::Malformed { file: FILE, reason: "not a YAML mapping".into() })?;
    let version = scalar(root.get("lockfileVersion"));
    let style = match version.as_deref().and_then(|v| v.split('.').next()).and_then(|m| m.parse::<u32>().ok()) {
        Some(5) => KeyStyle::Slash,
        Some(6 | 9) => KeyStyle::At,
        _ => {
            return Err(JsError::UnsupportedLockfileVersion {
                file: FILE,
                version: version.unwrap_or_else(|| "(missing)".to_owned()),
            });
        }
    };
    let Some(packages) = root.get("packages").and_then(Yaml::as_mapping) else {
        return Ok(Vec::new());
    };
    let graph = root.get("snapshots").and_then(Yaml::as_mapping).map(|snapshots| Graph::new(root, snapshots));
    let mut out = Vec::new();
    for (key, entry) in packages {
        let Some(key) = scalar(Some(key)) else { continue };
        let Some(fields) = entry.as_mapping() else { continue };
        let from_key = parse_key(&key, style);
        // Tarball and git dependencies are keyed by URL and state their
        // identity in fields.
        let name = scalar(fields.get("name")).or_else(|| from_key.as_ref().map(|(n, _)| n.clone()));
        let version = scalar(fields.get("version")).or_else(|| from_key.as_ref().map(|(_, v)| v.clone()));
        let (Some(name), Some(version)) = (name, version) else { continue };
        let resolution = fields.get("resolution").and_then(Yaml::as_mapping);
        let resolution_field = |k: &str| resolution.and_then(|r| scalar(r.get(k)));
        let resolved = resolution_field("tarball").or_else(|| {
            let repo = resolution_field("repo")?;
            Some(match resolution_field("commit") {
                Some(commit) => format!("{repo}#{commit}"),
                None => repo,
            })
        });
        let flag = |k: &str| fields.get(k).and_then(Yaml::as_bool).unwrap_or(false);
        let (dev, optional) = match &graph {
            Some(graph) => graph.flags(&key),
            None => (flag("dev"), flag("optional")),
        };
        out.push(NpmPackage {
            name,
            version,
            integrity: resolution_field("integrity"),
            resolved,
            dev,
            optional: optional || flag("optional"),
            lock_key: Some(key.clone()),
            dependencies: match &graph {
                Some(graph) => graph.dependencies.get(&key).cloned().unwrap_or_default(),
                None => yaml_string_map(fields.get("dependencies")),
            },
            source: NpmSource::PnpmLock,
            ..NpmPackage::default()
        });
    }
    Ok(out)
}

/// Name and version from a `packages` key, peer suffix dropped.
fn parse_key(key: &str, style: KeyStyle) -> Option<(String, String)> {
    let key = key.strip_prefix('/').unwrap_or(key);
    match style {
        KeyStyle::At => {
            let base = key.split('(').next().unwrap_or(key);
            let (name, version) = split_name(base)?;
            Some((name.to_owned(), version.to_owned())).filter(|(_, v)| !v.is_empty())
        }
        KeyStyle::Slash => {
            let mut segments: Vec<&str> = key.split('/').collect();
            // A registry other than the default is written as a leading host.
            if segments.len() >= 3 && segments.first().is_some_and(|s| !s.starts_with('@')) {
                segments.remove(0);
            }
            let (version, name) = segments.split_last()?;
            let version = version.split('_').next().unwrap_or(version);
            let name = name.join("/");
            (!name.is_empty() && !version.is_empty()).then(|| (name, version.to_owned()))
        }
    }
}

/// 9.x's dependency graph: importers → snapshots, for the dev/optional
/// flags the `packages` entries no longer carry.
struct Graph {
    production: BTreeSet<String>,
    development: BTreeSet<String>,
    optional: BTreeSet<String>,
    /// Each `packages` key's dependencies, from its snapshots (all peer
    /// variants merged).
    dependencies: BTreeMap<String, BTreeMap<String, String>>,
}

impl Graph {
    fn new(root: &serde_norway::Mapping, snapshots: &serde_norway::Mapping) -> Self {
        let mut production = Vec::new();
        let mut development = Vec::new();
        if let Some(importers) = root.get("importers").and_then(Yaml::as_mapping) {
            for importer in importers.values() {
                for (section, is_dev) in
                    [("dependencies", false), ("optionalDependencies", false), ("devDependencies", true)]
                {
                    let roots = if is_dev { &mut development } else { &mut production };
                    let deps = importer.get(section).and_then(Yaml::as_mapping).into_iter().flatten();
                    for (name, spec) in deps {
                        let version = spec.get("version").and_then(|v| scalar(Some(v)));
                        if let (Some(name), Some(version)) = (scalar(Some(name)), version) {
                            roots.extend(snapshot_key(&name, &version));
                        }
                    }
                }
            }
        }
        let optional = snapshots
            .iter()
            .filter(|(_, s)| s.get("optional").and_then(Yaml::as_bool) == Some(true))
            .filter_map(|(k, _)| scalar(Some(k)).map(|k| base_key(&k)))
            .collect();
        let mut dependencies: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (key, snapshot) in snapshots {
            if let Some(key) = scalar(Some(key)) {
                dependencies.entry(base_key(&key)).or_default().extend(yaml_string_map(snapshot.get("dependencies")));
            }
        }
        Self {
            dependencies,
            production: reach(production, snapshots),
            development: reach(development, snapshots),
            optional,
        }
    }

    /// `(dev, optional)` of a `packages` key: dev when only dev roots reach it.
    fn flags(&self, package_key: &str) -> (bool, bool) {
        let dev = !self.production.contains(package_key) && self.development.contains(package_key);
        (dev, self.optional.contains(package_key))
    }
}

/// The snapshot a dependency's `version` points at: `1.2.3(peer@1)` under
/// its own name, or an alias's `real@1.2.3` as is. `link:` targets are
/// workspace directories, not packages.
fn snapshot_key(name: &str, version: &str) -> Option<String> {
    if version.starts_with("link:") || version.starts_with("file:") {
        return None;
    }
    let before_peers = version.split('(').next().unwrap_or(version);
    if before_peers.contains('@') { Some(version.to_owned()) } else { Some(format!("{name}@{version}")) }
}

/// A snapshot key without its peer suffix: the `packages` key.
fn base_key(snapshot: &str) -> String {
    snapshot.split('(').next().unwrap_or(snapshot).to_owned()
}

/// Every `packages` key reachable from `roots` through the snapshots'
/// dependencies. Iterative with a visited set: graphs have cycles.
fn reach(roots: Vec<String>, snapshots: &serde_norway::Mapping) -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut reached = BTreeSet::new();
    let mut pending = roots;
    while let Some(key) = pending.pop() {
        if !seen.insert(key.clone()) {
            continue;
        }
        reached.insert(base_key(&key));
        let Some(snapshot) = snapshots.get(key.as_str()) else { continue };
        for section in ["dependencies", "optionalDependencies"] {
            let deps: BTreeMap<String, String> = yaml_string_map(snapshot.get(section));
            pending.extend(deps.iter().filter_map(|(name, version)| snapshot_key(name, version)));
        }
    }
    reached
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str, style: KeyStyle) -> Option<(String, String)> {
        parse_key(k, style)
    }

    fn pair(n: &str, v: &str) -> Option<(String, String)> {
        Some((n.to_owned(), v.to_owned()))
    }

    #[test]
    fn keys() {
        use KeyStyle::*;
        assert_eq!(key("/lodash/4.17.4", Slash), pair("lodash", "4.17.4"));
        assert_eq!(key("/@babel/core/7.0.0", Slash), pair("@babel/core", "7.0.0"));
        assert_eq!(key("/react-dom/17.0.2_react@17.0.2", Slash), pair("react-dom", "17.0.2"));
        assert_eq!(key("registry.example.com/foo/1.0.0", Slash), pair("foo", "1.0.0"));
        assert_eq!(key("registry.example.com/@s/foo/1.0.0", Slash), pair("@s/foo", "1.0.0"));
        assert_eq!(key("/lodash.merge/4.6.2", Slash), pair("lodash.merge", "4.6.2"));
        assert_eq!(key("/lodash@4.17.4", At), pair("lodash", "4.17.4"));
        assert_eq!(key("/@babel/core@7.0.0(supports-color@5.5.0)", At), pair("@babel/core", "7.0.0"));
        assert_eq!(key("@types/react@18.0.0", At), pair("@types/react", "18.0.0"));
        assert_eq!(key("x@1.0.0(@types/react@18.0.0)(react@18.2.0)", At), pair("x", "1.0.0"));
        assert_eq!(key("/lodash", Slash), None);
        assert_eq!(key("lodash", At), None);
        assert_eq!(key("lodash@", At), None);
    }

    #[test]
    fn snapshot_keys() {
        assert_eq!(snapshot_key("debug", "2.6.9").as_deref(), Some("debug@2.6.9"));
        assert_eq!(snapshot_key("lodash-legacy", "lodash@4.17.21").as_deref(), Some("lodash@4.17.21"));
        assert_eq!(snapshot_key("x", "1.0.0(@types/react@18.0.0)").as_deref(), Some("x@1.0.0(@types/react@18.0.0)"));
        assert_eq!(snapshot_key("ws", "link:../ws"), None);
    }

    #[test]
    fn versions() {
        let parse = |s: &str| parse_pnpm_lock(s.as_bytes());
        assert_eq!(
            parse("lockfileVersion: '7.0'\n"),
            Err(JsError::UnsupportedLockfileVersion { file: FILE, version: "7.0".into() })
        );
        assert_eq!(
            parse("importers: {}\n"),
            Err(JsError::UnsupportedLockfileVersion { file: FILE, version: "(missing)".into() })
        );
        assert_eq!(parse("lockfileVersion: 5.3\n"), Ok(Vec::new()));
        assert!(matches!(parse("- 1\n"), Err(JsError::Malformed { .. })));
        assert!(matches!(parse("lockfileVersion: '9.0'\npackages:\n  a@1: {\n"), Err(JsError::Yaml { .. })));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut yaml = String::from("lockfileVersion: '9.0'\na: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut previous = 'a';
        for name in 'b'..='p' {
            yaml.push_str(&format!("{name}: &{name} [*{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}, *{previous}]\n"));
            previous = name;
        }
        assert!(matches!(parse_pnpm_lock(yaml.as_bytes()), Err(JsError::Yaml { .. })));
    }
}
