//! Image references (`[registry/]repository[:tag][@digest]`) with Docker's
//! normalisation rules, so that `alpine`, `library/alpine` and
//! `docker.io/library/alpine:latest` all name the same image.

use std::fmt;

use crate::digest::Digest;
use crate::error::{ImageError, Result};

/// The registry that unqualified names resolve to.
pub const DOCKER_HUB: &str = "docker.io";
/// Docker Hub's registry API is not served on `docker.io` itself.
const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The key `docker login` writes Docker Hub credentials under.
pub const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";
const MAX_NAME_LENGTH: usize = 255;
const MAX_TAG_LENGTH: usize = 128;

/// A parsed, normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `docker.io`, `ghcr.io`, `127.0.0.1:5000`, ... (lower-cased).
    pub registry: String,
    /// `library/alpine`, `org/app`, ...
    pub repository: String,
    /// The tag; `latest` when neither a tag nor a digest was given.
    pub tag: Option<String>,
    /// The digest when pulled by digest (it wins over the tag).
    pub digest: Option<String>,
}

impl Reference {
    pub fn parse(text: &str) -> Result<Reference> {
        let invalid =
            |reason: &str| ImageError::InvalidReference { reference: text.to_owned(), reason: reason.to_owned() };
        if text.is_empty() {
            return Err(invalid("empty reference"));
        }
        if text.trim() != text || text.contains(char::is_whitespace) {
            return Err(invalid("contains whitespace"));
        }
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((name, digest)) => {
                Digest::parse(digest).map_err(|_| {
                    invalid(&format!("{digest:?} is not a valid digest (expected sha256:<64 lower-case hex digits>)"))
                })?;
                (name, Some(digest.to_owned()))
            }
            None => (text, None),
        };
        if name_and_tag.is_empty() {
            return Err(invalid("a digest alone does not say which repository to pull from; use NAME@DIGEST"));
        }
        // A ':' after the last '/' starts the tag; an earlier one is a port.
        let last_slash = name_and_tag.rfind('/');
        let (name, tag) = match name_and_tag.rfind(':') {
            Some(colon) if last_slash.is_none_or(|slash| colon > slash) => {
                (&name_and_tag[..colon], Some(&name_and_tag[colon + 1..]))
            }
            _ => (name_and_tag, None),
        };
        if digest.is_none() && Digest::parse(name_and_tag).is_ok() {
            return Err(invalid("a digest alone does not say which repository to pull from; use NAME@DIGEST"));
        }
        if name_and_tag.len() == 64 && name_and_tag.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid("64 hexadecimal digits look like an image ID, which a registry cannot resolve"));
        }
        if let Some(tag) = tag {
            validate_tag(tag).map_err(|reason| invalid(&reason))?;
        }
        let (registry, repository) = split_registry(name);
        validate_registry(&registry).map_err(|reason| invalid(&reason))?;
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_owned()
        };
        validate_repository(&repository).map_err(|reason| invalid(&reason))?;
        if registry.len() + 1 + repository.len() > MAX_NAME_LENGTH {
            return Err(invalid(&format!("the name is longer than {MAX_NAME_LENGTH} characters")));
        }
        let tag = match (tag, &digest) {
            (Some(tag), _) => Some(tag.to_owned()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_owned()),
        };
        Ok(Reference { registry, repository, tag, digest })
    }

    /// Host (and port) that serves the registry API.
    pub fn api_host(&self) -> &str {
        api_host(&self.registry)
    }

    /// What goes after `/manifests/`: the digest if we have one, else the tag.
    pub fn manifest_reference(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or("latest")
    }

    /// `repository:tag` or `repository@digest`, for messages.
    pub fn short(&self) -> String {
        match (&self.tag, &self.digest) {
            (_, Some(digest)) => format!("{}@{digest}", self.repository),
            (Some(tag), None) => format!("{}:{tag}", self.repository),
            (None, None) => self.repository.clone(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

pub(crate) fn api_host(registry: &str) -> &str {
    if registry == DOCKER_HUB { DOCKER_HUB_API } else { registry }
}

/// Docker's rule: the first component names a registry only if it looks like
/// a host (has a '.' or a ':', is `localhost`, or has upper-case letters,
/// which repository names cannot).
fn split_registry(name: &str) -> (String, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':']) || first == "localhost" || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            let registry = first.to_ascii_lowercase();
            let registry = match registry.as_str() {
                "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB.to_owned(),
                _ => registry,
            };
            (registry, rest)
        }
        _ => (DOCKER_HUB.to_owned(), name),
    }
}

fn validate_registry(registry: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        // IPv6 literal: [::1]:5000
        let (addr, after) = rest.split_once(']').ok_or_else(|| format!("unterminated IPv6 address in {registry:?}"))?;
        if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err(format!("invalid IPv6 address {addr:?}"));
        }
        match after {
            "" => return Ok(()),
            _ => (None, after.strip_prefix(':').ok_or_else(|| format!("invalid registry {registry:?}"))?.into()),
        }
    } else {
        match registry.rsplit_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(registry), None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!("invalid port {port:?} in registry {registry:?}"));
    }
    if let Some(host) = host {
        let valid_label = |label: &str| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if !host.split('.').all(valid_label) {
            return Err(format!("invalid registry host {host:?}"));
        }
    }
    Ok(())
}

/// Path components: `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn validate_repository(repository: &str) -> Result<(), String> {
    if repository.is_empty() {
        return Err("empty repository name".to_owned());
    }
    if repository.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(format!("repository name {repository:?} must be lower-case"));
    }
    for component in repository.split('/') {
        if !valid_component(component) {
            return Err(format!(
                "invalid repository component {component:?}: use lower-case letters and digits, \
                 separated by '.', '_', '__' or '-'"
            ));
        }
    }
    Ok(())
}

fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn validate_tag(tag: &str) -> Result<(), String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = tag.chars();
    let valid =
        tag.len() <= MAX_TAG_LENGTH && chars.next().is_some_and(word) && chars.all(|c| word(c) || c == '.' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid tag {tag:?}: up to {MAX_TAG_LENGTH} letters, digits, '_', '.' or '-', not starting with '.' or '-'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn parse(text: &str) -> Reference {
        Reference::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn reason(text: &str) -> String {
        match Reference::parse(text) {
            Err(ImageError::InvalidReference { reason, .. }) => reason,
            other => panic!("{text}: expected InvalidReference, got {other:?}"),
        }
    }

    #[test]
    fn docker_hub_normalisation() {
        let r = parse("alpine");
        assert_eq!(r.to_string(), "docker.io/library/alpine:latest");
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.manifest_reference(), "latest");
        assert_eq!(parse("library/alpine:3.19").to_string(), "docker.io/library/alpine:3.19");
        assert_eq!(parse("docker.io/alpine").to_string(), "docker.io/library/alpine:latest");
        assert_eq!(parse("index.docker.io/library/alpine").to_string(), "docker.io/library/alpine:latest");
        assert_eq!(parse("bitnami/redis:7").to_string(), "docker.io/bitnami/redis:7");
        assert_eq!(parse("a/b/c").repository, "a/b/c");
    }

    #[test]
    fn registries_ports_and_localhost() {
        let r = parse("127.0.0.1:5000/lab/deb-base:v2s2");
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "lab/deb-base", Some("v2s2"))
        );
        assert_eq!(r.api_host(), "127.0.0.1:5000");
        let r = parse("localhost:5000/app");
        assert_eq!((r.registry.as_str(), r.tag.as_deref()), ("localhost:5000", Some("latest")));
        assert_eq!(parse("localhost/app").registry, "localhost");
        assert_eq!(parse("ghcr.io/org/app:1.0").to_string(), "ghcr.io/org/app:1.0");
        assert_eq!(parse("GHCR.io/org/app").registry, "ghcr.io");
        assert_eq!(parse("[::1]:5000/app").registry, "[::1]:5000");
        // No '/' after it: "localhost:5000" is repository "localhost", tag "5000", as docker reads it.
        assert_eq!(parse("localhost:5000").to_string(), "docker.io/library/localhost:5000");
    }

    #[test]
    fn digests() {
        let r = parse(&format!("alpine@{DIGEST}"));
        assert_eq!((r.tag.as_deref(), r.digest.as_deref()), (None, Some(DIGEST)));
        assert_eq!(r.manifest_reference(), DIGEST);
        assert_eq!(r.to_string(), format!("docker.io/library/alpine@{DIGEST}"));
        let r = parse(&format!("127.0.0.1:5000/a/b:1.0@{DIGEST}"));
        assert_eq!((r.tag.as_deref(), r.manifest_reference()), (Some("1.0"), DIGEST));
        assert_eq!(r.short(), format!("a/b@{DIGEST}"));
    }

    #[test]
    fn rejects_invalid() {
        assert!(reason("").contains("empty"));
        assert!(reason("Alpine").contains("lower-case"), "{}", reason("Alpine"));
        assert!(reason("alpine@sha256:abc").contains("not a valid digest"));
        assert!(reason(&format!("@{DIGEST}")).contains("digest alone"));
        assert!(reason(DIGEST).contains("digest alone"));
        assert!(reason(&DIGEST[7..]).contains("image ID"));
        assert!(reason("alpine:bad/tag").contains("invalid port"));
        assert!(reason("alpine:.x").contains("invalid tag"));
        assert!(reason(&format!("alpine:{}", "x".repeat(129))).contains("invalid tag"));
        assert!(reason("host:notaport/app").contains("invalid port"));
        assert!(reason("my_host.io/app").contains("invalid registry host"));
        assert!(reason("a//b").contains("invalid repository component"));
        assert!(reason("a/b-/c").contains("invalid repository component"));
        assert!(reason("a/b c").contains("whitespace"));
        assert!(reason("ex.com/a..b").contains("invalid repository component"));
        assert_eq!(parse("ex.com/a__b.c-d---e").repository, "a__b.c-d---e");
    }
}
