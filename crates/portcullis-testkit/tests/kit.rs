//! The kit against the real tools: each registry flavour starts, accepts a
//! skopeo push, and enforces its auth.

use portcullis_testkit::http::get_status;
use portcullis_testkit::{Image, Layer, OciLayout, PushOptions, RegistryAuth, TestRegistry, push_oci_layout};

fn layout() -> (tempfile::TempDir, OciLayout) {
    let dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(dir.path());
    layout.add_image("latest", &Image::new().layer(Layer::gzip().file("hello", "world", 0o644)));
    (dir, layout)
}

#[test]
fn plain_registry_push() {
    let registry = TestRegistry::start(RegistryAuth::None);
    let (_dir, layout) = layout();
    let pushed = push_oci_layout(layout.path(), "latest", &registry, "kit/plain:1", PushOptions::default());
    assert_eq!(pushed, format!("{}/kit/plain:1", registry.host()));
    assert_eq!(get_status(&registry.host(), "/v2/kit/plain/tags/list"), Some(200));
    assert!(registry.storage_dir().join("docker/registry/v2/repositories/kit/plain").is_dir());
}

#[test]
fn basic_registry_requires_credentials() {
    let registry = TestRegistry::start(RegistryAuth::basic("lab", "labpass"));
    assert_eq!(get_status(&registry.host(), "/v2/"), Some(401));
    let (_dir, layout) = layout();
    push_oci_layout(layout.path(), "latest", &registry, "kit/basic:1", PushOptions::v2s2());
    assert_eq!(get_status(&registry.host(), "/v2/kit/basic/tags/list"), Some(401));
}

#[test]
fn token_registry_issues_tokens() {
    let registry = TestRegistry::start(RegistryAuth::token("lab", "labpass", false));
    assert_eq!(get_status(&registry.host(), "/v2/"), Some(401));
    let (_dir, layout) = layout();
    push_oci_layout(layout.path(), "latest", &registry, "kit/token:1", PushOptions::oci());
    assert!(registry.tokens_issued() >= 1, "skopeo must have gone through the token server");
    let token_server = registry.token_server().unwrap();
    assert!(token_server.requests().iter().all(|r| r.header("authorization").is_some()));
}

#[test]
fn registries_stop_on_drop() {
    let registry = TestRegistry::start(RegistryAuth::None);
    let pid = registry.pid();
    drop(registry);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "registry {pid} still running");
}
