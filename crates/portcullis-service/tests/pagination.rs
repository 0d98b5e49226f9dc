//! `page`/`limit` on the routes whose Anchore answer is a bare list: the
//! whole list without them (Anchore's behaviour), one page and an
//! `x-next-page` header with them.

mod common;

use common::{Engine, TestServer};
use reqwest::{Method, StatusCode};

const DEFAULT_BUNDLE: &str = include_str!("../../portcullis-policy/bundles/default.json");

async fn pages(engine: Engine) {
    let server = TestServer::start(engine).await;
    for id in ["b-1", "b-2"] {
        let mut bundle: serde_json::Value = serde_json::from_str(DEFAULT_BUNDLE).unwrap();
        bundle["id"] = id.into();
        let response = server.admin(Method::POST, "/policies").json(&bundle).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let ids = |body: &serde_json::Value| -> Vec<String> {
        body.as_array().unwrap().iter().map(|p| p["policyId"].as_str().unwrap().to_owned()).collect()
    };
    let whole = server.admin(Method::GET, "/policies").send().await.unwrap();
    assert!(whole.headers().get("x-next-page").is_none(), "no pagination unless asked");
    let all = ids(&whole.json().await.unwrap());
    assert_eq!(all.len(), 3, "the default bundle and two more: {all:?}");

    let first = server.admin(Method::GET, "/policies?limit=2").send().await.unwrap();
    assert_eq!(first.headers()["x-next-page"], "true");
    let first = ids(&first.json().await.unwrap());
    let second = server.admin(Method::GET, "/policies?limit=2&page=2").send().await.unwrap();
    assert_eq!(second.headers()["x-next-page"], "false");
    let second = ids(&second.json().await.unwrap());
    assert_eq!([first, second].concat(), all, "pages cover the list once, in order");
    let beyond = server.admin(Method::GET, "/policies?limit=2&page=9").send().await.unwrap();
    assert_eq!(beyond.json::<serde_json::Value>().await.unwrap(), serde_json::json!([]));

    for path in ["/accounts?limit=1", "/subscriptions?page=1", "/registries?limit=5", "/accounts/admin/users?limit=1"] {
        let response = server.admin(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["x-next-page"], "false", "{path}");
    }
    let bad = server.admin(Method::GET, "/policies?page=first").send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn pages_on_sqlite() {
    pages(Engine::Sqlite).await;
}

#[tokio::test]
async fn pages_on_postgres() {
    pages(Engine::Postgres).await;
}
