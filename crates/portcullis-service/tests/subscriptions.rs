//! Subscriptions (`/subscriptions`), repository watches (`/repositories`)
//! and the tag and repository watchers, against a real registry, a real
//! webhook receiver, and the real anchore-cli.

mod common;

use std::sync::Arc;

use common::images::send;
use common::watch::Receiver;
use common::{ADMIN_PASSWORD, Engine, TestServer};
use portcullis_api::ImageAnalysisRequest;
use portcullis_service::config::{ServiceConfig, WebhookEndpoint};
use portcullis_service::{images, subscriptions, watchers};
use portcullis_testkit::anchore_cli::AnchoreCli;
use portcullis_testkit::{Image, Layer, OciLayout, PushOptions, RegistryAuth, TestRegistry, push_oci_layout};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const TAG: &str = "docker.io/library/alpine:3.19";

fn team(server: &TestServer, method: Method, path: &str) -> reqwest::RequestBuilder {
    server.as_user("teamuser", "team-password", method, path)
}

async fn subscription_routes(engine: Engine) {
    let server = TestServer::start(engine).await;
    server.add_account("team", "teamuser", "team-password").await;

    let (status, created) = send(
        server
            .admin(Method::POST, "/subscriptions")
            .json(&json!({"subscription_type": "tag_update", "subscription_key": TAG})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let record = &created[0];
    assert_eq!(record["subscription_type"], "tag_update");
    assert_eq!(record["subscription_key"], TAG);
    assert_eq!((record["userId"].as_str(), record["active"].as_bool()), (Some("admin"), Some(true)));
    assert!(record.get("subscription_value").is_some(), "{record}");
    let id = record["subscription_id"].as_str().unwrap().to_owned();

    // One per key and type.
    let (status, error) = send(
        server
            .admin(Method::POST, "/subscriptions")
            .json(&json!({"subscription_type": "tag_update", "subscription_key": TAG})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert_eq!(error["httpcode"], 409);
    // The same key with another type is another subscription; anchore-cli sends no content type.
    let (status, _) = send(
        server
            .admin(Method::POST, "/subscriptions")
            .body(json!({"subscription_type": "policy_eval", "subscription_key": TAG, "active": false}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for bad in [
        json!({"subscription_type": "tag_watch", "subscription_key": TAG}),
        json!({"subscription_type": "tag_update", "subscription_key": "docker.io/library/alpine"}),
        json!({"subscription_type": "repo_update", "subscription_key": TAG}),
        json!({"subscription_type": "tag_update"}),
    ] {
        let (status, error) = send(server.admin(Method::POST, "/subscriptions").json(&bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {error}");
    }
    let (status, _) = send(server.admin(Method::POST, "/subscriptions").body("{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Filters.
    let (_, all) = send(server.admin(Method::GET, "/subscriptions")).await;
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let (_, only) =
        send(server.admin(Method::GET, &format!("/subscriptions?subscription_key={TAG}&subscription_type=tag_update")))
            .await;
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["subscription_id"], id.as_str());
    let (_, none) = send(server.admin(Method::GET, "/subscriptions?subscription_key=docker.io/library/nginx:1")).await;
    assert_eq!(none, json!([]));
    let (status, _) = send(server.admin(Method::GET, "/subscriptions?subscription_type=bogus")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Get, update (anchore-cli's deactivate body), get again.
    let (status, got) = send(server.admin(Method::GET, &format!("/subscriptions/{id}"))).await;
    assert_eq!((status, got[0]["subscription_id"].as_str()), (StatusCode::OK, Some(id.as_str())));
    let (status, updated) = send(
        server
            .admin(Method::PUT, &format!("/subscriptions/{id}"))
            .body(json!({"active": false, "subscription_key": TAG, "subscription_type": "tag_update"}).to_string()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated[0]["active"], false);
    let (status, _) = send(
        server
            .admin(Method::PUT, &format!("/subscriptions/{id}"))
            .json(&json!({"active": true, "subscription_type": "vuln_update"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, updated) = send(
        server.admin(Method::PUT, &format!("/subscriptions/{id}")).json(&json!({"subscription_value": "{\"x\":1}"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (updated[0]["subscription_value"].as_str(), updated[0]["active"].as_bool()),
        (Some("{\"x\":1}"), Some(false))
    );

    // Another account sees none of it, and cannot touch it.
    let (status, theirs) = send(team(&server, Method::GET, "/subscriptions")).await;
    assert_eq!((status, theirs), (StatusCode::OK, json!([])));
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let (status, _) =
            send(team(&server, method.clone(), &format!("/subscriptions/{id}")).json(&json!({"active": true}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method}");
    }
    // Its own subscription of the same key and type is no conflict; an admin sees it when acting for the account.
    let (status, _) = send(
        team(&server, Method::POST, "/subscriptions")
            .json(&json!({"subscription_type": "tag_update", "subscription_key": TAG})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, as_team) = send(server.admin(Method::GET, "/subscriptions").header("x-anchore-account", "team")).await;
    assert_eq!(as_team.as_array().unwrap().len(), 1);
    assert_eq!(as_team[0]["userId"], "team");
    let (status, _) = send(team(&server, Method::GET, "/subscriptions").header("x-anchore-account", "admin")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(server.client.get(server.url("/subscriptions"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Delete.
    let (status, _) = send(server.admin(Method::DELETE, &format!("/subscriptions/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    for method in [Method::GET, Method::DELETE] {
        let (status, error) = send(server.admin(method, &format!("/subscriptions/{id}"))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    }
    let (_, theirs) = send(team(&server, Method::GET, "/subscriptions")).await;
    assert_eq!(theirs.as_array().unwrap().len(), 1, "the other account's subscription stays");

    // What adding an image creates: analysis_update on, tag_update only with autosubscribe.
    let state = server.state().clone();
    let tag = "docker.io/library/nginx:1.25";
    subscriptions::create_tag_subscriptions(&state, "admin", tag, false).await.unwrap();
    let active = |list: &Value, kind: &str| {
        list.as_array().unwrap().iter().find(|s| s["subscription_type"] == kind).map(|s| s["active"].as_bool().unwrap())
    };
    let (_, created) = send(server.admin(Method::GET, &format!("/subscriptions?subscription_key={tag}"))).await;
    assert_eq!(created.as_array().unwrap().len(), 4, "{created}");
    assert_eq!(active(&created, "analysis_update"), Some(true));
    assert_eq!(active(&created, "tag_update"), Some(false));
    assert_eq!(active(&created, "policy_eval"), Some(false));
    assert_eq!(active(&created, "vuln_update"), Some(false));
    // Adding again with autosubscribe switches tag_update on and duplicates nothing.
    subscriptions::create_tag_subscriptions(&state, "admin", tag, true).await.unwrap();
    let (_, again) = send(server.admin(Method::GET, &format!("/subscriptions?subscription_key={tag}"))).await;
    assert_eq!(again.as_array().unwrap().len(), 4);
    assert_eq!(active(&again, "tag_update"), Some(true));

    // anchore-cli: list, deactivate, activate (by type and key).
    let cli = AnchoreCli::new(&server.base, "admin", ADMIN_PASSWORD);
    let listed = cli.run(&["subscription", "list"]);
    assert_eq!(listed.code, Some(0), "{listed:?}");
    assert!(listed.stdout.contains(tag) && listed.stdout.contains("analysis_update"), "{listed:?}");
    let output = cli.run(&["subscription", "deactivate", "analysis_update", tag]);
    assert_eq!(output.code, Some(0), "{output:?}");
    assert!(
        !subscriptions::is_active(&state, "admin", portcullis_api::SubscriptionType::AnalysisUpdate, tag)
            .await
            .unwrap()
    );
    let output = cli.run(&["subscription", "activate", "vuln_update", tag]);
    assert_eq!(output.code, Some(0), "{output:?}");
    let listed = cli.run_json(&["subscription", "list"]);
    let vuln = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subscription_key"] == tag && s["subscription_type"] == "vuln_update")
        .unwrap();
    assert_eq!(vuln["active"], true);
    let output = cli.run(&["subscription", "activate", "vuln_update", "docker.io/library/none:1"]);
    assert_eq!(output.code, Some(2), "{output:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscription_routes_on_sqlite() {
    subscription_routes(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscription_routes_on_postgres() {
    subscription_routes(Engine::Postgres).await;
}

/// Builds a one-layer image whose content is `marker` and pushes it to `registry` as `dest`.
async fn push(registry: &Arc<TestRegistry>, dest: &str, marker: &str) -> String {
    let (registry, dest, marker) = (registry.clone(), dest.to_owned(), marker.to_owned());
    tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        let mut layout = OciLayout::create(dir.path());
        let image = Image::new().layer(Layer::gzip().file("etc/marker", marker.as_bytes(), 0o644));
        layout.add_image("latest", &image);
        push_oci_layout(layout.path(), "latest", &registry, &dest, PushOptions::default())
    })
    .await
    .unwrap()
}

async fn start_registry() -> Arc<TestRegistry> {
    Arc::new(tokio::task::spawn_blocking(|| TestRegistry::start(RegistryAuth::None)).await.unwrap())
}

/// The registry reached over plain HTTP, webhooks to `receiver`, the watchers
/// run only at start and when triggered (notifications every second).
fn configure(config: &mut ServiceConfig, registry: &TestRegistry, receiver: &Receiver) {
    config.analyzer.insecure_registries = vec![registry.host()];
    config.cycle_timers.notifications = 1;
    config.cycle_timers.image_watcher = 3600;
    config.cycle_timers.repo_watcher = 3600;
    config.cycle_timers.policy_eval = 3600;
    config.cycle_timers.vulnerability_scan = 3600;
    config.webhooks.endpoints.insert(
        "general".into(),
        WebhookEndpoint { url: format!("{}/<userId>/<notification_type>", receiver.url), ..Default::default() },
    );
}

async fn repositories_and_watchers(engine: Engine) {
    let registry = start_registry().await;
    let receiver = Receiver::start().await;
    push(&registry, "team/app:1.0", "one").await;
    push(&registry, "team/app:2.0", "two").await;
    let server = TestServer::start_with(engine, |c| configure(c, &registry, &receiver)).await;
    server.add_account("team", "teamuser", "team-password").await;
    let state = server.state().clone();
    let repo = format!("{}/team/app", registry.host());
    let tag = |t: &str| format!("{repo}:{t}");

    // Dry run: the tags are counted, nothing is stored.
    let (status, dry) = send(server.admin(Method::POST, &format!("/repositories?repository={repo}&dryrun=True"))).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    let value: Value = serde_json::from_str(dry[0]["subscription_value"].as_str().unwrap()).unwrap();
    assert_eq!((value["tagcount"].as_u64(), value["repotags"].clone()), (Some(2), json!(["1.0", "2.0"])));
    let (_, none) = send(server.admin(Method::GET, "/subscriptions")).await;
    assert_eq!(none, json!([]));
    assert_eq!(images::latest_digest_for_tag(&state, "admin", &tag("1.0")).await.unwrap(), None);

    // Watch it: an active repo_update subscription, an image and the tag subscriptions per tag.
    let (status, added) =
        send(server.admin(Method::POST, &format!("/repositories?repository={repo}&autosubscribe=true"))).await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(
        (added[0]["subscription_key"].as_str(), added[0]["active"].as_bool()),
        (Some(repo.as_str()), Some(true))
    );
    assert_eq!(added[0]["subscription_type"], "repo_update");
    let value: Value = serde_json::from_str(added[0]["subscription_value"].as_str().unwrap()).unwrap();
    assert_eq!(value["tagcount"], 2);
    assert_eq!((value["autosubscribe"].as_bool(), value["lookuptag"].as_str()), (Some(true), Some("latest")));
    let one = images::latest_digest_for_tag(&state, "admin", &tag("1.0")).await.unwrap().expect("1.0 added");
    let two = images::latest_digest_for_tag(&state, "admin", &tag("2.0")).await.unwrap().expect("2.0 added");
    assert_ne!(one, two);
    for t in ["1.0", "2.0"] {
        let (_, subs) = send(server.admin(Method::GET, &format!("/subscriptions?subscription_key={}", tag(t)))).await;
        assert_eq!(subs.as_array().unwrap().len(), 4, "{subs}");
        let tag_update = subs.as_array().unwrap().iter().find(|s| s["subscription_type"] == "tag_update").unwrap();
        assert_eq!(tag_update["active"], true, "autosubscribe");
    }
    // Not visible to another account; invalid and unknown repositories are refused.
    let (_, theirs) = send(team(&server, Method::GET, "/subscriptions?subscription_type=repo_update")).await;
    assert_eq!(theirs, json!([]));
    let (status, _) = send(server.admin(Method::POST, &format!("/repositories?repository={repo}:1.0"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(server.admin(Method::POST, "/repositories")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, error) =
        send(server.admin(Method::POST, &format!("/repositories?repository={}/team/missing", registry.host()))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    let (status, _) = send(server.client.post(server.url(&format!("/repositories?repository={repo}")))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The repository changes: a new tag, one tag gone. The watcher reconciles.
    push(&registry, "team/app:3.0", "three").await;
    std::fs::remove_dir_all(
        registry.storage_dir().join("docker/registry/v2/repositories/team/app/_manifests/tags/1.0"),
    )
    .unwrap();
    server.run_watcher(watchers::REPO_WATCHER).await;
    assert!(images::latest_digest_for_tag(&state, "admin", &tag("3.0")).await.unwrap().is_some(), "3.0 added");
    let (_, watched) = send(server.admin(Method::GET, "/subscriptions?subscription_type=repo_update")).await;
    let value: Value = serde_json::from_str(watched[0]["subscription_value"].as_str().unwrap()).unwrap();
    assert_eq!(value["repotags"], json!(["2.0", "3.0"]), "{value}");
    let (_, removed) = send(server.admin(Method::GET, "/events?event_type=user.repo.tag.removed")).await;
    assert_eq!(removed["results"][0]["event"]["resource"]["id"], tag("1.0").as_str(), "{removed}");

    // A watched tag moves to a new image: the image watcher adds it (with the
    // old image's annotations) and sends tag_update.
    let request = ImageAnalysisRequest {
        tag: Some(tag("2.0")),
        annotations: Some([("team".to_owned(), "web".to_owned())].into()),
        ..Default::default()
    };
    images::add_image(&state, "admin", &request, false).await.unwrap();
    push(&registry, "team/app:2.0", "two, rebuilt").await;
    server.run_watcher(watchers::IMAGE_WATCHER).await;
    let moved = images::latest_digest_for_tag(&state, "admin", &tag("2.0")).await.unwrap().unwrap();
    assert_ne!(moved, two);
    let delivered = receiver.wait_for(1, |d| d.path == "/admin/tag_update").await;
    let payload = &delivered[0].json()["data"]["notification_payload"];
    assert_eq!(payload["subscription_key"], tag("2.0").as_str());
    assert_eq!(payload["last_eval"], json!([two]));
    assert_eq!(payload["curr_eval"], json!([moved]));
    assert_eq!(payload["annotations"]["team"], "web");
    let image = images::get_image(&state, "admin", &moved).await.unwrap().unwrap();
    assert_eq!(image.annotations.get("team").map(String::as_str), Some("web"));
    // Unchanged tags send nothing more.
    server.run_watcher(watchers::IMAGE_WATCHER).await;
    let (_, events) = send(server.admin(Method::GET, "/events?event_type=user.image.tag.updated")).await;
    assert_eq!(events["item_count"], 1, "{events}");

    // anchore-cli: repo list / unwatch / watch / del / add.
    let cli = AnchoreCli::new(&server.base, "admin", ADMIN_PASSWORD);
    let listed = cli.run(&["repo", "list"]);
    assert_eq!(listed.code, Some(0), "{listed:?}");
    assert!(listed.stdout.contains(&repo), "{listed:?}");
    let output = cli.run(&["repo", "unwatch", &repo]);
    assert_eq!(output.code, Some(0), "{output:?}");
    let (_, watched) = send(server.admin(Method::GET, "/subscriptions?subscription_type=repo_update")).await;
    assert_eq!(watched[0]["active"], false);
    let output = cli.run(&["repo", "watch", &repo]);
    assert_eq!(output.code, Some(0), "{output:?}");
    let output = cli.run(&["repo", "del", &repo]);
    assert_eq!(output.code, Some(0), "{output:?}");
    let (_, watched) = send(server.admin(Method::GET, "/subscriptions?subscription_type=repo_update")).await;
    assert_eq!(watched, json!([]));
    let output = cli.run(&["repo", "add", &repo, "--noautosubscribe"]);
    assert_eq!(output.code, Some(0), "{output:?}");
    assert!(output.stdout.contains(&repo) && output.stdout.contains("True"), "{output:?}");
    let dry = cli.run(&["repo", "add", &format!("{}/team/other", registry.host()), "--dryrun"]);
    assert_ne!(dry.code, Some(0), "an unknown repository: {dry:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repositories_and_watchers_on_sqlite() {
    repositories_and_watchers(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repositories_and_watchers_on_postgres() {
    repositories_and_watchers(Engine::Postgres).await;
}

/// A v1 bundle whose one rule fires on every image with `action`.
fn always_bundle(id: &str, action: &str) -> Value {
    json!({
        "id": id, "name": id, "comment": format!("always {action}"), "version": "1_0",
        "policies": [{"id": "p1", "name": "always", "version": "1_0", "rules": [
            {"id": "r1", "gate": "always", "trigger": "always", "action": action, "params": []}]}],
        "whitelists": [],
        "mappings": [{"id": "m1", "name": "everything", "registry": "*", "repository": "*",
            "image": {"type": "tag", "value": "*"}, "policy_ids": ["p1"], "whitelist_ids": []}],
        "whitelisted_images": [], "blacklisted_images": []
    })
}

async fn activate_bundle(server: &TestServer, bundle: Value) {
    let id = bundle["id"].as_str().unwrap().to_owned();
    let (status, body) = send(server.admin(Method::POST, "/policies").json(&bundle)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        send(server.admin(Method::PUT, &format!("/policies/{id}")).json(&json!({"active": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn activate_subscription(server: &TestServer, kind: &str, key: &str) {
    let (_, found) =
        send(server.admin(Method::GET, &format!("/subscriptions?subscription_type={kind}&subscription_key={key}")))
            .await;
    let id = found[0]["subscription_id"].as_str().unwrap_or_else(|| panic!("no {kind} subscription: {found}"));
    let (status, body) =
        send(server.admin(Method::PUT, &format!("/subscriptions/{id}")).json(&json!({"active": true}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn queued(server: &TestServer, kind: &str) -> usize {
    let (_, all) = send(server.admin(Method::GET, "/system/notifications")).await;
    all.as_array().unwrap().iter().filter(|n| n["notification_type"] == kind).count()
}

/// `policy_eval` notifies when the final action changes; `vuln_update` when
/// the vulnerability listing differs from the one compared last.
async fn evaluation_and_vulnerability_watchers(engine: Engine) {
    let registry = start_registry().await;
    let receiver = Receiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let pushed = {
        let (registry, dir) = (registry.clone(), dir.path().to_owned());
        tokio::task::spawn_blocking(move || {
            common::images::push(&registry, &dir, &common::images::app_image("2.19.1"), "team/web:1").1
        })
        .await
        .unwrap()
    };
    let server = TestServer::start_with(engine, |c| configure(c, &registry, &receiver)).await;
    common::images::sync_feeds(&server).await;
    let added = common::images::add_by_tag(&server, &pushed).await;
    let digest = added["imageDigest"].as_str().unwrap().to_owned();
    let image = common::images::wait_analysis(&server, &digest, None).await;
    assert_eq!(image["analysis_status"], "analyzed", "{image}");
    activate_subscription(&server, "policy_eval", &pushed).await;
    activate_subscription(&server, "vuln_update", &pushed).await;

    // The first evaluation is the baseline; a changed final action is notified.
    activate_bundle(&server, always_bundle("go", "GO")).await;
    server.run_watcher(watchers::POLICY_EVAL).await;
    assert_eq!(queued(&server, "policy_eval").await, 0);
    server.run_watcher(watchers::POLICY_EVAL).await;
    assert_eq!(queued(&server, "policy_eval").await, 0, "unchanged");
    activate_bundle(&server, always_bundle("stop", "STOP")).await;
    server.run_watcher(watchers::POLICY_EVAL).await;
    let delivered = receiver.wait_for(1, |d| d.path == "/admin/policy_eval").await;
    let payload = &delivered[0].json()["data"]["notification_payload"];
    assert_eq!(
        (payload["last_eval"]["final_action"].as_str(), payload["curr_eval"]["final_action"].as_str()),
        (Some("go"), Some("stop"))
    );
    assert_eq!(payload["curr_eval"]["policyId"], "stop");
    assert_eq!(payload["subscription_key"], pushed.as_str());
    let (_, events) =
        send(server.admin(Method::GET, "/events?event_type=user.checks.tag.policy_evaluation.update")).await;
    assert_eq!(events["item_count"], 1, "{events}");

    // The first comparison is the baseline; then the vulnerabilities "change"
    // (the stored baseline is emptied, as if they were all new).
    server.run_watcher(watchers::VULN_UPDATE).await;
    server.run_watcher(watchers::VULN_UPDATE).await;
    assert_eq!(queued(&server, "vuln_update").await, 0, "nothing changed");
    sqlx::query("UPDATE vuln_update_baselines SET vulnerabilities = '[]' WHERE subscription_key = $1")
        .bind(&pushed)
        .execute(server.state().db.pool())
        .await
        .unwrap();
    server.run_watcher(watchers::VULN_UPDATE).await;
    let delivered = receiver.wait_for(1, |d| d.path == "/admin/vuln_update").await;
    let payload = &delivered[0].json()["data"]["notification_payload"];
    assert_eq!(payload["imageDigest"], digest.as_str());
    let diff = &payload["diff_vulnerability_result"];
    let added = diff["added"].as_array().unwrap();
    assert!(added.iter().any(|v| v["package_name"] == "requests"), "{diff}");
    assert!(added.iter().any(|v| v["package_name"] == "libssl3"), "{diff}");
    assert_eq!((diff["updated"].as_array().unwrap().len(), diff["removed"].as_array().unwrap().len()), (0, 0));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn evaluation_and_vulnerability_watchers_on_sqlite() {
    evaluation_and_vulnerability_watchers(Engine::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn evaluation_and_vulnerability_watchers_on_postgres() {
    evaluation_and_vulnerability_watchers(Engine::Postgres).await;
}
