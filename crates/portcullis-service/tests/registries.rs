//! Registry credentials against a real registry with basic auth: validation,
//! encryption at rest, the longest-match rule, plain HTTP for
//! `registry_verify: false`, and isolation between accounts.

mod common;

use common::images::{add_other_account, app_image, other, push, send, wait_analysis};
use common::{Engine, TestServer};
use portcullis_testkit::registry::{RegistryAuth, TestRegistry};
use reqwest::{Method, StatusCode};
use serde_json::json;

const USER: &str = "puller";
const PASSWORD: &str = "pull-secret-123";

/// `/registries/{registry}` with the registry quoted as anchore-cli does.
fn registry_path(registry: &str) -> String {
    let quoted: String = registry
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    format!("/registries/{quoted}")
}

async fn registry_routes(engine: Engine) {
    let registry = TestRegistry::start(RegistryAuth::basic(USER, PASSWORD));
    let dir = tempfile::tempdir().unwrap();
    let (built, tag) = push(&registry, dir.path(), &app_image("2.19.1"), "private/app:v1");
    let host = registry.host();
    // Not configured insecure: plain HTTP comes from registry_verify=false.
    let server = TestServer::start(engine).await;
    add_other_account(&server).await;
    let body = |password: &str| {
        json!({"registry": host, "registry_user": USER, "registry_pass": password,
               "registry_type": "docker_v2", "registry_verify": false, "registry_name": "lab"})
    };

    // Without credentials the registry refuses the lookup; nothing is written.
    let (status, refused) =
        send(server.admin(Method::POST, "/images").json(&json!({"source": {"tag": {"pullstring": tag}}}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");

    // Validation against /v2/ with a wrong password fails and stores nothing.
    let (status, failed) = send(server.admin(Method::POST, "/registries?validate=true").json(&body("wrong"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{failed}");
    assert!(failed["message"].as_str().unwrap().contains(&host), "{failed}");
    assert!(!failed.to_string().contains("wrong"), "the password is not echoed: {failed}");
    let (status, _) = send(server.admin(Method::GET, &registry_path(&host))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, added) = send(server.admin(Method::POST, "/registries?validate=true").json(&body(PASSWORD))).await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added[0]["registry"], host.as_str());
    assert_eq!(added[0]["registry_user"], USER);
    assert_eq!(added[0]["registry_verify"], false);
    assert_eq!(added[0]["userId"], "admin");
    assert!(added[0].get("registry_pass").is_none(), "{added}");
    let (status, _) = send(server.admin(Method::POST, "/registries?validate=false").json(&body(PASSWORD))).await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Encrypted at rest.
    let state = server.service.as_ref().unwrap().state().clone();
    let stored: String = sqlx::query_scalar("SELECT registry_pass FROM registries WHERE registry = $1")
        .bind(&host)
        .fetch_one(state.db.pool())
        .await
        .unwrap();
    assert!(stored.starts_with("v1:") && !stored.contains(PASSWORD), "{stored}");
    assert_eq!(state.cipher.decrypt(&stored).unwrap(), PASSWORD);

    // The image is pulled with the stored credentials over plain HTTP.
    let (status, image) =
        send(server.admin(Method::POST, "/images").json(&json!({"source": {"tag": {"pullstring": tag}}}))).await;
    assert_eq!(status, StatusCode::OK, "{image}");
    assert_eq!(image[0]["imageDigest"], built.manifest_digest.as_str());
    let analysed = wait_analysis(&server, &built.manifest_digest, None).await;
    assert_eq!(analysed["analysis_status"], "analyzed", "{analysed}");

    // A repository-scoped record with a trailing * (quoted in the path) wins
    // over the host record by length: give the host record a wrong password.
    let scoped = format!("{host}/private/*");
    let (status, _) = send(server.admin(Method::POST, "/registries?validate=false").json(&json!({
        "registry": scoped, "registry_user": USER, "registry_pass": PASSWORD, "registry_verify": false})))
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, updated) =
        send(server.admin(Method::PUT, &format!("{}?validate=false", registry_path(&host))).json(&body("wrong"))).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    let access = portcullis_service::registries::credentials_for(&state, "admin", &format!("{host}/private/app"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((access.registry.as_str(), access.password.as_str()), (scoped.as_str(), PASSWORD));
    let access = portcullis_service::registries::credentials_for(&state, "admin", &format!("{host}/public/app"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(access.registry, host);
    assert!(
        portcullis_service::registries::credentials_for(&state, "admin", "elsewhere:5000/x").await.unwrap().is_none()
    );
    let (status, forced) = send(server.admin(Method::POST, "/images?force=true").json(&json!({"tag": tag}))).await;
    assert_eq!(status, StatusCode::OK, "the scoped record is used: {forced}");

    // Reading, listing, updating.
    let (status, got) = send(server.admin(Method::GET, &registry_path(&scoped))).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(got[0]["registry"], scoped.as_str());
    let (_, list) = send(server.admin(Method::GET, "/registries")).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    assert!(!list.to_string().contains(PASSWORD));
    let (status, _) =
        send(server.admin(Method::PUT, &format!("{}?validate=true", registry_path(&host))).json(&body("wrong"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "validation on update");
    let (status, _) = send(server.admin(Method::PUT, &registry_path("elsewhere:5000")).json(&json!({
        "registry": "elsewhere:5000", "registry_user": "u", "registry_pass": "p"})))
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.admin(Method::PUT, &registry_path(&host)).json(&json!({
        "registry": "elsewhere:5000", "registry_user": "u", "registry_pass": "p"})))
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "path and body disagree");

    // Bad bodies.
    for bad in [
        json!({"registry": "", "registry_user": "u", "registry_pass": "p"}),
        json!({"registry": "https://x", "registry_user": "u", "registry_pass": "p"}),
        json!({"registry": "x:1", "registry_user": "u", "registry_pass": "p", "registry_type": "awsecr"}),
        json!({"registry": "x:1"}),
    ] {
        let (status, body) = send(server.admin(Method::POST, "/registries?validate=false").json(&bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (status, _) = send(server.admin(Method::POST, "/registries?validate=sometimes").json(&body(PASSWORD))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(server.client.get(server.url("/registries"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Another account sees none of it, and its pulls do not use it.
    let (_, theirs) = send(other(&server, Method::GET, "/registries")).await;
    assert_eq!(theirs, json!([]));
    for method in [Method::GET, Method::DELETE] {
        let (status, _) = send(other(&server, method, &registry_path(&host))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, refused) = send(other(&server, Method::POST, "/images").json(&json!({"tag": tag}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    // Without the admin's record the registry is not even marked plain-HTTP.
    assert_eq!(refused["detail"]["error_code"], "registry_unreachable", "{refused}");

    for registry in [&host, &scoped] {
        let (status, _) = send(server.admin(Method::DELETE, &registry_path(registry))).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = send(server.admin(Method::DELETE, &registry_path(&host))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn registry_routes_on_sqlite() {
    registry_routes(Engine::Sqlite).await;
}

#[tokio::test]
async fn registry_routes_on_postgres() {
    registry_routes(Engine::Postgres).await;
}

/// `anchore-cli registry add/list/get/del` and `image add/wait/list/get/
/// content/vuln/del` against the service, through a registry with basic auth.
async fn anchore_cli(engine: Engine) {
    let registry = TestRegistry::start(RegistryAuth::basic(USER, PASSWORD));
    let dir = tempfile::tempdir().unwrap();
    let (built, tag) = push(&registry, dir.path(), &app_image("2.19.1"), "cli/app:v1");
    let server = TestServer::start(engine).await;
    common::images::sync_feeds(&server).await;
    let base = server.base.clone();
    let host = registry.host();
    let digest = built.manifest_digest.clone();
    // anchore-cli is a blocking subprocess: keep it off the runtime's threads.
    tokio::task::spawn_blocking(move || {
        let cli = portcullis_testkit::anchore_cli::AnchoreCli::new(base, "admin", common::ADMIN_PASSWORD);
        let run = |args: &[&str]| {
            let output = cli.run(args);
            (output.code, format!("{}{}", output.stdout, output.stderr))
        };
        let (code, out) = run(&["registry", "add", &host, USER, "wrong-password", "--insecure"]);
        assert_ne!(code, Some(0), "validation refuses a wrong password: {out}");
        let (code, out) = run(&["registry", "add", &host, USER, PASSWORD, "--insecure"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains(&host) && !out.contains(PASSWORD), "{out}");
        let (code, out) = run(&["registry", "list"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains(&host) && out.contains(USER), "{out}");
        let (code, out) = run(&["registry", "get", &host]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("docker_v2"), "{out}");

        let (code, out) = run(&["image", "add", &tag]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains(&digest), "{out}");
        let (code, out) = run(&["image", "wait", &tag, "--interval", "1"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("analyzed"), "{out}");
        let (code, out) = run(&["image", "list"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains(&tag) && out.contains("analyzed"), "{out}");
        let (code, out) = run(&["image", "get", &tag]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains(&format!("Image Digest: {digest}")) && out.contains("Distro: debian"), "{out}");
        let (code, out) = run(&["image", "content", &tag, "os"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("libssl3") && out.contains("3.0.9-1"), "{out}");
        let (code, out) = run(&["image", "content", &tag, "python"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("requests"), "{out}");
        let (code, out) = run(&["image", "vuln", &tag, "os"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("CVE-2024-0727") && out.contains("libssl3-3.0.9-1"), "{out}");
        let (code, out) = run(&["image", "vuln", &tag, "all"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("CVE-2018-18074"), "{out}");
        let json = cli.run_json(&["image", "vuln", &tag, "non-os"]);
        assert_eq!(json["vulnerability_type"], "non-os", "{json}");
        let (code, out) = run(&["image", "metadata", &tag, "manifest"]);
        assert_eq!(code, Some(0), "{out}");

        let (code, out) = run(&["image", "del", &digest, "--force"]);
        assert_eq!(code, Some(0), "{out}");
        let (code, out) = run(&["image", "get", &digest]);
        assert_ne!(code, Some(0), "{out}");
        let (code, out) = run(&["registry", "del", &host]);
        assert_eq!(code, Some(0), "{out}");
        let (code, out) = run(&["registry", "get", &host]);
        assert_ne!(code, Some(0), "{out}");
    })
    .await
    .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn anchore_cli_on_sqlite() {
    anchore_cli(Engine::Sqlite).await;
}

#[tokio::test]
async fn anchore_cli_on_postgres() {
    anchore_cli(Engine::Postgres).await;
}
