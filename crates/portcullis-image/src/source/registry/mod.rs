//! `registry:` sources: the OCI distribution API v2, spoken directly (no
//! daemon). Manifests and configs are fetched, size-bounded and verified
//! against their digests up front; layers are streamed from the registry on
//! demand and verified at EOF, so nothing is written to disk.

use std::io::{self, Read};
use std::sync::Arc;

use super::oci::{self, ManifestDocument, ManifestOrigin};
use super::{ImageDescriptor, ImageSource, LayerStream, RegistryOptions, Scheme, SourceOptions};
use crate::digest::{Digest, VerifyingReader};
use crate::error::{ImageError, Result};

mod auth;
mod client;
mod credentials;
mod reference;

pub use reference::Reference;

use client::Client;

/// One image (one platform) pulled from a registry. Clones of the client are
/// shared between the images of one reference, so tokens are fetched once.
pub struct RegistryImage {
    client: Arc<Client>,
    repository: String,
    descriptor: ImageDescriptor,
}

/// Resolves `reference` (without the `registry:` prefix) to one image per
/// selected platform.
pub fn open(reference: &str, options: &SourceOptions) -> Result<Vec<RegistryImage>> {
    let parsed = Reference::parse(reference)?;
    let client = Arc::new(Client::new(&parsed.registry, &options.registry)?);
    let limit = options.limits.max_document_size;
    let accept = oci::ACCEPTED_MANIFEST_TYPES.join(", ");
    let shown = parsed.short();
    tracing::debug!(reference = %parsed, "pulling manifest");
    let top = client.manifest(&parsed.repository, parsed.manifest_reference(), &accept, limit, &shown)?;
    let top_digest = manifest_digest(&client, &top, parsed.digest.as_deref(), &format!("manifest {shown}"))?;
    let what = format!("manifest {shown} ({top_digest})");
    let pulled = Pulled { client: &client, reference: &parsed, input: reference, options };
    match oci::parse_manifest_document(&top.bytes, top.media_type.as_deref(), &what)? {
        ManifestDocument::Index(index) => {
            let chosen = oci::select_platforms(&index, &options.platform)?;
            chosen
                .into_iter()
                .map(|entry| {
                    let entry_what = format!("manifest {} ({})", entry.digest, describe_platform(entry));
                    let fetched = client.manifest(
                        &parsed.repository,
                        &entry.digest,
                        &accept,
                        limit,
                        &format!("{}@{}", parsed.repository, entry.digest),
                    )?;
                    let digest = manifest_digest(&client, &fetched, Some(&entry.digest), &entry_what)?;
                    let media_type = fetched.media_type.clone().or_else(|| entry.media_type.clone());
                    match oci::parse_manifest_document(&fetched.bytes, media_type.as_deref(), &entry_what)? {
                        ManifestDocument::Manifest(manifest) => {
                            pulled.image(manifest, digest, media_type, Some(top_digest.to_string()))
                        }
                        ManifestDocument::Index(_) => {
                            Err(ImageError::malformed(entry_what, "nested index inside an index"))
                        }
                    }
                })
                .collect()
        }
        ManifestDocument::Manifest(manifest) => {
            Ok(vec![pulled.image(manifest, top_digest, top.media_type.clone(), None)?])
        }
    }
}

/// Checks that `registry` (`host[:port]`) answers the distribution API and
/// accepts the credentials `options` lead to (anonymous when there are none).
pub fn ping(registry: &str, options: &RegistryOptions) -> Result<()> {
    Client::new(&registry.to_ascii_lowercase(), options)?.ping()
}

/// Every tag of `repository` in `registry` (`host[:port]`), as the registry lists them.
pub fn list_tags(registry: &str, repository: &str, options: &RegistryOptions) -> Result<Vec<String>> {
    Client::new(&registry.to_ascii_lowercase(), options)?.tags(repository)
}

struct Pulled<'a> {
    client: &'a Arc<Client>,
    reference: &'a Reference,
    input: &'a str,
    options: &'a SourceOptions,
}

impl Pulled<'_> {
    fn image(
        &self,
        manifest: oci::Manifest,
        digest: Digest,
        media_type: Option<String>,
        index_digest: Option<String>,
    ) -> Result<RegistryImage> {
        let repository = &self.reference.repository;
        let config_digest = Digest::parse(&manifest.config.digest)?;
        let what = format!("config {config_digest}");
        let bytes = self.client.small_blob(
            repository,
            &manifest.config.digest,
            &what,
            self.options.limits.max_document_size,
        )?;
        config_digest.verify(&what, &bytes)?;
        let config = oci::parse_config(&bytes, &what)?;
        if let super::PlatformChoice::One(wanted) = &self.options.platform
            && index_digest.is_none()
            && (config.os.as_deref().is_some_and(|os| os != wanted.os)
                || config.architecture.as_deref().is_some_and(|arch| arch != wanted.architecture))
        {
            // A single-platform image is what it is; say so rather than fail.
            tracing::warn!(
                "{} is {}/{}, not the requested {wanted}; analysing it anyway",
                self.reference,
                config.os.as_deref().unwrap_or("?"),
                config.architecture.as_deref().unwrap_or("?")
            );
        }
        let layers = oci::layer_descriptors(&manifest, &config)?;
        let origin = ManifestOrigin {
            manifest_digest: Some(digest.to_string()),
            manifest_media_type: manifest.media_type.clone().or(media_type),
            index_digest,
            references: vec![self.reference.to_string()],
        };
        let image = oci::image_info(origin, &manifest.config.digest, &config);
        Ok(RegistryImage {
            client: Arc::clone(self.client),
            repository: repository.clone(),
            descriptor: ImageDescriptor {
                scheme: Scheme::Registry,
                input: self.input.to_owned(),
                image: Some(image),
                layers,
            },
        })
    }
}

/// The manifest's digest, verified: against the digest we asked for, else
/// against the registry's `Docker-Content-Digest`, else computed.
fn manifest_digest(client: &Client, fetched: &client::Fetched, expected: Option<&str>, what: &str) -> Result<Digest> {
    if let Some(expected) = expected {
        let digest = Digest::parse(expected)?;
        digest.verify(what, &fetched.bytes)?;
        return Ok(digest);
    }
    if let Some(header) = &fetched.digest_header {
        let digest = Digest::parse(header).map_err(|_| ImageError::Registry {
            registry: client.registry().to_owned(),
            message: format!("{what}: invalid Docker-Content-Digest header {header:?}"),
        })?;
        digest.verify(what, &fetched.bytes)?;
        return Ok(digest);
    }
    Ok(Digest::sha256_of(&fetched.bytes))
}

fn describe_platform(entry: &oci::Descriptor) -> String {
    match &entry.platform {
        Some(p) => match &p.variant {
            Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
            None => format!("{}/{}", p.os, p.architecture),
        },
        None => "no platform".to_owned(),
    }
}

impl ImageSource for RegistryImage {
    fn descriptor(&self) -> &ImageDescriptor {
        &self.descriptor
    }

    fn open_layer(&self, index: usize) -> Result<LayerStream> {
        let (layer, digest) = self.descriptor.layer_blob(index)?;
        let digest_text = digest.to_string();
        let what = format!("layer {index} ({digest_text})");
        let response = self.client.blob(&self.repository, &digest_text, &what)?;
        if let (Some(declared), Some(sent)) = (layer.size, response.content_length())
            && declared != sent
        {
            return Err(ImageError::Registry {
                registry: self.client.registry().to_owned(),
                message: format!("{what}: the manifest declares {declared} bytes but the registry sends {sent}"),
            });
        }
        let bounded = SizeBound { inner: response, remaining: layer.size, what: what.clone() };
        Ok(LayerStream::Tar(Box::new(VerifyingReader::new(bounded, digest, what))))
    }
}

/// Fails a stream that runs past the size the manifest declared, so a
/// hostile registry cannot feed an endless blob while the digest check
/// waits for EOF.
struct SizeBound<R> {
    inner: R,
    remaining: Option<u64>,
    what: String,
}

impl<R: Read> Read for SizeBound<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(remaining) = self.remaining else { return self.inner.read(buf) };
        if remaining == 0 {
            // One probe byte tells "exactly the declared size" from "more".
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: the registry sent more bytes than the manifest declares", self.what),
                )),
            };
        }
        let want = buf.len().min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.remaining = Some(remaining - n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_bound() {
        let mut exact = SizeBound { inner: &b"abcd"[..], remaining: Some(4), what: "l".into() };
        let mut out = Vec::new();
        exact.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcd");
        let mut over = SizeBound { inner: &b"abcde"[..], remaining: Some(4), what: "l".into() };
        let err = over.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("more bytes than the manifest declares"), "{err}");
        let mut unknown = SizeBound { inner: &b"abcde"[..], remaining: None, what: "l".into() };
        assert_eq!(unknown.read_to_end(&mut Vec::new()).unwrap(), 5);
    }
}
