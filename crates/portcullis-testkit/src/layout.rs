//! Writes valid OCI image layouts (`oci-layout`, `index.json`,
//! `blobs/sha256/...`) from a description of layers and config, so tests get
//! real images without Docker or network.
//!
//! ```no_run
//! use portcullis_testkit::layout::{Image, Layer, OciLayout};
//! let dir = tempfile::tempdir().unwrap();
//! let mut layout = OciLayout::create(dir.path());
//! let image = Image::new()
//!     .layer(Layer::gzip().dir("etc", 0o755).file("etc/os-release", "ID=test\n", 0o644))
//!     .layer(Layer::zstd().file("app/run.sh", "#!/bin/sh\n", 0o755).whiteout("etc/os-release"))
//!     .env("PATH=/usr/bin")
//!     .user("app");
//! let built = layout.add_image("latest", &image);
//! println!("{}", built.manifest_digest);
//! ```
//!
//! Output is deterministic (fixed mtimes, gzip without timestamps), so the
//! same description always gives the same digests.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// 2024-01-01T00:00:00Z, for every mtime and `created`.
const EPOCH: u64 = 1_704_067_200;
const CREATED: &str = "2024-01-01T00:00:00Z";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// One tar entry. Paths are relative (`etc/passwd`); no parent directories
/// are added implicitly.
#[derive(Debug, Clone)]
pub enum Entry {
    File {
        path: String,
        content: Vec<u8>,
        mode: u32,
    },
    Dir {
        path: String,
        mode: u32,
    },
    Symlink {
        path: String,
        target: String,
    },
    HardLink {
        path: String,
        target: String,
    },
    /// Deletes `path` from lower layers (`parent/.wh.name`).
    Whiteout {
        path: String,
    },
    /// Hides everything lower layers put in `dir` (`dir/.wh..wh..opq`).
    OpaqueWhiteout {
        dir: String,
    },
}

#[derive(Debug, Clone)]
pub struct Layer {
    pub compression: Compression,
    pub entries: Vec<Entry>,
    /// A stored blob and the tar it claims to hold, used verbatim: for hostile
    /// or broken layers (see [`crate::rawtar`]) the builder cannot produce.
    pub prebuilt: Option<(Vec<u8>, Vec<u8>)>,
}

impl Layer {
    pub fn new(compression: Compression) -> Layer {
        Layer { compression, entries: Vec::new(), prebuilt: None }
    }

    /// A layer whose stored bytes are `blob`, whatever they contain; the
    /// diff id is computed from `tar`. The media type follows `compression`.
    pub fn from_blob(compression: Compression, blob: Vec<u8>, tar: Vec<u8>) -> Layer {
        Layer { compression, entries: Vec::new(), prebuilt: Some((blob, tar)) }
    }

    pub fn gzip() -> Layer {
        Layer::new(Compression::Gzip)
    }

    pub fn zstd() -> Layer {
        Layer::new(Compression::Zstd)
    }

    pub fn uncompressed() -> Layer {
        Layer::new(Compression::None)
    }

    pub fn file(mut self, path: &str, content: impl AsRef<[u8]>, mode: u32) -> Layer {
        self.entries.push(Entry::File { path: path.to_owned(), content: content.as_ref().to_vec(), mode });
        self
    }

    /// Several regular files with mode 0644.
    pub fn files<P: AsRef<str>, C: AsRef<[u8]>>(mut self, files: impl IntoIterator<Item = (P, C)>) -> Layer {
        for (path, content) in files {
            self = self.file(path.as_ref(), content, 0o644);
        }
        self
    }

    pub fn dir(mut self, path: &str, mode: u32) -> Layer {
        self.entries.push(Entry::Dir { path: path.to_owned(), mode });
        self
    }

    pub fn symlink(mut self, path: &str, target: &str) -> Layer {
        self.entries.push(Entry::Symlink { path: path.to_owned(), target: target.to_owned() });
        self
    }

    pub fn hardlink(mut self, path: &str, target: &str) -> Layer {
        self.entries.push(Entry::HardLink { path: path.to_owned(), target: target.to_owned() });
        self
    }

    pub fn whiteout(mut self, path: &str) -> Layer {
        self.entries.push(Entry::Whiteout { path: path.to_owned() });
        self
    }

    pub fn opaque(mut self, dir: &str) -> Layer {
        self.entries.push(Entry::OpaqueWhiteout { dir: dir.to_owned() });
        self
    }

    /// The uncompressed tar stream.
    pub fn tar_bytes(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for entry in &self.entries {
            match entry {
                Entry::File { path, content, mode } => {
                    let mut header = header(tar::EntryType::Regular, *mode, content.len() as u64);
                    builder.append_data(&mut header, path, content.as_slice()).expect("tar file entry");
                }
                Entry::Dir { path, mode } => {
                    let mut header = header(tar::EntryType::Directory, *mode, 0);
                    let path = if path.ends_with('/') { path.clone() } else { format!("{path}/") };
                    builder.append_data(&mut header, path, std::io::empty()).expect("tar dir entry");
                }
                Entry::Symlink { path, target } => {
                    let mut header = header(tar::EntryType::Symlink, 0o777, 0);
                    builder.append_link(&mut header, path, target).expect("tar symlink entry");
                }
                Entry::HardLink { path, target } => {
                    let mut header = header(tar::EntryType::Link, 0o644, 0);
                    builder.append_link(&mut header, path, target).expect("tar hard link entry");
                }
                Entry::Whiteout { path } => {
                    let (parent, name) = match path.trim_end_matches('/').rsplit_once('/') {
                        Some((parent, name)) => (format!("{parent}/"), name),
                        None => (String::new(), path.as_str()),
                    };
                    let mut header = header(tar::EntryType::Regular, 0o644, 0);
                    builder
                        .append_data(&mut header, format!("{parent}.wh.{name}"), std::io::empty())
                        .expect("whiteout");
                }
                Entry::OpaqueWhiteout { dir } => {
                    let mut header = header(tar::EntryType::Regular, 0o644, 0);
                    let dir = dir.trim_end_matches('/');
                    builder
                        .append_data(&mut header, format!("{dir}/.wh..wh..opq"), std::io::empty())
                        .expect("opaque whiteout");
                }
            }
        }
        builder.into_inner().expect("finishing tar")
    }

    /// `(stored blob, diff_id)`.
    pub fn blob(&self) -> (Vec<u8>, String) {
        if let Some((blob, tar)) = &self.prebuilt {
            return (blob.clone(), sha256_digest(tar));
        }
        let tar = self.tar_bytes();
        let diff_id = sha256_digest(&tar);
        let blob = match self.compression {
            Compression::None => tar,
            Compression::Gzip => {
                // GzBuilder without mtime/filename: deterministic output.
                let mut encoder = flate2::GzBuilder::new().write(Vec::new(), flate2::Compression::default());
                encoder.write_all(&tar).expect("gzip");
                encoder.finish().expect("gzip")
            }
            Compression::Zstd => zstd::stream::encode_all(tar.as_slice(), 3).expect("zstd"),
        };
        (blob, diff_id)
    }
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(EPOCH);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// A history entry; without any, one is generated per layer.
#[derive(Debug, Clone)]
pub struct History {
    pub created_by: String,
    pub empty_layer: bool,
    pub comment: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// An image to write: platform, layers (base first) and config.
#[derive(Debug, Clone)]
pub struct Image {
    pub platform: Platform,
    pub layers: Vec<Layer>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub exposed_ports: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub working_dir: Option<String>,
    pub history: Vec<History>,
}

impl Default for Image {
    fn default() -> Self {
        Image::new()
    }
}

impl Image {
    /// linux/amd64, no layers, empty config.
    pub fn new() -> Image {
        Image {
            platform: Platform { os: "linux".into(), architecture: "amd64".into(), variant: None },
            layers: Vec::new(),
            env: Vec::new(),
            user: None,
            exposed_ports: Vec::new(),
            labels: BTreeMap::new(),
            entrypoint: Vec::new(),
            cmd: Vec::new(),
            working_dir: None,
            history: Vec::new(),
        }
    }

    pub fn platform(mut self, os: &str, architecture: &str, variant: Option<&str>) -> Image {
        self.platform =
            Platform { os: os.into(), architecture: architecture.into(), variant: variant.map(str::to_owned) };
        self
    }

    pub fn layer(mut self, layer: Layer) -> Image {
        self.layers.push(layer);
        self
    }

    pub fn env(mut self, entry: &str) -> Image {
        self.env.push(entry.to_owned());
        self
    }

    pub fn user(mut self, user: &str) -> Image {
        self.user = Some(user.to_owned());
        self
    }

    /// `8080/tcp`
    pub fn port(mut self, port: &str) -> Image {
        self.exposed_ports.push(port.to_owned());
        self
    }

    pub fn label(mut self, key: &str, value: &str) -> Image {
        self.labels.insert(key.to_owned(), value.to_owned());
        self
    }

    pub fn entrypoint(mut self, args: &[&str]) -> Image {
        self.entrypoint = args.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn cmd(mut self, args: &[&str]) -> Image {
        self.cmd = args.iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn working_dir(mut self, dir: &str) -> Image {
        self.working_dir = Some(dir.to_owned());
        self
    }

    /// Appends a history entry. Once any is given, the non-empty ones must
    /// match the layers one to one (as in real images).
    pub fn history(mut self, created_by: &str, empty_layer: bool) -> Image {
        self.history.push(History { created_by: created_by.to_owned(), empty_layer, comment: None });
        self
    }

    /// The config JSON for the given diff ids.
    pub fn config_json(&self, diff_ids: &[String]) -> Value {
        let history: Vec<Value> = if self.history.is_empty() {
            (0..self.layers.len())
                .map(|i| json!({"created": CREATED, "created_by": format!("layer {i}"), "comment": "portcullis-testkit"}))
                .collect()
        } else {
            self.history
                .iter()
                .map(|h| {
                    let mut entry = json!({"created": CREATED, "created_by": h.created_by});
                    if h.empty_layer {
                        entry["empty_layer"] = json!(true);
                    }
                    if let Some(comment) = &h.comment {
                        entry["comment"] = json!(comment);
                    }
                    entry
                })
                .collect()
        };
        let mut config = serde_json::Map::new();
        config.insert("Env".into(), json!(self.env));
        if let Some(user) = &self.user {
            config.insert("User".into(), json!(user));
        }
        if !self.exposed_ports.is_empty() {
            let ports: serde_json::Map<String, Value> =
                self.exposed_ports.iter().map(|p| (p.clone(), json!({}))).collect();
            config.insert("ExposedPorts".into(), Value::Object(ports));
        }
        if !self.labels.is_empty() {
            config.insert("Labels".into(), json!(self.labels));
        }
        if !self.entrypoint.is_empty() {
            config.insert("Entrypoint".into(), json!(self.entrypoint));
        }
        if !self.cmd.is_empty() {
            config.insert("Cmd".into(), json!(self.cmd));
        }
        if let Some(dir) = &self.working_dir {
            config.insert("WorkingDir".into(), json!(dir));
        }
        let mut document = json!({
            "created": CREATED,
            "architecture": self.platform.architecture,
            "os": self.platform.os,
            "config": Value::Object(config),
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        if let Some(variant) = &self.platform.variant {
            document["variant"] = json!(variant);
        }
        document
    }
}

/// A layer as written.
#[derive(Debug, Clone)]
pub struct BuiltLayer {
    pub digest: String,
    pub diff_id: String,
    pub size: u64,
    pub media_type: String,
}

/// An image as written.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    pub manifest_digest: String,
    pub manifest_size: u64,
    pub config_digest: String,
    pub layers: Vec<BuiltLayer>,
    pub platform: String,
}

/// A multi-platform index as written.
#[derive(Debug, Clone)]
pub struct BuiltIndex {
    pub digest: String,
    pub manifests: Vec<BuiltImage>,
}

/// An OCI image layout directory being written.
pub struct OciLayout {
    dir: PathBuf,
    entries: Vec<Value>,
}

impl OciLayout {
    /// Creates (or reuses) `dir` with an `oci-layout` file and an empty index.
    pub fn create(dir: &Path) -> OciLayout {
        std::fs::create_dir_all(dir.join("blobs/sha256")).expect("creating the layout directory");
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("writing oci-layout");
        let layout = OciLayout { dir: dir.to_owned(), entries: Vec::new() };
        layout.write_index();
        layout
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Where the blob with `digest` (`sha256:...`) is stored.
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.dir.join("blobs/sha256").join(hex)
    }

    /// Writes a single-platform image tagged `tag`.
    pub fn add_image(&mut self, tag: &str, image: &Image) -> BuiltImage {
        let built = self.write_image(image);
        self.entries.push(json!({
            "mediaType": OCI_MANIFEST,
            "digest": built.manifest_digest,
            "size": built.manifest_size,
            "annotations": {REF_NAME: tag},
        }));
        self.write_index();
        built
    }

    /// Writes every image and an image index over them, tagged `tag`.
    pub fn add_index(&mut self, tag: &str, images: &[Image]) -> BuiltIndex {
        let manifests: Vec<BuiltImage> = images.iter().map(|image| self.write_image(image)).collect();
        let descriptors: Vec<Value> = images
            .iter()
            .zip(&manifests)
            .map(|(image, built)| {
                let mut platform = json!({"os": image.platform.os, "architecture": image.platform.architecture});
                if let Some(variant) = &image.platform.variant {
                    platform["variant"] = json!(variant);
                }
                json!({"mediaType": OCI_MANIFEST, "digest": built.manifest_digest, "size": built.manifest_size, "platform": platform})
            })
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors});
        let (digest, size) = self.write_blob(index.to_string().as_bytes());
        self.entries.push(json!({
            "mediaType": OCI_INDEX,
            "digest": digest,
            "size": size,
            "annotations": {REF_NAME: tag},
        }));
        self.write_index();
        BuiltIndex { digest, manifests }
    }

    fn write_image(&self, image: &Image) -> BuiltImage {
        let mut layers = Vec::new();
        for layer in &image.layers {
            let (blob, diff_id) = layer.blob();
            let (digest, size) = self.write_blob(&blob);
            layers.push(BuiltLayer { digest, diff_id, size, media_type: layer.compression.media_type().to_owned() });
        }
        let diff_ids: Vec<String> = layers.iter().map(|l| l.diff_id.clone()).collect();
        let config = image.config_json(&diff_ids).to_string();
        let (config_digest, config_size) = self.write_blob(config.as_bytes());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": config_size},
            "layers": layers.iter().map(|l| json!({"mediaType": l.media_type, "digest": l.digest, "size": l.size})).collect::<Vec<_>>(),
        });
        let (manifest_digest, manifest_size) = self.write_blob(manifest.to_string().as_bytes());
        BuiltImage { manifest_digest, manifest_size, config_digest, layers, platform: image.platform.to_string() }
    }

    fn write_blob(&self, bytes: &[u8]) -> (String, u64) {
        let digest = sha256_digest(bytes);
        std::fs::write(self.blob_path(&digest), bytes).expect("writing a blob");
        (digest, bytes.len() as u64)
    }

    fn write_index(&self) {
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": self.entries});
        std::fs::write(self.dir.join("index.json"), index.to_string()).expect("writing index.json");
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_readable_layout() {
        let dir = tempfile::tempdir().unwrap();
        let mut layout = OciLayout::create(dir.path());
        let image = Image::new()
            .layer(Layer::gzip().dir("etc", 0o755).file("etc/a", "A", 0o600).symlink("etc/b", "a"))
            .layer(Layer::zstd().whiteout("etc/a").opaque("var/cache"))
            .layer(Layer::uncompressed().files([("x", "1"), ("y", "2")]))
            .env("A=1")
            .user("app")
            .port("80/tcp")
            .label("k", "v");
        let built = layout.add_image("latest", &image);
        assert_eq!(built.layers.len(), 3);
        for layer in &built.layers {
            let blob = std::fs::read(layout.blob_path(&layer.digest)).unwrap();
            assert_eq!(sha256_digest(&blob), layer.digest);
        }
        // Determinism.
        let dir2 = tempfile::tempdir().unwrap();
        assert_eq!(OciLayout::create(dir2.path()).add_image("latest", &image).manifest_digest, built.manifest_digest);

        let names = |layer: &Layer| -> Vec<String> {
            tar::Archive::new(layer.tar_bytes().as_slice())
                .entries()
                .unwrap()
                .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(names(&image.layers[0]), vec!["etc/", "etc/a", "etc/b"]);
        assert_eq!(names(&image.layers[1]), vec!["etc/.wh.a", "var/cache/.wh..wh..opq"]);

        let config: Value =
            serde_json::from_slice(&std::fs::read(layout.blob_path(&built.config_digest)).unwrap()).unwrap();
        assert_eq!(config["config"]["User"], "app");
        assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 3);
        assert_eq!(config["history"].as_array().unwrap().len(), 3);

        let index = layout.add_index("multi", &[image.clone(), image.platform("linux", "arm64", Some("v8"))]);
        assert_eq!(index.manifests[1].platform, "linux/arm64/v8");
        let top: Value = serde_json::from_slice(&std::fs::read(dir.path().join("index.json")).unwrap()).unwrap();
        assert_eq!(top["manifests"].as_array().unwrap().len(), 2);
    }
}
