//! The event log: listing with every filter and pagination, one event,
//! deletion (one, by time, all), the type catalog, account isolation, and
//! anchore-cli's `event` commands.

mod common;

use common::images::send;
use common::{ADMIN_PASSWORD, Engine, TestServer};
use portcullis_service::events::{self, NewEvent};
use portcullis_testkit::anchore_cli::AnchoreCli;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn record(server: &TestServer, account: &str, event_type: &str, level: &str, resource_id: &str) {
    events::record(
        server.state(),
        NewEvent {
            account,
            event_type,
            level,
            resource_type: "image_tag",
            resource_id,
            message: format!("{event_type} for {resource_id}"),
            details: json!({"n": resource_id}),
        },
    )
    .await;
}

/// Waits for the clock to pass `time` (event times have microseconds) and returns the new time.
async fn later_than(time: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    loop {
        let now = chrono::Utc::now();
        if now.timestamp_micros() > time.timestamp_micros() {
            return now;
        }
        tokio::task::yield_now().await;
    }
}

fn ids(list: &Value) -> Vec<String> {
    list["results"].as_array().unwrap().iter().map(|e| e["generated_uuid"].as_str().unwrap().to_owned()).collect()
}

fn types(list: &Value) -> Vec<String> {
    list["results"].as_array().unwrap().iter().map(|e| e["event"]["type"].as_str().unwrap().to_owned()).collect()
}

async fn event_routes(engine: Engine) {
    let server = TestServer::start(engine).await;
    server.add_account("team", "teamuser", "team-password").await;
    let team = |method, path: &str| server.as_user("teamuser", "team-password", method, path);
    record(&server, "admin", "user.image.analysis.completed", "info", "reg/app:1").await;
    record(&server, "admin", "user.image.analysis.failed", "error", "reg/app:2").await;
    // A time strictly after the events so far and strictly before the next ones.
    let middle = later_than(chrono::Utc::now()).await;
    later_than(middle).await;
    record(&server, "admin", "user.repo.tag.removed", "info", "reg/app:3").await;
    record(&server, "admin", "system.feeds.sync.completed", "info", "vulnerabilities").await;
    record(&server, "team", "user.image.analysis.completed", "info", "reg/theirs:1").await;

    // Newest first, with Anchore's shape.
    let (status, all) = send(server.admin(Method::GET, "/events")).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        (all["item_count"].as_u64(), all["next_page"].as_bool(), all["page"].as_u64()),
        (Some(4), Some(false), Some(1))
    );
    assert_eq!(
        types(&all),
        [
            "system.feeds.sync.completed",
            "user.repo.tag.removed",
            "user.image.analysis.failed",
            "user.image.analysis.completed"
        ]
    );
    let first = &all["results"][3];
    assert_eq!(first["event"]["category"], "user.image.analysis");
    assert_eq!(first["event"]["resource"], json!({"user_id": "admin", "id": "reg/app:1", "type": "image_tag"}));
    assert_eq!(first["event"]["details"], json!({"n": "reg/app:1"}));
    assert_eq!(first["event"]["source"]["servicename"], "portcullis");
    assert!(first["event"]["source"]["hostid"].as_str().is_some_and(|h| !h.is_empty()));
    assert_eq!(first["created_at"], first["event"]["timestamp"]);

    // Filters.
    let query = |q: &str| server.admin(Method::GET, &format!("/events?{q}"));
    let (_, errors) = send(query("level=error")).await;
    assert_eq!(types(&errors), ["user.image.analysis.failed"]);
    let (_, category) = send(query("event_type=user.image")).await;
    assert_eq!(category["item_count"], 2);
    let (_, wildcard) = send(query("event_type=system.*")).await;
    assert_eq!(types(&wildcard), ["system.feeds.sync.completed"]);
    let (_, exact) = send(query("event_type=user.repo.tag.removed")).await;
    assert_eq!(exact["item_count"], 1);
    let (_, no_prefix_match) = send(query("event_type=user.im")).await;
    assert_eq!(no_prefix_match["item_count"], 0, "a category is whole components");
    let (_, resource) = send(query("resource_id=reg/app:2&resource_type=image_tag")).await;
    assert_eq!(types(&resource), ["user.image.analysis.failed"]);
    let stamp = middle.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let encoded = stamp.replace('+', "%2B");
    let (_, since) = send(query(&format!("since={encoded}"))).await;
    assert_eq!(since["item_count"], 2, "{since}");
    let (_, before) = send(query(&format!("before={encoded}"))).await;
    assert_eq!(types(&before), ["user.image.analysis.failed", "user.image.analysis.completed"]);
    let (_, other_service) = send(query("source_servicename=catalog")).await;
    assert_eq!(other_service["item_count"], 0);
    let (_, ours) = send(query("source_servicename=portcullis")).await;
    assert_eq!(ours["item_count"], 4);
    for bad in ["level=warning", "since=yesterday", "before=2024-13-45", "page=x", "limit=-1"] {
        let (status, error) = send(query(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {error}");
    }

    // Pages.
    let (_, page1) = send(query("limit=3")).await;
    assert_eq!((page1["item_count"].as_u64(), page1["next_page"].as_bool()), (Some(3), Some(true)));
    let (_, page2) = send(query("limit=3&page=2")).await;
    assert_eq!(
        (page2["item_count"].as_u64(), page2["next_page"].as_bool(), page2["page"].as_u64()),
        (Some(1), Some(false), Some(2))
    );
    assert_eq!([ids(&page1), ids(&page2)].concat(), ids(&all));

    // One event; another account's is not found.
    let id = ids(&all)[0].clone();
    let (status, one) = send(server.admin(Method::GET, &format!("/events/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, all["results"][0]);
    let (_, theirs) = send(team(Method::GET, "/events")).await;
    assert_eq!(theirs["item_count"], 1);
    let their_id = ids(&theirs)[0].clone();
    for (method, path) in [(Method::GET, format!("/events/{id}")), (Method::DELETE, format!("/events/{id}"))] {
        let (status, _) = send(team(method.clone(), &path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    let (status, _) = send(server.admin(Method::GET, &format!("/events/{their_id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, as_team) = send(server.admin(Method::GET, "/events").header("x-anchore-account", "team")).await;
    assert_eq!(ids(&as_team), std::slice::from_ref(&their_id));
    let (status, _) = send(server.client.get(server.url("/events"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Deletion: one, then by level (returns the ids), leaving the other account's.
    let (status, _) = send(server.admin(Method::DELETE, &format!("/events/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(server.admin(Method::DELETE, &format!("/events/{id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, deleted) = send(server.admin(Method::DELETE, "/events?level=error")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted.as_array().unwrap().len(), 1);
    let (_, left) = send(server.admin(Method::GET, "/events")).await;
    assert_eq!(types(&left), ["user.repo.tag.removed", "user.image.analysis.completed"]);
    let (status, _) = send(server.admin(Method::DELETE, "/events?since=nonsense")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The type catalog.
    let (status, catalog) = send(server.admin(Method::GET, "/event_types")).await;
    assert_eq!(status, StatusCode::OK);
    let user = catalog.as_array().unwrap().iter().find(|c| c["category"] == "user").unwrap();
    let all_types: Vec<&str> = user["subcategories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()))
        .collect();
    assert!(all_types.contains(&"user.repo.tag.removed") && all_types.contains(&"user.notification.dead_lettered"));

    // anchore-cli: list, get, delete by time, delete all.
    let cli = AnchoreCli::new(&server.base, "admin", ADMIN_PASSWORD);
    let listed = cli.run(&["event", "list"]);
    assert_eq!(listed.code, Some(0), "{listed:?}");
    assert!(listed.stdout.contains("user.repo.tag.removed") && listed.stdout.contains("reg/app:3"), "{listed:?}");
    let listed = cli.run_json(&["event", "list", "--all", "--event_type", "user.image.*"]);
    assert_eq!(listed["results"][0]["event"]["type"], "user.image.analysis.completed", "{listed}");
    let remaining = ids(&left);
    let got = cli.run(&["event", "get", &remaining[0]]);
    assert_eq!(got.code, Some(0), "{got:?}");
    assert!(got.stdout.contains("type: user.repo.tag.removed"), "{got:?}");
    let output = cli.run(&["event", "delete", "--before", &stamp]);
    assert_eq!(output.code, Some(0), "{output:?}");
    assert!(output.stdout.contains("Deleted 1 events"), "{output:?}");
    let output = cli.run(&["event", "delete", "--all", "--dontask"]);
    assert_eq!(output.code, Some(0), "{output:?}");
    let (_, empty) = send(server.admin(Method::GET, "/events")).await;
    assert_eq!(empty["item_count"], 0);
    let (_, theirs) = send(team(Method::GET, "/events")).await;
    assert_eq!(theirs["item_count"], 1, "another account's events survive");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn event_routes_on_sqlite() {
    event_routes(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn event_routes_on_postgres() {
    event_routes(Engine::Postgres).await;
}
