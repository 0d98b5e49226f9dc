//! `registry:` sources against a real registry (Debian's docker-registry,
//! distribution 2.8) filled by the real skopeo: manifest kinds, platforms,
//! digests, every auth mode, and each failure a user can meet.
//!
//! Each test starts its own registry (about 0.1 s), so tests run in parallel
//! and leave nothing behind. The credential-helper test lives in its own
//! binary because it changes PATH.

use std::io::Read;

use portcullis_image::source::{
    self, Credentials, ImageSource, LayerStream, Platform, PlatformChoice, RegistryOptions, Scheme, SourceOptions, oci,
};
use portcullis_image::tree::{ContentSelector, FileTree, NoProgress};
use portcullis_image::{ImageError, Limits};
use portcullis_testkit::http::{HttpServer, Response};
use portcullis_testkit::layout::{BuiltImage, BuiltIndex, sha256_digest};
use portcullis_testkit::{
    Image, Layer, ManifestFormat, OciLayout, PushOptions, RegistryAuth, TestRegistry, push_oci_layout,
};

fn options_for(registry: &TestRegistry) -> SourceOptions {
    SourceOptions {
        registry: RegistryOptions { insecure_registries: vec![registry.host()], ..Default::default() },
        ..Default::default()
    }
}

fn with_credentials(registry: &TestRegistry, user: &str, password: &str) -> SourceOptions {
    let mut options = options_for(registry);
    options.registry.credentials = Some(Credentials { username: user.into(), password: password.into() });
    // An empty config, so nothing from the machine's ~/.docker leaks in.
    options.registry.docker_config = Some(empty_docker_config());
    options
}

/// Keeps tests independent of the machine's `~/.docker/config.json`.
fn isolated(mut options: SourceOptions) -> SourceOptions {
    options.registry.docker_config = Some(empty_docker_config());
    options
}

/// One shared file, written atomically (tests run in parallel) and never
/// removed, so no test leaks a directory for it.
fn empty_docker_config() -> std::path::PathBuf {
    let path = std::env::temp_dir().join("portcullis-tests-empty-docker-config.json");
    let staging = tempfile::NamedTempFile::new_in(std::env::temp_dir()).unwrap();
    std::fs::write(staging.path(), "{}").unwrap();
    staging.persist(&path).unwrap();
    path
}

fn pull(image: &str, options: &SourceOptions) -> Result<Vec<Box<dyn ImageSource>>, ImageError> {
    source::open(&format!("registry:{image}"), options)
}

fn pull_one(image: &str, options: &SourceOptions) -> Box<dyn ImageSource> {
    let mut sources = pull(image, options).unwrap_or_else(|e| panic!("pulling {image}: {e}"));
    assert_eq!(sources.len(), 1, "one image expected for {image}");
    sources.remove(0)
}

fn read_layer(source: &dyn ImageSource, index: usize) -> std::io::Result<Vec<u8>> {
    let LayerStream::Tar(mut reader) = source.open_layer(index).map_err(std::io::Error::other)? else {
        panic!("registry layers are tar streams");
    };
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads every layer to EOF (which verifies each digest).
fn read_all_layers(source: &dyn ImageSource) -> Vec<Vec<u8>> {
    (0..source.descriptor().layers.len())
        .map(|i| read_layer(source, i).unwrap_or_else(|e| panic!("reading layer {i}: {e}")))
        .collect()
}

fn unwrap_err<T>(result: Result<T, ImageError>) -> ImageError {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

/// Two layers (gzip, then zstd with a whiteout) and a config with every field we read.
fn app_image(compressions: (Layer, Layer)) -> Image {
    let (base, top) = compressions;
    Image::new()
        .layer(base.dir("etc", 0o755).file("etc/os-release", "ID=testkit\n", 0o644).file("etc/old.conf", "x", 0o600))
        .layer(top.dir("app", 0o755).file("app/run.sh", "#!/bin/sh\necho hi\n", 0o755).whiteout("etc/old.conf"))
        .env("PATH=/usr/local/bin:/usr/bin")
        .env("APP_MODE=test")
        .user("app")
        .port("8080/tcp")
        .label("org.opencontainers.image.title", "app")
        .cmd(&["/app/run.sh"])
        .history("ADD rootfs /", false)
        .history("ENV APP_MODE=test", true)
        .history("COPY app /app", false)
}

struct Pushed {
    _layout_dir: tempfile::TempDir,
    layout: OciLayout,
    built: BuiltImage,
}

fn push_app(registry: &TestRegistry, dest: &str, image: &Image, push: PushOptions) -> Pushed {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(dir.path());
    let built = layout.add_image("latest", image);
    push_oci_layout(layout.path(), "latest", registry, dest, push);
    Pushed { _layout_dir: dir, layout, built }
}

fn blob(layout: &OciLayout, digest: &str) -> Vec<u8> {
    std::fs::read(layout.blob_path(digest)).unwrap()
}

#[test]
fn anonymous_oci_manifest() {
    let registry = TestRegistry::start(RegistryAuth::None);
    let pushed = push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let reference = registry.image("test/app:1");
    let image = pull_one(&reference, &isolated(options_for(&registry)));

    let descriptor = image.descriptor();
    assert_eq!(descriptor.scheme, Scheme::Registry);
    assert_eq!(descriptor.input, reference);
    let info = descriptor.image.as_ref().unwrap();
    assert_eq!(info.references, vec![reference.clone()]);
    assert_eq!(info.manifest_digest.as_deref(), Some(pushed.built.manifest_digest.as_str()));
    assert_eq!(info.manifest_media_type.as_deref(), Some(oci::OCI_MANIFEST));
    assert_eq!(info.index_digest, None);
    assert_eq!(info.config_digest, pushed.built.config_digest);
    assert_eq!(info.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(info.config.user.as_deref(), Some("app"));
    assert_eq!(info.config.env, vec!["PATH=/usr/local/bin:/usr/bin", "APP_MODE=test"]);
    assert_eq!(info.config.exposed_ports, vec!["8080/tcp"]);
    assert_eq!(info.config.labels.get("org.opencontainers.image.title").map(String::as_str), Some("app"));
    let layer_of: Vec<Option<usize>> = info.history.iter().map(|h| h.layer_index).collect();
    assert_eq!(layer_of, vec![Some(0), None, Some(1)]);

    assert_eq!(descriptor.layers.len(), 2);
    for (layer, built) in descriptor.layers.iter().zip(&pushed.built.layers) {
        assert_eq!(layer.digest.as_deref(), Some(built.digest.as_str()));
        assert_eq!(layer.diff_id.as_deref(), Some(built.diff_id.as_str()));
        assert_eq!(layer.media_type.as_deref(), Some(built.media_type.as_str()));
        assert_eq!(layer.size, Some(built.size));
    }
    let layers = read_all_layers(image.as_ref());
    for (bytes, built) in layers.iter().zip(&pushed.built.layers) {
        assert_eq!(bytes, &blob(&pushed.layout, &built.digest), "layer {}", built.digest);
    }

    // The same image through the whole tree pipeline: zstd layer, whiteout and all.
    let tree =
        FileTree::build(image.as_ref(), &ContentSelector::new(&["**"]).unwrap(), &Limits::default(), &NoProgress)
            .unwrap();
    let read = |path: &str| tree.read(path).unwrap().map(|c| String::from_utf8_lossy(&c.data).into_owned());
    assert_eq!(read("/etc/os-release").as_deref(), Some("ID=testkit\n"));
    assert_eq!(read("/app/run.sh").as_deref(), Some("#!/bin/sh\necho hi\n"));
    assert_eq!(read("/etc/old.conf"), None);
}

#[test]
fn docker_schema2_manifest() {
    let registry = TestRegistry::start(RegistryAuth::None);
    let pushed = push_app(&registry, "test/app:v2s2", &app_image((Layer::gzip(), Layer::gzip())), PushOptions::v2s2());
    let image = pull_one(&registry.image("test/app:v2s2"), &isolated(options_for(&registry)));
    let info = image.descriptor().image.as_ref().unwrap();
    assert_eq!(info.manifest_media_type.as_deref(), Some(oci::DOCKER_MANIFEST));
    assert_ne!(info.manifest_digest.as_deref(), Some(pushed.built.manifest_digest.as_str()), "skopeo converted it");
    assert_eq!(info.config.user.as_deref(), Some("app"));
    assert_eq!(info.config.env.len(), 2);
    let media_types: Vec<_> =
        image.descriptor().layers.iter().map(|l| l.media_type.clone().unwrap_or_default()).collect();
    assert!(media_types.iter().all(|m| m == "application/vnd.docker.image.rootfs.diff.tar.gzip"), "{media_types:?}");
    let layers = read_all_layers(image.as_ref());
    for (bytes, built) in layers.iter().zip(&pushed.built.layers) {
        assert_eq!(bytes, &blob(&pushed.layout, &built.digest));
    }
}

fn platform_image(os: &str, arch: &str, variant: Option<&str>) -> Image {
    Image::new()
        .platform(os, arch, variant)
        .layer(Layer::gzip().file("arch", format!("{arch}\n"), 0o644))
        .env(&format!("ARCH={arch}"))
}

struct PushedIndex {
    _layout_dir: tempfile::TempDir,
    index: BuiltIndex,
}

fn push_multi(registry: &TestRegistry, dest: &str, format: Option<ManifestFormat>) -> PushedIndex {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(dir.path());
    let index = layout
        .add_index("multi", &[platform_image("linux", "amd64", None), platform_image("linux", "arm64", Some("v8"))]);
    push_oci_layout(layout.path(), "multi", registry, dest, PushOptions { format, all: true });
    PushedIndex { _layout_dir: dir, index }
}

fn arch_file(image: &dyn ImageSource) -> String {
    let layer = read_layer(image, 0).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(layer.as_slice()));
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    let mut text = String::new();
    entry.read_to_string(&mut text).unwrap();
    text
}

#[test]
fn multi_platform_index() {
    let registry = TestRegistry::start(RegistryAuth::None);
    let pushed = push_multi(&registry, "test/multi:1", None);
    let reference = registry.image("test/multi:1");
    let base = isolated(options_for(&registry));

    let amd64 = pull_one(&reference, &base);
    let info = amd64.descriptor().image.clone().unwrap();
    assert_eq!(info.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(info.index_digest.as_deref(), Some(pushed.index.digest.as_str()));
    assert_eq!(info.manifest_digest.as_deref(), Some(pushed.index.manifests[0].manifest_digest.as_str()));
    assert_eq!(info.references, vec![reference.clone()]);
    assert_eq!(arch_file(amd64.as_ref()), "amd64\n");

    let arm = SourceOptions { platform: PlatformChoice::One(Platform::parse("linux/arm64").unwrap()), ..base.clone() };
    let arm64 = pull_one(&reference, &arm);
    let info = arm64.descriptor().image.clone().unwrap();
    assert_eq!(info.platform.as_deref(), Some("linux/arm64/v8"));
    assert_eq!(info.manifest_digest.as_deref(), Some(pushed.index.manifests[1].manifest_digest.as_str()));
    assert_eq!(info.config.env, vec!["ARCH=arm64"]);
    assert_eq!(arch_file(arm64.as_ref()), "arm64\n");

    let s390x =
        SourceOptions { platform: PlatformChoice::One(Platform::parse("linux/s390x").unwrap()), ..base.clone() };
    let err = unwrap_err(pull(&reference, &s390x));
    assert!(matches!(err, ImageError::PlatformNotFound { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("linux/s390x") && message.contains("linux/amd64") && message.contains("linux/arm64/v8"),
        "{message}"
    );

    let all = SourceOptions { platform: PlatformChoice::All, ..base };
    let images = pull(&reference, &all).unwrap();
    let platforms: Vec<_> =
        images.iter().map(|i| i.descriptor().image.as_ref().unwrap().platform.clone().unwrap()).collect();
    assert_eq!(platforms, vec!["linux/amd64", "linux/arm64/v8"]);
    let arches: Vec<String> = images.iter().map(|i| arch_file(i.as_ref())).collect();
    assert_eq!(arches, vec!["amd64\n", "arm64\n"]);
}

#[test]
fn docker_manifest_list() {
    let registry = TestRegistry::start(RegistryAuth::None);
    push_multi(&registry, "test/multi:list", Some(ManifestFormat::V2s2));
    let options = SourceOptions { platform: PlatformChoice::All, ..isolated(options_for(&registry)) };
    let images = pull(&registry.image("test/multi:list"), &options).unwrap();
    assert_eq!(images.len(), 2);
    for image in &images {
        let info = image.descriptor().image.as_ref().unwrap();
        assert_eq!(info.manifest_media_type.as_deref(), Some(oci::DOCKER_MANIFEST));
        assert!(info.index_digest.is_some());
        read_all_layers(image.as_ref());
    }
}

#[test]
fn single_manifest_with_all_platforms_is_one_image() {
    let registry = TestRegistry::start(RegistryAuth::None);
    push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::uncompressed())), PushOptions::default());
    let options = SourceOptions { platform: PlatformChoice::All, ..isolated(options_for(&registry)) };
    assert_eq!(pull(&registry.image("test/app:1"), &options).unwrap().len(), 1);
}

#[test]
fn pull_by_digest() {
    let registry = TestRegistry::start(RegistryAuth::None);
    let pushed = push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let options = isolated(options_for(&registry));
    let digest = &pushed.built.manifest_digest;
    for reference in [registry.image(&format!("test/app@{digest}")), registry.image(&format!("test/app:1@{digest}"))] {
        let image = pull_one(&reference, &options);
        let info = image.descriptor().image.as_ref().unwrap();
        assert_eq!(info.manifest_digest.as_deref(), Some(digest.as_str()));
        assert_eq!(info.references, vec![reference.clone()]);
        read_all_layers(image.as_ref());
    }
    // A digest the repository does not have.
    let missing = sha256_digest(b"nothing");
    let err = unwrap_err(pull(&registry.image(&format!("test/app@{missing}")), &options));
    assert!(matches!(err, ImageError::Registry { .. }) && err.to_string().contains("not found"), "{err}");

    // Multi-platform index by digest: the index digest is the reference's.
    let multi = push_multi(&registry, "test/multi:1", None);
    let by_digest = registry.image(&format!("test/multi@{}", multi.index.digest));
    let image = pull_one(&by_digest, &options);
    assert_eq!(image.descriptor().image.as_ref().unwrap().index_digest.as_deref(), Some(multi.index.digest.as_str()));
}

#[test]
fn tampered_manifest_is_rejected() {
    let registry = TestRegistry::start(RegistryAuth::None);
    let pushed = push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let digest = pushed.built.manifest_digest.clone();
    // Still valid JSON (the registry parses it before serving), different bytes.
    registry.rewrite_blob(&digest, |bytes| [b" ".as_slice(), &bytes].concat());
    let options = isolated(options_for(&registry));
    for reference in [registry.image("test/app:1"), registry.image(&format!("test/app@{digest}"))] {
        let err = unwrap_err(pull(&reference, &options));
        assert!(
            matches!(&err, ImageError::DigestMismatch { expected, .. } if *expected == digest),
            "{reference}: {err:?}"
        );
    }
}

#[test]
fn layer_digest_mismatch_surfaces_when_reading() {
    let registry = TestRegistry::start(RegistryAuth::None);
    let pushed = push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let bad = pushed.built.layers[1].digest.clone();
    registry.corrupt_blob(&bad);
    let image = pull_one(&registry.image("test/app:1"), &isolated(options_for(&registry)));
    read_layer(image.as_ref(), 0).expect("the intact layer reads fine");
    let err = read_layer(image.as_ref(), 1).unwrap_err();
    let inner = err.get_ref().and_then(|e| e.downcast_ref::<ImageError>());
    assert!(
        matches!(inner, Some(ImageError::DigestMismatch { expected, what, .. }) if *expected == bad && what.contains("layer 1")),
        "{err:?}"
    );
}

#[test]
fn config_digest_mismatch_fails_open() {
    let registry = TestRegistry::start(RegistryAuth::None);
    let pushed = push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    registry.corrupt_blob(&pushed.built.config_digest);
    let err = unwrap_err(pull(&registry.image("test/app:1"), &isolated(options_for(&registry))));
    assert!(
        matches!(&err, ImageError::DigestMismatch { expected, what, .. } if *expected == pushed.built.config_digest && what.starts_with("config")),
        "{err:?}"
    );
}

#[test]
fn documents_above_the_limit_are_refused() {
    let registry = TestRegistry::start(RegistryAuth::None);
    push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let mut options = isolated(options_for(&registry));
    options.limits.max_document_size = 64;
    let err = unwrap_err(pull(&registry.image("test/app:1"), &options));
    assert!(matches!(err, ImageError::DocumentTooLarge { limit: 64, .. }), "{err:?}");
}

#[test]
fn document_size_is_enforced_while_reading() {
    // No Content-Length to check up front: the limit must hold on the stream.
    let fake = HttpServer::start(|_| Response::new(200).body(vec![b' '; 4096]).close_delimited());
    let mut options = insecure(fake.host());
    options.limits.max_document_size = 1000;
    let err = unwrap_err(pull(&format!("{}/test/app:1", fake.host()), &options));
    assert!(matches!(err, ImageError::DocumentTooLarge { size: 1001, limit: 1000, .. }), "{err:?}");
}

#[test]
fn missing_tag_and_repository() {
    let registry = TestRegistry::start(RegistryAuth::None);
    push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let options = isolated(options_for(&registry));
    let err = unwrap_err(pull(&registry.image("test/app:nope"), &options));
    let message = err.to_string();
    assert!(matches!(err, ImageError::Registry { .. }), "{err:?}");
    assert!(message.contains("not found: test/app:nope") && message.contains("MANIFEST_UNKNOWN"), "{message}");
    let err = unwrap_err(pull(&registry.image("test/other:1"), &options));
    assert!(err.to_string().contains("not found: test/other:1"), "{err}");
}

#[test]
fn invalid_reference() {
    let err = unwrap_err(pull("127.0.0.1:5000/Test/App:1", &SourceOptions::default()));
    assert!(matches!(err, ImageError::InvalidReference { .. }), "{err:?}");
}

#[test]
fn unreachable_registry() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let host = format!("127.0.0.1:{port}");
    let options = SourceOptions {
        registry: RegistryOptions { insecure_registries: vec![host.clone()], ..Default::default() },
        ..Default::default()
    };
    let err = unwrap_err(pull(&format!("{host}/test/app:1"), &options));
    let message = err.to_string();
    assert!(matches!(&err, ImageError::Unreachable { registry, .. } if *registry == host), "{err:?}");
    assert!(message.contains("connection refused"), "{message}");
}

#[test]
fn https_against_a_plain_http_registry_hints_at_insecure() {
    let registry = TestRegistry::start(RegistryAuth::None);
    let err = unwrap_err(pull(&registry.image("test/app:1"), &SourceOptions::default()));
    let message = err.to_string();
    assert!(matches!(err, ImageError::Unreachable { .. }), "{err:?}");
    assert!(message.contains(&format!("--insecure-registry {}", registry.host())), "{message}");
}

// ---- Basic auth ----

#[test]
fn basic_auth_with_explicit_credentials() {
    let registry = TestRegistry::start(RegistryAuth::basic("lab", "labpass"));
    push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let image = pull_one(&registry.image("test/app:1"), &with_credentials(&registry, "lab", "labpass"));
    read_all_layers(image.as_ref());
}

#[test]
fn basic_auth_wrong_password() {
    let registry = TestRegistry::start(RegistryAuth::basic("lab", "labpass"));
    push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let err = unwrap_err(pull(&registry.image("test/app:1"), &with_credentials(&registry, "lab", "WRONG-pass")));
    let message = err.to_string();
    assert!(matches!(&err, ImageError::Unauthorized { repository, .. } if repository == "test/app"), "{err:?}");
    assert!(message.contains("\"lab\"") && message.contains("explicit credentials"), "{message}");
    assert!(!message.contains("WRONG-pass"), "the secret leaked: {message}");
}

#[test]
fn basic_auth_without_credentials() {
    let registry = TestRegistry::start(RegistryAuth::basic("lab", "labpass"));
    push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let options = isolated(options_for(&registry));
    let err = unwrap_err(pull(&registry.image("test/app:1"), &options));
    let message = err.to_string();
    assert!(matches!(err, ImageError::Unauthorized { .. }), "{err:?}");
    assert!(message.contains("none were found"), "{message}");
    let config = options.registry.docker_config.unwrap();
    assert!(message.contains(&config.display().to_string()), "{message}");
}

fn docker_config(entries: serde_json::Value) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, entries.to_string()).unwrap();
    (dir, path)
}

fn auth_field(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[test]
fn basic_auth_from_docker_config() {
    let registry = TestRegistry::start(RegistryAuth::basic("lab", "labpass"));
    push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let (_dir, path) = docker_config(serde_json::json!({
        "auths": {
            registry.host(): {"auth": auth_field("lab", "labpass")},
            "other.example:5000": {"auth": auth_field("nobody", "x")},
        }
    }));
    let mut options = options_for(&registry);
    options.registry.docker_config = Some(path.clone());
    let image = pull_one(&registry.image("test/app:1"), &options);
    read_all_layers(image.as_ref());

    // An http:// key names the same registry; a wrong password names its source.
    let (_dir2, wrong) = docker_config(serde_json::json!({
        "auths": {format!("http://{}", registry.host()): {"username": "lab", "password": "nope"}}
    }));
    options.registry.docker_config = Some(wrong.clone());
    let err = unwrap_err(pull(&registry.image("test/app:1"), &options));
    let message = err.to_string();
    assert!(matches!(err, ImageError::Unauthorized { .. }), "{err:?}");
    assert!(message.contains(&wrong.display().to_string()) && message.contains("auths."), "{message}");
}

#[test]
fn broken_docker_config_is_reported() {
    let registry = TestRegistry::start(RegistryAuth::basic("lab", "labpass"));
    push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(&path, "{not json").unwrap();
    let mut options = options_for(&registry);
    options.registry.docker_config = Some(path.clone());
    let err = unwrap_err(pull(&registry.image("test/app:1"), &options));
    assert!(matches!(&err, ImageError::Credentials(m) if m.contains(&path.display().to_string())), "{err:?}");
}

// ---- Token auth ----

#[test]
fn token_auth_with_credentials_and_shared_token_cache() {
    let registry = TestRegistry::start(RegistryAuth::token("lab", "labpass", false));
    push_multi(&registry, "test/multi:1", None);
    let issued_by_push = registry.tokens_issued();
    let mut options = with_credentials(&registry, "lab", "labpass");
    options.platform = PlatformChoice::All;
    let images = pull(&registry.image("test/multi:1"), &options).unwrap();
    assert_eq!(images.len(), 2);
    // Every layer of both images from several threads at once.
    std::thread::scope(|scope| {
        for image in &images {
            for index in 0..image.descriptor().layers.len() {
                let image = image.as_ref();
                scope.spawn(move || read_layer(image, index).unwrap());
            }
        }
    });
    assert_eq!(registry.tokens_issued() - issued_by_push, 1, "one token serves the whole pull");
    let token_request = registry.token_server().unwrap().requests().last().cloned().unwrap();
    assert_eq!(token_request.query("scope"), vec!["repository:test/multi:pull"]);
    assert_eq!(token_request.query("service"), vec![portcullis_testkit::token::SERVICE]);
    assert!(token_request.header("authorization").is_some_and(|h| h.starts_with("Basic ")));
}

#[test]
fn token_auth_anonymous_pull() {
    let registry = TestRegistry::start(RegistryAuth::token("lab", "labpass", true));
    push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let image = pull_one(&registry.image("test/app:1"), &isolated(options_for(&registry)));
    read_all_layers(image.as_ref());
    let last = registry.token_server().unwrap().requests().last().cloned().unwrap();
    assert!(last.header("authorization").is_none(), "no credentials were configured");
}

#[test]
fn token_auth_refusals() {
    let registry = TestRegistry::start(RegistryAuth::token("lab", "labpass", false));
    push_app(&registry, "test/app:1", &app_image((Layer::gzip(), Layer::zstd())), PushOptions::oci());
    let reference = registry.image("test/app:1");

    let err = unwrap_err(pull(&reference, &with_credentials(&registry, "lab", "bad-secret")));
    let message = err.to_string();
    assert!(matches!(err, ImageError::Unauthorized { .. }), "{err:?}");
    assert!(
        message.contains("token server") && message.contains("\"lab\"") && !message.contains("bad-secret"),
        "{message}"
    );

    let err = unwrap_err(pull(&reference, &isolated(options_for(&registry))));
    let message = err.to_string();
    assert!(matches!(err, ImageError::Unauthorized { .. }), "{err:?}");
    assert!(message.contains("anonymous access was refused"), "{message}");
}

#[test]
fn token_for_one_repository_does_not_open_another() {
    // Anonymous tokens carry pull for the asked repository only; a registry
    // that then refuses the retry must give Unauthorized, not loop.
    let registry = TestRegistry::start(RegistryAuth::token("lab", "labpass", true));
    let err = unwrap_err(pull(&registry.image("test/absent:1"), &isolated(options_for(&registry))));
    // distribution answers unknown repositories with 404 once authorised.
    assert!(err.to_string().contains("not found: test/absent:1"), "{err}");
}

// ---- Redirects to blob storage ----

/// A fake registry that wants Basic auth and redirects blob GETs to a
/// "storage" server on another loopback address, which must never see the
/// registry credentials.
#[test]
fn blob_redirects_do_not_forward_credentials() {
    let layout_dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(layout_dir.path());
    let built = layout.add_image("latest", &app_image((Layer::gzip(), Layer::zstd())));
    let blobs = layout_dir.path().join("blobs/sha256");

    let storage_blobs = blobs.clone();
    let storage = HttpServer::start_on("127.0.0.2", move |request| {
        let hex = request.path().trim_start_matches("/storage/");
        match std::fs::read(storage_blobs.join(hex)) {
            Ok(bytes) => Response::new(200).body(bytes),
            Err(_) => Response::new(404),
        }
    });
    let storage_url = storage.url();
    let manifest = std::fs::read(layout.blob_path(&built.manifest_digest)).unwrap();
    let manifest_digest = built.manifest_digest.clone();
    let config_digest = built.config_digest.clone();
    let registry_blobs = blobs.clone();
    let fake = HttpServer::start(move |request| {
        if request.header("authorization") != Some(&format!("Basic {}", auth_field("lab", "labpass"))) {
            return Response::new(401).header("WWW-Authenticate", "Basic realm=\"fake\"");
        }
        let path = request.path();
        if path.starts_with("/v2/test/app/manifests/") {
            return Response::new(200)
                .header("Content-Type", oci::OCI_MANIFEST)
                .header("Docker-Content-Digest", manifest_digest.clone())
                .body(manifest.clone());
        }
        if let Some(digest) = path.strip_prefix("/v2/test/app/blobs/") {
            let hex = digest.trim_start_matches("sha256:");
            if digest == config_digest {
                return Response::new(200).body(std::fs::read(registry_blobs.join(hex)).unwrap());
            }
            return Response::new(307).header("Location", format!("{storage_url}/storage/{hex}"));
        }
        Response::new(404)
    });
    let options = SourceOptions {
        registry: RegistryOptions {
            insecure_registries: vec![fake.host()],
            credentials: Some(Credentials { username: "lab".into(), password: "labpass".into() }),
            docker_config: Some(empty_docker_config()),
        },
        ..Default::default()
    };
    let image = pull_one(&format!("{}/test/app:1", fake.host()), &options);
    let layers = read_all_layers(image.as_ref());
    assert_eq!(layers[1], blob(&layout, &built.layers[1].digest));
    let storage_requests = storage.requests();
    assert_eq!(storage_requests.len(), 2, "both layers came from storage");
    assert!(
        storage_requests.iter().all(|r| r.header("authorization").is_none()),
        "credentials leaked to the storage host: {storage_requests:?}"
    );
}

/// A fake registry serving a real manifest and config but layer bodies that
/// are longer than the manifest declares.
fn lying_registry(close_delimited: bool) -> (HttpServer, tempfile::TempDir) {
    let layout_dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(layout_dir.path());
    let built = layout.add_image("latest", &app_image((Layer::gzip(), Layer::zstd())));
    let manifest = std::fs::read(layout.blob_path(&built.manifest_digest)).unwrap();
    let config = std::fs::read(layout.blob_path(&built.config_digest)).unwrap();
    let config_digest = built.config_digest.clone();
    let fake = HttpServer::start(move |request| {
        let path = request.path();
        if path.starts_with("/v2/test/app/manifests/") {
            return Response::new(200).header("Content-Type", oci::OCI_MANIFEST).body(manifest.clone());
        }
        if path.ends_with(&config_digest) {
            return Response::new(200).body(config.clone());
        }
        let endless = Response::new(200).body(vec![0u8; 1 << 16]);
        if close_delimited { endless.close_delimited() } else { endless }
    });
    (fake, layout_dir)
}

fn insecure(host: String) -> SourceOptions {
    isolated(SourceOptions {
        registry: RegistryOptions { insecure_registries: vec![host], ..Default::default() },
        ..Default::default()
    })
}

#[test]
fn layer_longer_than_declared_is_refused() {
    let (fake, _dir) = lying_registry(false);
    let image = pull_one(&format!("{}/test/app:1", fake.host()), &insecure(fake.host()));
    let err = unwrap_err(image.open_layer(0).map(|_| ()));
    assert!(err.to_string().contains("declares") && err.to_string().contains("65536"), "{err}");

    // Without a Content-Length the stream itself is cut at the declared size.
    let (fake, _dir) = lying_registry(true);
    let image = pull_one(&format!("{}/test/app:1", fake.host()), &insecure(fake.host()));
    let err = read_layer(image.as_ref(), 0).unwrap_err();
    assert!(err.to_string().contains("more bytes than the manifest declares"), "{err}");
}
