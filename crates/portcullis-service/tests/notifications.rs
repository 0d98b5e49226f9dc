//! Webhook notifications against a real HTTP receiver: Anchore's payload,
//! basic auth, the HMAC signature, retries with backoff, dead letters and
//! their replay, type-specific routing, the test route, and
//! `analysis_update` on analysis completion.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::images::send;
use common::watch::{Receiver, eventually};
use common::{ADMIN_PASSWORD, Engine, TestServer};
use portcullis_api::{AnalysisStatus, SubscriptionType};
use portcullis_service::config::{ServiceConfig, WebhookEndpoint};
use portcullis_service::notifications;
use portcullis_testkit::anchore_cli::AnchoreCli;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const HOOK_USER: &str = "hook";
const HOOK_PASS: &str = "hook-pass";
const SECRET: &str = "s3cret";
const TAG: &str = "docker.io/library/alpine:3.19";

/// Webhooks to `receiver` (`general` only unless `typed`), credentials and a
/// signing secret; notifications delivered every second, the other watchers
/// only when triggered.
fn configure(config: &mut ServiceConfig, receiver: &Receiver, typed: &[&str]) {
    config.cycle_timers.notifications = 1;
    config.cycle_timers.image_watcher = 3600;
    config.cycle_timers.repo_watcher = 3600;
    config.cycle_timers.policy_eval = 3600;
    config.cycle_timers.vulnerability_scan = 3600;
    config.webhooks.webhook_user = Some(HOOK_USER.into());
    config.webhooks.webhook_pass = Some(HOOK_PASS.into());
    config.webhooks.hmac_secret = Some(SECRET.into());
    config.webhooks.endpoints.insert(
        "general".into(),
        WebhookEndpoint { url: format!("{}/general/<userId>/<notification_type>", receiver.url), ..Default::default() },
    );
    for kind in typed {
        config.webhooks.endpoints.insert(
            (*kind).to_owned(),
            WebhookEndpoint { url: format!("{}/typed/{kind}", receiver.url), ..Default::default() },
        );
    }
}

async fn subscribe(server: &TestServer, kind: &str, key: &str) -> String {
    let (status, body) = send(
        server
            .admin(Method::POST, "/subscriptions")
            .json(&json!({"subscription_type": kind, "subscription_key": key, "active": true})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body[0]["subscription_id"].as_str().unwrap().to_owned()
}

fn tag_update_payload() -> Value {
    json!({"last_eval": [], "curr_eval": [format!("sha256:{}", "a".repeat(64))], "annotations": {"team": "web"}})
}

fn verify_signature(body: &[u8], header: &str) {
    let hex = header.strip_prefix("sha256=").unwrap_or_else(|| panic!("signature header {header:?}"));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET.as_bytes());
    aws_lc_rs::hmac::verify(&key, body, &hex::decode(hex).unwrap()).expect("the HMAC matches the body");
}

async fn retries_with_backoff(engine: Engine) {
    let receiver = Receiver::start().await;
    let server = TestServer::start_with(engine, |c| configure(c, &receiver, &[])).await;
    subscribe(&server, "tag_update", TAG).await;
    receiver.fail_next(2);
    let id = notifications::notify(server.state(), "admin", SubscriptionType::TagUpdate, TAG, tag_update_payload())
        .await
        .unwrap()
        .expect("queued");

    // Still pending (the receiver fails twice first): a replay is refused.
    let (status, body) = send(server.admin(Method::POST, &format!("/system/notifications/{id}/retry"))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let deliveries = receiver.wait_for(3, |d| d.path == "/general/admin/tag_update").await;
    assert_eq!(deliveries.iter().map(|d| d.status).collect::<Vec<_>>(), [500, 500, 200]);
    // Backoff: 5 s after the first failure, 10 s after the second (lower bounds only).
    assert!(deliveries[1].at - deliveries[0].at >= Duration::from_secs(5), "{:?}", deliveries[1].at - deliveries[0].at);
    assert!(deliveries[2].at - deliveries[1].at >= Duration::from_secs(10));

    let expected_auth =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{HOOK_USER}:{HOOK_PASS}")));
    for (attempt, delivery) in deliveries.iter().enumerate() {
        assert_eq!(delivery.header("authorization"), Some(expected_auth.as_str()));
        assert_eq!(delivery.header("content-type"), Some("application/json"));
        assert_eq!(delivery.header("x-portcullis-delivery"), Some(id.as_str()));
        verify_signature(&delivery.body, delivery.header("x-portcullis-signature").expect("signed"));
        let body = delivery.json();
        assert_eq!(body["tries"], attempt + 1, "{body}");
    }
    // Anchore's queue record around the notification.
    let body = deliveries[2].json();
    assert_eq!(body["queueId"], "tag_update");
    assert_eq!(body["userId"], "admin");
    assert_eq!(body["dataId"], id.as_str());
    assert!(body["created_at"].is_i64() && body["max_tries"].is_i64(), "{body}");
    let data = &body["data"];
    assert_eq!(
        (data["notification_user"].as_str(), data["notification_type"].as_str()),
        (Some("admin"), Some("tag_update"))
    );
    assert!(data.get("notification_user_email").is_some(), "{body}");
    let payload = &data["notification_payload"];
    assert_eq!(payload["subscription_key"], TAG);
    assert_eq!(payload["subscription_type"], "tag_update");
    assert_eq!(payload["userId"], "admin");
    assert_eq!(payload["notificationId"], id.as_str());
    assert_eq!(payload["curr_eval"], tag_update_payload()["curr_eval"]);
    assert_eq!(payload["annotations"]["team"], "web");

    let record = eventually("the delivered record", || async {
        let (_, list) = send(server.admin(Method::GET, "/system/notifications?state=delivered")).await;
        list.as_array().unwrap().iter().find(|n| n["id"] == id.as_str()).cloned()
    })
    .await;
    assert_eq!((record["attempts"].as_u64(), record["last_status"].as_u64()), (Some(3), Some(200)), "{record}");
    assert_eq!(record["userId"], "admin");

    // No delivery for an inactive subscription.
    let other = "docker.io/library/busybox:1";
    let (_, created) = send(
        server
            .admin(Method::POST, "/subscriptions")
            .json(&json!({"subscription_type": "tag_update", "subscription_key": other, "active": false})),
    )
    .await;
    assert_eq!(created[0]["active"], false);
    let skipped =
        notifications::notify(server.state(), "admin", SubscriptionType::TagUpdate, other, json!({})).await.unwrap();
    assert_eq!(skipped, None);
    let error = notifications::notify(server.state(), "admin", SubscriptionType::TagUpdate, TAG, json!([1])).await;
    assert!(error.unwrap_err().to_string().contains("must be a JSON object"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_with_backoff_on_sqlite() {
    retries_with_backoff(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn retries_with_backoff_on_postgres() {
    retries_with_backoff(Engine::Postgres).await;
}

async fn dead_letters_and_replay(engine: Engine) {
    let receiver = Receiver::start().await;
    let server = TestServer::start_with(engine, |c| {
        configure(c, &receiver, &[]);
        c.webhooks.notification_retry_timeout = Some(3);
    })
    .await;
    server.add_account("team", "teamuser", "team-password").await;
    subscribe(&server, "policy_eval", TAG).await;
    receiver.fail_always(true);
    let id =
        notifications::notify(server.state(), "admin", SubscriptionType::PolicyEval, TAG, json!({"last_eval": {}}))
            .await
            .unwrap()
            .expect("queued");
    let dead = eventually("the dead letter", || async {
        let (status, list) = send(server.admin(Method::GET, "/system/notifications?state=dead")).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        list.as_array().unwrap().iter().find(|n| n["id"] == id.as_str()).cloned()
    })
    .await;
    // First attempt, then one at the end of the 3 s window (5 s backoff is capped by it).
    assert_eq!(dead["attempts"], 2, "{dead}");
    assert_eq!(dead["last_status"], 500);
    assert!(dead["last_error"].as_str().unwrap().contains("500"), "{dead}");
    assert_eq!(dead["notification_type"], "policy_eval");
    assert_eq!(receiver.deliveries().len(), 2);
    let (_, events) = send(server.admin(Method::GET, "/events?event_type=user.notification.dead_lettered")).await;
    assert_eq!(events["results"][0]["event"]["resource"]["id"], id.as_str(), "{events}");
    assert_eq!(events["results"][0]["event"]["level"], "error");

    // Admin only.
    let team = |method, path: &str| server.as_user("teamuser", "team-password", method, path);
    for (method, path) in [
        (Method::GET, "/system/notifications".to_owned()),
        (Method::GET, format!("/system/notifications/{id}")),
        (Method::POST, format!("/system/notifications/{id}/retry")),
    ] {
        let (status, _) = send(team(method.clone(), &path)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
        let (status, _) = send(server.client.request(method.clone(), server.url(&path))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let (status, _) = send(server.admin(Method::GET, "/system/notifications?state=lost")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(server.admin(Method::GET, "/system/notifications/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.admin(Method::POST, "/system/notifications/nope/retry")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Replay once the receiver is back.
    receiver.fail_always(false);
    let (status, replayed) = send(server.admin(Method::POST, &format!("/system/notifications/{id}/retry"))).await;
    assert_eq!(status, StatusCode::OK, "{replayed}");
    assert_eq!(replayed["state"], "pending");
    let delivered = receiver.wait_for(1, |d| d.status == 200).await;
    assert_eq!(delivered[0].json()["dataId"], id.as_str());
    let record = eventually("the replayed record", || async {
        let (_, record) = send(server.admin(Method::GET, &format!("/system/notifications/{id}"))).await;
        (record["state"] == "delivered").then_some(record)
    })
    .await;
    assert_eq!(record["attempts"], 3, "{record}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dead_letters_and_replay_on_sqlite() {
    dead_letters_and_replay(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dead_letters_and_replay_on_postgres() {
    dead_letters_and_replay(Engine::Postgres).await;
}

/// A type with its own URL goes there only; the others go to `general`.
async fn routing_and_test_route(engine: Engine) {
    let receiver = Receiver::start().await;
    let server = TestServer::start_with(engine, |c| configure(c, &receiver, &["tag_update"])).await;
    server.add_account("team", "teamuser", "team-password").await;
    subscribe(&server, "tag_update", TAG).await;
    subscribe(&server, "vuln_update", TAG).await;
    notifications::notify(server.state(), "admin", SubscriptionType::TagUpdate, TAG, tag_update_payload())
        .await
        .unwrap()
        .expect("queued");
    notifications::notify(server.state(), "admin", SubscriptionType::VulnUpdate, TAG, json!({"imageDigest": "x"}))
        .await
        .unwrap()
        .expect("queued");
    let deliveries = receiver.wait_for(2, |_| true).await;
    let mut paths: Vec<&str> = deliveries.iter().map(|d| d.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/general/admin/vuln_update", "/typed/tag_update"]);

    // The test route sends now, to the named endpoint.
    let (status, result) =
        send(server.admin(Method::POST, "/system/webhooks/general/test?notification_type=policy_eval")).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!((result["delivered"].as_bool(), result["status_code"].as_u64()), (Some(true), Some(200)), "{result}");
    let test = receiver.wait_for(1, |d| d.path == "/general/admin/policy_eval").await;
    let body = test[0].json();
    assert_eq!(body["data"]["notification_type"], "policy_eval");
    assert_eq!(body["data"]["notification_payload"]["test"], true);
    assert_eq!(body["data"]["notification_payload"]["curr_eval"]["final_action"], "stop");
    verify_signature(&test[0].body, test[0].header("x-portcullis-signature").unwrap());

    let (status, error) = send(server.admin(Method::POST, "/system/webhooks/policy_eval/test")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(error["message"].as_str().unwrap().contains("No Webhook Configuration found for type=policy_eval"));
    let (status, _) =
        send(server.admin(Method::POST, "/system/webhooks/general/test?notification_type=repo_update")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) =
        send(server.as_user("teamuser", "team-password", Method::POST, "/system/webhooks/general/test")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(server.client.post(server.url("/system/webhooks/general/test"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    receiver.fail_always(true);
    let (status, error) = send(server.admin(Method::POST, "/system/webhooks/tag_update/test")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{error}");
    assert_eq!(error["detail"]["status_code"], 500, "{error}");
    receiver.fail_always(false);

    // anchore-cli's `system webhook test`.
    let cli = AnchoreCli::new(&server.base, "admin", ADMIN_PASSWORD);
    let output = cli.run(&["system", "webhook", "test", "general", "--ntype", "analysis_update"]);
    assert_eq!(output.code, Some(0), "{output:?}");
    assert!(output.stdout.contains("Success"), "{output:?}");
    receiver.wait_for(1, |d| d.path == "/general/admin/analysis_update").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_and_test_route_on_sqlite() {
    routing_and_test_route(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn routing_and_test_route_on_postgres() {
    routing_and_test_route(Engine::Postgres).await;
}

/// `analysis_update` goes out once per tag of an analysed image with an
/// active subscription; a failed analysis sends nothing.
async fn analysis_update(engine: Engine) {
    let receiver = Receiver::start().await;
    let server = TestServer::start_with(engine, |c| configure(c, &receiver, &[])).await;
    let state = server.state().clone();
    let digest = format!("sha256:{}", "b".repeat(64));
    let now = portcullis_sql::now_rfc3339();
    sqlx::query(
        "INSERT INTO images (account, digest, analysis_status, image_status, annotations, pull_reference, created_at,
                             created_seq, last_updated, record_version)
         VALUES ('admin', $1, 'analyzed', 'active', '{\"team\":\"web\"}', 'docker.io/library/alpine@x', $2, 0, $2, 1)",
    )
    .bind(&digest)
    .bind(&now)
    .execute(state.db.pool())
    .await
    .unwrap();
    for tag in ["3.19", "latest"] {
        sqlx::query(
            "INSERT INTO image_tags (account, digest, registry, repository, tag, tag_detected_at, detected_seq)
             VALUES ('admin', $1, 'docker.io', 'library/alpine', $2, $3, 0)",
        )
        .bind(&digest)
        .bind(tag)
        .bind(&now)
        .execute(state.db.pool())
        .await
        .unwrap();
    }
    // What adding the image creates: analysis_update active for both tags; then one is switched off.
    for tag in ["docker.io/library/alpine:3.19", "docker.io/library/alpine:latest"] {
        portcullis_service::subscriptions::create_tag_subscriptions(&state, "admin", tag, false).await.unwrap();
    }
    let (_, latest) = send(server.admin(
        Method::GET,
        "/subscriptions?subscription_type=analysis_update&subscription_key=docker.io/library/alpine:latest",
    ))
    .await;
    let id = latest[0]["subscription_id"].as_str().unwrap();
    let (status, _) =
        send(server.admin(Method::PUT, &format!("/subscriptions/{id}")).json(&json!({"active": false}))).await;
    assert_eq!(status, StatusCode::OK);

    portcullis_service::watchers::on_analysis_complete(&state, "admin", &digest, AnalysisStatus::AnalysisFailed)
        .await
        .unwrap();
    portcullis_service::watchers::on_analysis_complete(&state, "admin", &digest, AnalysisStatus::Analyzed)
        .await
        .unwrap();
    let deliveries = receiver.wait_for(1, |_| true).await;
    let payload = &deliveries[0].json()["data"]["notification_payload"];
    assert_eq!(payload["subscription_key"], "docker.io/library/alpine:3.19");
    assert_eq!(payload["curr_eval"]["analysis_status"], "analyzed");
    assert_eq!(payload["last_eval"]["analysis_status"], "analyzing");
    assert_eq!(payload["curr_eval"]["imageDigest"], digest.as_str());
    assert_eq!(payload["annotations"]["team"], "web");
    // Exactly one was queued: nothing for the failure nor for the inactive tag.
    let (_, all) = send(server.admin(Method::GET, "/system/notifications")).await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn analysis_update_on_sqlite() {
    analysis_update(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn analysis_update_on_postgres() {
    analysis_update(Engine::Postgres).await;
}

/// `event_log.notification`: recorded events of the chosen levels go to the
/// `event_log` webhook as Anchore's `event_log` notifications, each with the
/// event as `GET /events/{id}` shows it; other levels, and events about
/// notifications themselves, are not forwarded.
async fn event_log_forwarding(engine: Engine) {
    use portcullis_service::events::{NewEvent, record};
    let receiver = Receiver::start().await;
    let server = TestServer::start_with(engine, |c| {
        configure(c, &receiver, &["event_log"]);
        c.event_log.notification.enabled = true;
        c.event_log.notification.level = vec!["error".into()];
    })
    .await;
    let event = |event_type, level, resource_type| NewEvent {
        account: "admin",
        event_type,
        level,
        resource_type,
        resource_id: "sha256:abc",
        message: format!("{event_type} happened"),
        details: json!({"why": "a test"}),
    };
    record(server.state(), event("user.image.analysis.completed", "info", "image_digest")).await;
    record(server.state(), event("user.image.analysis.failed", "error", "image_digest")).await;
    record(server.state(), event("user.notification.dead_lettered", "error", "notification")).await;

    let (_, queued) = send(server.admin(Method::GET, "/system/notifications")).await;
    let queued = queued.as_array().unwrap();
    assert_eq!(queued.len(), 1, "only the image's error event: {queued:?}");
    assert_eq!(queued[0]["notification_type"], "event_log");
    let delivered = receiver.wait_for(1, |d| d.status == 200).await;
    assert_eq!(delivered[0].path, "/typed/event_log");
    verify_signature(&delivered[0].body, delivered[0].header("X-Portcullis-Signature").unwrap());
    let body = delivered[0].json();
    assert_eq!(body["data"]["notification_type"], "event_log", "{body}");
    let payload = &body["data"]["notification_payload"];
    assert_eq!(payload["subscription_type"], "event_log", "{body}");
    assert_eq!(payload["subscription_key"], "user.image.analysis.failed");
    assert_eq!(payload["userId"], "admin");
    // The event as the events route shows it.
    let (_, events) = send(server.admin(Method::GET, "/events?event_type=user.image.analysis.failed")).await;
    let stored = &events["results"][0];
    assert_eq!(payload["generated_uuid"], stored["generated_uuid"], "{events}");
    assert_eq!(payload["created_at"], stored["created_at"]);
    assert_eq!(payload["event"], stored["event"]);
    assert_eq!(payload["event"]["details"], json!({"why": "a test"}));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn event_log_forwarding_on_sqlite() {
    event_log_forwarding(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn event_log_forwarding_on_postgres() {
    event_log_forwarding(Engine::Postgres).await;
}

/// Without a webhook for a type (nor `general`) nothing is queued.
#[tokio::test]
async fn nothing_is_queued_without_a_webhook() {
    let server = TestServer::start(Engine::Sqlite).await;
    subscribe(&server, "tag_update", TAG).await;
    let queued = notifications::notify(server.state(), "admin", SubscriptionType::TagUpdate, TAG, tag_update_payload())
        .await
        .unwrap();
    assert_eq!(queued, None);
    let (status, _) = send(server.admin(Method::POST, "/system/webhooks/general/test")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    server.stop().await;
}
