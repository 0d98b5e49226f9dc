//! The routes every client touches first: health, version, the OpenAPI
//! document, metrics, authentication and tokens.

mod common;

use common::{ADMIN_PASSWORD, Engine, TestServer};
use reqwest::{Method, StatusCode};

async fn meta_routes(engine: Engine) {
    let server = TestServer::start(engine).await;
    let health = server.client.get(server.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);

    // anchore-cli reads info.version from swagger.json to pick request forms.
    let doc: serde_json::Value =
        server.client.get(server.url("/swagger.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["info"]["version"], "0.1.20");
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/oauth/token",
        "/images",
        "/images/{digest}/check",
        "/images/{digest}/vuln/{vtype}",
        "/policies",
        "/subscriptions",
        "/registries",
        "/repositories",
        "/events",
        "/system/feeds",
        "/system/queue",
        "/accounts",
        "/query/images/by_vulnerability",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not in the OpenAPI document");
    }

    // Unauthenticated, wrong password, then right.
    let anonymous = server.client.get(server.url("/")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(body["httpcode"], 401);
    assert!(body["message"].as_str().unwrap().contains("authentication required"));
    let wrong = server.as_user("admin", "nope", Method::GET, "/").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(server.admin(Method::GET, "/").send().await.unwrap().status(), StatusCode::OK);

    // A token from the password grant works as a bearer credential.
    let token: serde_json::Value = server
        .client
        .post(server.url("/oauth/token"))
        .form(&[("grant_type", "password"), ("username", "admin"), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap();
    let with_token = server.client.get(server.url("/")).bearer_auth(access).send().await.unwrap();
    assert_eq!(with_token.status(), StatusCode::OK);
    let bad_token = server.client.get(server.url("/")).bearer_auth("forged").send().await.unwrap();
    assert_eq!(bad_token.status(), StatusCode::UNAUTHORIZED);
    let refused = server
        .client
        .post(server.url("/oauth/token"))
        .form(&[("grant_type", "password"), ("username", "admin"), ("password", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // An admin acting for an account that does not exist.
    let missing = server.admin(Method::GET, "/").header("x-anchore-account", "ghost").send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let metrics = server.client.get(server.base.replace("/v1", "/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);
    assert!(metrics.text().await.unwrap().contains("portcullis_uptime_seconds"));
    server.stop().await;
}

#[tokio::test]
async fn meta_routes_on_sqlite() {
    meta_routes(Engine::Sqlite).await;
}

#[tokio::test]
async fn meta_routes_on_postgres() {
    meta_routes(Engine::Postgres).await;
}

#[tokio::test]
async fn a_generated_admin_password_is_returned_once() {
    let dir = tempfile::tempdir().unwrap();
    let config = portcullis_service::config::ServiceConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_owned(),
        ..Default::default()
    };
    let first = portcullis_service::Service::start(config.clone(), None).await.unwrap();
    let password = first.generated_admin_password.clone().expect("generated on first start");
    assert!(password.len() >= 20);
    first.shutdown().await;
    let second = portcullis_service::Service::start(config, None).await.unwrap();
    assert_eq!(second.generated_admin_password, None);
    second.shutdown().await;
}
