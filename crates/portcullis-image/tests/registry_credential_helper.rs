//! Docker credential helpers (`credHelpers`, `credsStore`) run for real:
//! executables named `docker-credential-*` put on PATH.
//!
//! A test binary of its own with a single test, because PATH is
//! process-global and other tests must not see (or race with) the change.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use portcullis_image::ImageError;
use portcullis_image::source::{self, LayerStream, RegistryOptions, SourceOptions};
use portcullis_testkit::{Image, Layer, OciLayout, PushOptions, RegistryAuth, TestRegistry, push_oci_layout};

fn write_helper(dir: &Path, name: &str, body: &str) {
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn pull(registry: &TestRegistry, config: serde_json::Value, dir: &Path) -> Result<usize, ImageError> {
    let path = dir.join("config.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let options = SourceOptions {
        registry: RegistryOptions {
            insecure_registries: vec![registry.host()],
            credentials: None,
            docker_config: Some(path),
        },
        ..Default::default()
    };
    let images = source::open(&format!("registry:{}", registry.image("test/app:1")), &options)?;
    for image in &images {
        for index in 0..image.descriptor().layers.len() {
            let LayerStream::Tar(mut reader) = image.open_layer(index)? else { panic!("tar expected") };
            std::io::copy(&mut reader, &mut std::io::sink()).unwrap();
        }
    }
    Ok(images.len())
}

#[test]
fn credential_helpers_and_stores() {
    let registry = TestRegistry::start(RegistryAuth::basic("lab", "labpass"));
    let layout_dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(layout_dir.path());
    layout.add_image("latest", &Image::new().layer(Layer::gzip().file("hello", "world", 0o644)));
    push_oci_layout(layout.path(), "latest", &registry, "test/app:1", PushOptions::oci());

    let bin = tempfile::tempdir().unwrap();
    let asked = bin.path().join("asked.log");
    let host = registry.host();
    // Like the real helpers: the server on stdin (no newline), JSON on stdout,
    // "credentials not found" and exit 1 when it has nothing.
    write_helper(
        bin.path(),
        "testkit",
        &format!(
            r#"[ "$1" = get ] || exit 2
server=$(cat)
echo "$server" >> {asked}
if [ "$server" = "{host}" ]; then
  printf '{{"ServerURL":"%s","Username":"lab","Secret":"labpass"}}' "$server"
else
  echo "credentials not found in native keychain"; exit 1
fi"#,
            asked = asked.display()
        ),
    );
    write_helper(bin.path(), "empty", "cat > /dev/null; echo 'credentials not found in native keychain'; exit 1");
    write_helper(bin.path(), "wrong", r#"cat > /dev/null; printf '{"Username":"lab","Secret":"not-the-password"}'"#);
    write_helper(bin.path(), "broken", "cat > /dev/null; echo 'keychain locked' >&2; exit 3");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin.path().to_owned()];
    dirs.extend(std::env::split_paths(&path));
    // SAFETY: this binary has a single test, so no other thread reads the environment concurrently.
    unsafe { std::env::set_var("PATH", std::env::join_paths(dirs).unwrap()) };

    let work = tempfile::tempdir().unwrap();
    // credHelpers for this host.
    assert_eq!(pull(&registry, serde_json::json!({"credHelpers": {host.clone(): "testkit"}}), work.path()).unwrap(), 1);
    assert_eq!(std::fs::read_to_string(&asked).unwrap(), format!("{host}\n"), "the helper is asked with host:port");

    // credsStore, with an empty auths entry next to it (as docker writes them).
    let store = serde_json::json!({"credsStore": "testkit", "auths": {host.clone(): {}}});
    assert_eq!(pull(&registry, store, work.path()).unwrap(), 1);

    // A helper for another host is not used; the store answers.
    let mixed = serde_json::json!({"credHelpers": {"other.example": "broken"}, "credsStore": "testkit"});
    assert_eq!(pull(&registry, mixed, work.path()).unwrap(), 1);

    // "credentials not found" means anonymous, which this registry refuses.
    let err = pull(&registry, serde_json::json!({"credsStore": "empty"}), work.path()).unwrap_err();
    assert!(matches!(&err, ImageError::Unauthorized { message, .. } if message.contains("none were found")), "{err:?}");

    // Rejected credentials name the helper, never the secret.
    let err = pull(&registry, serde_json::json!({"credHelpers": {host.clone(): "wrong"}}), work.path()).unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, ImageError::Unauthorized { .. }), "{err:?}");
    assert!(message.contains("docker-credential-wrong") && !message.contains("not-the-password"), "{message}");

    // A failing helper and a missing one are errors, not silent anonymity.
    let err = pull(&registry, serde_json::json!({"credHelpers": {host.clone(): "broken"}}), work.path()).unwrap_err();
    assert!(matches!(&err, ImageError::Credentials(m) if m.contains("keychain locked")), "{err:?}");
    let err = pull(&registry, serde_json::json!({"credsStore": "nonexistent-helper"}), work.path()).unwrap_err();
    assert!(matches!(&err, ImageError::Credentials(m) if m.contains("not found on PATH")), "{err:?}");
}
