//! Helpers of the image, registry and analyzer tests: a small Debian image
//! with known findings pushed to a real registry, feeds synced into the
//! service's vulnerability store, a second account, polling for analysis.

use std::path::Path;

use portcullis_testkit::layout::{BuiltImage, Image, Layer, OciLayout};
use portcullis_testkit::registry::{PushOptions, TestRegistry, push_oci_layout};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::TestServer;

pub const OTHER_USER: &str = "other-user";
pub const OTHER_PASSWORD: &str = "other-password";

/// Sends a request; the body as JSON (a string when it is not JSON).
pub async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
}

/// Debian 12 with openssl 3.0.9-1 and tar (findings in the Debian tracker).
pub fn debian_base() -> Layer {
    let status = "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.9-1\nArchitecture: amd64\n\n\
                  Package: tar\nStatus: install ok installed\nVersion: 1.34+dfsg-1.2\nArchitecture: amd64\n\n";
    Layer::gzip().files([
        (
            "etc/os-release",
            "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12\"\n",
        ),
        ("var/lib/dpkg/status", status),
    ])
}

/// An application layer with Python `requests` at `version` (2.19.1 has OSV findings).
pub fn python_app(version: &str) -> Layer {
    Layer::gzip().file(
        &format!("usr/lib/python3/dist-packages/requests-{version}.dist-info/METADATA"),
        format!("Metadata-Version: 2.1\nName: requests\nVersion: {version}\n"),
        0o644,
    )
}

/// The test image: the Debian base plus `requests` `version`.
pub fn app_image(version: &str) -> Image {
    Image::new().layer(debian_base()).layer(python_app(version))
}

/// Writes `image` to a layout in `dir` and pushes it as `dest` (`repo:tag`);
/// returns the built image and `HOST/dest`.
pub fn push(registry: &TestRegistry, dir: &Path, image: &Image, dest: &str) -> (BuiltImage, String) {
    let layout_dir = dir.join(dest.replace([':', '/'], "_"));
    let built = OciLayout::create(&layout_dir).add_image("latest", image);
    let tag = push_oci_layout(&layout_dir, "latest", registry, dest, PushOptions::oci());
    (built, tag)
}

/// Syncs the Debian tracker and OSV PyPI feeds into the service's store.
pub async fn sync_feeds(server: &TestServer) {
    let state = server.service.as_ref().unwrap().state();
    let feeds = portcullis_testkit::data::feeds_root();
    let specs: Vec<portcullis_feeds::sync::SourceSpec> = ["debian-tracker", "osv-pypi"]
        .iter()
        .map(|name| portcullis_feeds::sync::SourceSpec::parse(&format!("{name}={}", feeds.join(name).display())))
        .collect();
    let options = portcullis_feeds::sync::SyncOptions::new(server.data_dir.path().join("feeds-cache"));
    let report = portcullis_feeds::sync(&state.vulndb, &specs, &options, &portcullis_feeds::sync::NoProgress).await;
    for source in &report.sources {
        assert!(source.error.is_none(), "{} failed: {:?}", source.name, source.error);
    }
}

/// Polls `GET /images/{digest}` (as `user`, or admin) until the analysis
/// ends; returns the record. Bounded only to keep a broken analyzer from
/// hanging the suite.
pub async fn wait_analysis(server: &TestServer, digest: &str, user: Option<(&str, &str)>) -> Value {
    for _ in 0..3000 {
        let path = format!("/images/{digest}");
        let request = match user {
            Some((name, password)) => server.as_user(name, password, Method::GET, &path),
            None => server.admin(Method::GET, &path),
        };
        let (status, image) = send(request).await;
        assert_eq!(status, StatusCode::OK, "{image}");
        if let Some("analyzed" | "analysis_failed") = image[0]["analysis_status"].as_str() {
            return image[0].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the analysis of {digest} did not end");
}

/// Adds an image by tag as admin and returns the record.
pub async fn add_by_tag(server: &TestServer, tag: &str) -> Value {
    let (status, added) =
        send(server.admin(Method::POST, "/images").json(&json!({"source": {"tag": {"pullstring": tag}}}))).await;
    assert_eq!(status, StatusCode::OK, "{added}");
    added[0].clone()
}

/// A second, non-admin account `other` with one user, through the accounts API.
pub async fn add_other_account(server: &TestServer) {
    let (status, body) = send(server.admin(Method::POST, "/accounts").json(&json!({"name": "other"}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(
        server
            .admin(Method::POST, "/accounts/other/users")
            .json(&json!({"username": OTHER_USER, "password": OTHER_PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A request as the `other` account's user.
pub fn other(server: &TestServer, method: Method, path: &str) -> reqwest::RequestBuilder {
    server.as_user(OTHER_USER, OTHER_PASSWORD, method, path)
}
