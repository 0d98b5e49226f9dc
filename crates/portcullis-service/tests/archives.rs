//! The analysis archive (`/archives`) against a real registry, a real
//! analyzer and real vulnerability data: archive, delete and restore an
//! image with its answers unchanged, the refusals, corrupt tarballs, the
//! archive rules run by the `archive_tasks` watcher, account isolation, and
//! the real anchore-cli's `analysis-archive` commands.

mod common;

use common::images::{add_by_tag, add_other_account, app_image, other, push, send, sync_feeds, wait_analysis};
use common::{ADMIN_PASSWORD, Engine, TestServer};
use portcullis_api::AnalysisStatus;
use portcullis_service::archive::ARCHIVE_TASKS;
use portcullis_service::config::ServiceConfig;
use portcullis_service::images;
use portcullis_service::state::bucket;
use portcullis_testkit::anchore_cli::AnchoreCli;
use portcullis_testkit::registry::{RegistryAuth, TestRegistry};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn start(engine: Engine, registry: &TestRegistry) -> TestServer {
    let host = registry.host();
    let server = TestServer::start_with(engine, move |config: &mut ServiceConfig| {
        config.analyzer.insecure_registries = vec![host];
    })
    .await;
    sync_feeds(&server).await;
    server
}

/// Adds `tag` and waits for its analysis; the digest.
async fn analysed(server: &TestServer, tag: &str) -> String {
    let digest = add_by_tag(server, tag).await["imageDigest"].as_str().unwrap().to_owned();
    let image = wait_analysis(server, &digest, None).await;
    assert_eq!(image["analysis_status"], "analyzed", "{image}");
    digest
}

fn restore_body(digest: &str) -> Value {
    json!({"source": {"archive": {"digest": digest}}})
}

/// What the image routes answer about an analysed image, minus what a
/// restore legitimately changes (`last_updated`, `record_version`) and the
/// evaluation `check` makes now.
async fn answers(server: &TestServer, digest: &str, tag: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let (status, mut image) = send(server.admin(Method::GET, &format!("/images/{digest}"))).await;
    assert_eq!(status, StatusCode::OK, "{image}");
    let record = image[0].as_object_mut().unwrap();
    record.remove("last_updated");
    record.remove("record_version");
    for detail in record["image_detail"].as_array_mut().unwrap() {
        detail.as_object_mut().unwrap().remove("last_updated");
    }
    out.push(image);
    for path in
        ["vuln/all?vendor_only=false", "vuln/os", "content/os", "content/python", "content/files", "metadata/manifest"]
    {
        let (status, body) = send(server.admin(Method::GET, &format!("/images/{digest}/{path}"))).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        out.push(body);
    }
    let (status, mut checked) = send(
        server
            .admin(Method::GET, &format!("/images/{digest}/check?tag={tag}&history=true&detail=true&interactive=true")),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{checked}");
    let records = checked[0][digest][tag].as_array_mut().unwrap();
    assert!(records.len() >= 2, "a fresh evaluation and the stored one: {records:?}");
    // The fresh evaluation is made now: only its verdict is comparable.
    let fresh = records.remove(0);
    out.push(json!({"fresh_status": fresh["status"], "fresh_policy": fresh["policyId"]}));
    out.push(checked);
    out
}

async fn archive_and_restore(engine: Engine) {
    let registry = TestRegistry::start(RegistryAuth::None);
    let dir = tempfile::tempdir().unwrap();
    let (_, tag) = push(&registry, dir.path(), &app_image("2.19.1"), "app/web:v1");
    let server = start(engine, &registry).await;
    let state = server.state().clone();
    let digest = analysed(&server, &tag).await;
    // A stored evaluation, which the archive must carry.
    let (status, body) = send(server.admin(Method::GET, &format!("/images/{digest}/check?tag={tag}"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = answers(&server, &digest, &tag).await;
    assert!(
        before[2]["vulnerabilities"].as_array().unwrap().iter().any(|v| v["vuln"] == "CVE-2024-0727"),
        "the fixture has findings: {}",
        before[2]
    );

    // Archive it: the working copy stays.
    let (status, archived) = send(server.admin(Method::POST, "/archives/images").json(&json!([digest]))).await;
    assert_eq!(status, StatusCode::OK, "{archived}");
    assert_eq!(archived, json!([{"digest": digest, "status": "archived", "detail": null}]));
    let (status, record) = send(server.admin(Method::GET, &format!("/archives/images/{digest}"))).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["status"], "archived");
    assert_eq!(record["image_detail"][0]["pullstring"], tag.as_str());
    assert_eq!(record["analyzed_at"], before[0][0]["analyzed_at"]);
    let size = record["archive_size_bytes"].as_u64().unwrap();
    let stored = state.docs.get("admin", bucket::ANALYSIS_ARCHIVE, &format!("{digest}.tar.gz")).await.unwrap();
    assert_eq!(stored.map(|bytes| bytes.len() as u64), Some(size));
    let (_, summary) = send(server.admin(Method::GET, "/archives")).await;
    assert_eq!(summary["images"]["total_image_count"], 1, "{summary}");
    assert_eq!(summary["images"]["total_tag_count"], 1, "{summary}");
    assert_eq!(summary["images"]["total_data_bytes"], size, "{summary}");
    assert_eq!(summary["images"]["by_status"]["archived"], json!({"image_count": 1, "data_bytes": size}));
    assert_eq!(send(server.admin(Method::GET, "/images")).await.1.as_array().unwrap().len(), 1);
    // Archiving again changes nothing; restoring over the working copy is refused.
    let (_, again) = send(server.admin(Method::POST, "/archives/images").json(&json!([digest]))).await;
    assert_eq!(again[0]["status"], "archived");
    assert!(again[0]["detail"].as_str().unwrap().contains("already"), "{again}");
    let (status, body) = send(server.admin(Method::POST, "/images").json(&restore_body(&digest))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // Delete the working copy, restore it: every answer as before.
    let (status, body) = send(server.admin(Method::DELETE, &format!("/images/{digest}?force=true"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = send(server.admin(Method::GET, &format!("/images/{digest}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, restored) = send(server.admin(Method::POST, "/images").json(&restore_body(&digest))).await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    assert_eq!(restored[0]["analysis_status"], "analyzed");
    assert_eq!(restored[0]["imageDigest"], digest.as_str());
    let after = answers(&server, &digest, &tag).await;
    for (before, after) in before.iter().zip(&after) {
        assert_eq!(before, after);
    }
    // The query index is back too, and the archived copy stays.
    let (_, found) = send(server.admin(Method::GET, "/query/images/by_package?name=requests")).await;
    assert!(found.to_string().contains(&digest), "{found}");
    let (status, _) = send(server.admin(Method::GET, &format!("/archives/images/{digest}"))).await;
    assert_eq!(status, StatusCode::OK);

    // Refusals.
    let post = |body: Value| server.admin(Method::POST, "/archives/images").json(&body);
    let (status, body) = send(post(json!([]))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let many: Vec<String> = (0..101).map(|n| format!("sha256:{n:064x}")).collect();
    let (status, body) = send(post(json!(many))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("not 101"), "{body}");
    let (status, _) = send(post(json!({"digest": digest}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let unknown = format!("sha256:{}", "e".repeat(64));
    let (status, body) = send(post(json!([digest, unknown]))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["message"].as_str().unwrap().contains(&unknown), "{body}");
    let (status, _) = send(server.admin(Method::GET, &format!("/archives/images/{unknown}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = send(server.admin(Method::POST, "/images").json(&restore_body(&unknown))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    images::set_status(&state, "admin", &digest, AnalysisStatus::Analyzing).await.unwrap();
    let (status, body) = send(post(json!([digest]))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["message"].as_str().unwrap().contains("only analyzed images"), "{body}");
    assert_eq!(body["detail"]["analysis_status"], "analyzing");
    images::set_status(&state, "admin", &digest, AnalysisStatus::Analyzed).await.unwrap();

    // Corrupt tarballs: a clear error and no image.
    let key = format!("{digest}.tar.gz");
    let good = state.docs.get("admin", bucket::ANALYSIS_ARCHIVE, &key).await.unwrap().unwrap();
    let (status, _) = send(server.admin(Method::DELETE, &format!("/images/{digest}?force=true"))).await;
    assert_eq!(status, StatusCode::OK);
    for (bad, reason) in [(b"not a tarball".to_vec(), "not a readable tar.gz"), (good[..good.len() / 2].to_vec(), "")] {
        state.docs.put("admin", bucket::ANALYSIS_ARCHIVE, &key, &bad).await.unwrap();
        let (status, body) = send(server.admin(Method::POST, "/images").json(&restore_body(&digest))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("cannot be restored") && message.contains(reason), "{body}");
        assert_eq!(body["detail"]["error_code"], "archive_corrupt");
        assert!(images::image_row(&state, "admin", &digest).await.unwrap().is_none());
        assert_eq!(state.docs.get("admin", bucket::SBOM, &digest).await.unwrap(), None, "no document written");
    }
    state.docs.put("admin", bucket::ANALYSIS_ARCHIVE, &key, &good).await.unwrap();

    // Deleting the archived image removes the tarball and the rows.
    let (status, deleted) = send(server.admin(Method::DELETE, &format!("/archives/images/{digest}"))).await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["status"], "deleted");
    assert_eq!(state.docs.get("admin", bucket::ANALYSIS_ARCHIVE, &key).await.unwrap(), None);
    let (_, list) = send(server.admin(Method::GET, "/archives/images")).await;
    assert_eq!(list, json!([]));
    let (_, summary) = send(server.admin(Method::GET, "/archives")).await;
    assert_eq!(summary["images"]["total_image_count"], 0, "{summary}");
    let (status, _) = send(server.admin(Method::DELETE, &format!("/archives/images/{digest}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.admin(Method::POST, "/images").json(&restore_body(&digest))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.client.get(server.url("/archives"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn archive_and_restore_on_sqlite() {
    archive_and_restore(Engine::Sqlite).await;
}

#[tokio::test]
async fn archive_and_restore_on_postgres() {
    archive_and_restore(Engine::Postgres).await;
}

async fn rules_and_accounts(engine: Engine) {
    let registry = TestRegistry::start(RegistryAuth::None);
    let dir = tempfile::tempdir().unwrap();
    let (_, tag) = push(&registry, dir.path(), &app_image("2.19.1"), "app/web:v1");
    let server = start(engine, &registry).await;
    add_other_account(&server).await;
    let older = analysed(&server, &tag).await;
    push(&registry, dir.path(), &app_image("2.20.0"), "app/web:v1");
    let newer = analysed(&server, &tag).await;
    assert_ne!(older, newer);
    let rule = |body: Value| server.admin(Method::POST, "/archives/rules").json(&body);

    // Rule validation.
    let (status, body) = send(rule(json!({"transition": "archive", "analysis_age_days": -3}))).await;
    assert_eq!((status, body["detail"]["field"].as_str()), (StatusCode::BAD_REQUEST, Some("analysis_age_days")));
    let (status, _) = send(rule(json!({"transition": "sideways"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = send(rule(json!({"transition": "archive", "max_images_per_account": 10}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("max_images_per_account"), "{body}");
    let (status, max) =
        send(rule(json!({"transition": "archive", "system_global": true, "max_images_per_account": 10}))).await;
    assert_eq!(status, StatusCode::OK, "{max}");
    let (status, body) =
        send(rule(json!({"transition": "archive", "system_global": true, "max_images_per_account": 20}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("only one"), "{body}");
    let (status, body) = send(
        other(&server, Method::POST, "/archives/rules").json(&json!({"transition": "archive", "system_global": true})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // The other account sees the global rule but may not delete it.
    let max_id = max["rule_id"].as_str().unwrap();
    let (status, _) = send(other(&server, Method::GET, &format!("/archives/rules/{max_id}"))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(other(&server, Method::DELETE, &format!("/archives/rules/{max_id}"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = send(server.admin(Method::DELETE, &format!("/archives/rules/{max_id}"))).await;
    assert_eq!(status, StatusCode::OK);

    // Keep the newest version of each tag: the older digest is archived and removed.
    let (status, keep) = send(rule(json!({"transition": "archive", "analysis_age_days": 0, "tag_versions_newer": 1,
        "selector": {"registry": "*", "repository": "app/*", "tag": "*"}})))
    .await;
    assert_eq!(status, StatusCode::OK, "{keep}");
    assert_eq!(keep["system_global"], false);
    let keep_id = keep["rule_id"].as_str().unwrap().to_owned();
    let (_, listed) = send(server.admin(Method::GET, "/archives/rules")).await;
    assert_eq!(listed, json!([keep]));
    let (_, preview) = send(server.admin(Method::GET, &format!("/archives/rules/{keep_id}/preview"))).await;
    assert_eq!(preview["digests"], json!([older]), "{preview}");
    assert_eq!(send(server.admin(Method::GET, &format!("/images/{older}"))).await.0, StatusCode::OK, "preview only");
    // Another account's rule archiving everything it has touches nothing of admin's.
    let (status, theirs) =
        send(other(&server, Method::POST, "/archives/rules").json(&json!({"transition": "archive"}))).await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    server.run_watcher(ARCHIVE_TASKS).await;
    let (status, _) = send(server.admin(Method::GET, &format!("/images/{older}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the older digest left the working set");
    let (status, image) = send(server.admin(Method::GET, &format!("/images/{newer}"))).await;
    assert_eq!((status, image[0]["analysis_status"].as_str()), (StatusCode::OK, Some("analyzed")));
    let (_, archived) = send(server.admin(Method::GET, "/archives/images")).await;
    let digests: Vec<&str> = archived.as_array().unwrap().iter().map(|a| a["imageDigest"].as_str().unwrap()).collect();
    assert_eq!(digests, [older.as_str()]);
    assert_eq!(archived[0]["status"], "archived");

    // Isolation: the other account sees none of it, admins see it through x-anchore-account.
    let (_, theirs_listed) = send(other(&server, Method::GET, "/archives/rules")).await;
    assert_eq!(theirs_listed, json!([theirs]));
    let (_, none) = send(other(&server, Method::GET, "/archives/images")).await;
    assert_eq!(none, json!([]));
    let (_, summary) = send(other(&server, Method::GET, "/archives")).await;
    assert_eq!(
        (summary["images"]["total_image_count"].as_u64(), summary["rules"]["count"].as_u64()),
        (Some(0), Some(1))
    );
    for path in [format!("/archives/images/{older}"), format!("/archives/rules/{keep_id}")] {
        let (status, _) = send(other(&server, Method::GET, &path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = send(other(&server, Method::DELETE, &format!("/archives/rules/{keep_id}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(other(&server, Method::POST, "/images").json(&restore_body(&older))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, as_other) = send(server.admin(Method::GET, "/archives/rules").header("x-anchore-account", "other")).await;
    assert_eq!(as_other, json!([theirs]));

    // A delete rule removes archived images (aged by when they were archived).
    let (status, body) = send(rule(json!({"transition": "delete", "analysis_age_days": 0}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, preview) =
        send(server.admin(Method::GET, &format!("/archives/rules/{}/preview", body["rule_id"].as_str().unwrap())))
            .await;
    assert_eq!(preview["digests"], json!([older]), "{preview}");
    server.run_watcher(ARCHIVE_TASKS).await;
    let (_, archived) = send(server.admin(Method::GET, "/archives/images")).await;
    assert_eq!(archived, json!([]));
    let state = server.state();
    assert_eq!(state.docs.get("admin", bucket::ANALYSIS_ARCHIVE, &format!("{older}.tar.gz")).await.unwrap(), None);
    let (status, _) = send(server.admin(Method::GET, &format!("/images/{newer}"))).await;
    assert_eq!(status, StatusCode::OK, "the newest version is kept");
    // Rules are in the OpenAPI document.
    let (_, document) = send(server.admin(Method::GET, "/swagger.json")).await;
    for path in
        ["/archives", "/archives/images", "/archives/images/{digest}", "/archives/rules", "/archives/rules/{rule_id}"]
    {
        assert!(document["paths"].get(path).is_some(), "{path} missing from the OpenAPI document");
    }
    anchore_cli(&server, &newer, &tag).await;
    server.stop().await;
}

/// Anchore's own client archives, lists, shows, restores and deletes the
/// analysed `digest` (tagged `tag`, not archived yet) and manages rules.
async fn anchore_cli(server: &TestServer, digest: &str, tag: &str) {
    let (base, digest, tag) = (server.base.clone(), digest.to_owned(), tag.to_owned());
    // anchore-cli is a blocking subprocess: keep it off the runtime's threads.
    tokio::task::spawn_blocking(move || {
        let cli = AnchoreCli::new(base, "admin", ADMIN_PASSWORD);
        let run = |args: &[&str]| {
            let mut full = vec!["analysis-archive"];
            full.extend_from_slice(args);
            let output = cli.run(&full);
            (output.code, format!("{}{}", output.stdout, output.stderr))
        };
        let unknown = format!("sha256:{}", "e".repeat(64));

        let (code, out) = run(&["images", "add", &digest]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.lines().any(|line| line.starts_with(&digest) && line.contains("archived")), "{out}");
        let (code, out) = run(&["images", "add", &unknown]);
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains(&format!("image {unknown} not found")) && out.contains("HTTP Code: 404"), "{out}");
        let (code, out) = run(&["images", "add", "latest"]);
        assert_eq!(code, Some(2), "{out}");
        assert!(out.contains("Invalid image digest latest"), "{out}");
        let (code, out) = run(&["images", "list"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("Archive Size Bytes"), "{out}");
        assert!(
            out.lines().any(|line| line.starts_with(&digest) && line.contains(&tag) && line.contains("archived")),
            "{out}"
        );
        let (code, out) = run(&["images", "get", &digest]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.lines().any(|line| line.starts_with(&digest) && line.contains(&tag)), "{out}");
        let (code, out) = run(&["images", "get", &unknown]);
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains("is not in the analysis archive"), "{out}");

        // Restoring needs the working copy gone.
        let (code, out) = run(&["images", "restore", &digest]);
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains("only a deleted image can be restored") && out.contains("HTTP Code: 409"), "{out}");
        let output = cli.run(&["image", "del", &digest, "--force"]);
        assert_eq!(output.code, Some(0), "{output:?}");
        let output = cli.run(&["image", "get", &digest]);
        assert_eq!(output.code, Some(1), "{output:?}");
        let (code, out) = run(&["images", "restore", &digest]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains(&format!("Image Digest: {digest}")) && out.contains("Analysis Status: analyzed"), "{out}");
        assert!(out.contains(&format!("Full Tag: {tag}")), "{out}");
        let image = cli.run_json(&["image", "get", &digest]);
        assert_eq!(image[0]["analysis_status"], "analyzed", "{image}");
        let (code, out) = run(&["images", "restore", &unknown]);
        assert_eq!(code, Some(1), "{out}");

        // anchore-cli exits 2 on any refused delete.
        let (code, out) = run(&["images", "del", &digest]);
        assert_eq!((code, out.trim()), (Some(0), "Success"));
        let (code, out) = run(&["images", "del", &digest]);
        assert_eq!(code, Some(2), "{out}");
        assert!(out.contains("is not in the analysis archive"), "{out}");
        let (code, out) = run(&["images", "get", &digest]);
        assert_eq!(code, Some(1), "{out}");

        // Rules.
        let added = cli.run_json(&[
            "analysis-archive",
            "rules",
            "add",
            "30",
            "2",
            "archive",
            "--repository-selector",
            "cli/*",
            "--tag-exclude",
            "keep-*",
            "--exclude-expiration-days",
            "7",
        ]);
        let id = added["rule_id"].as_str().unwrap().to_owned();
        assert_eq!(
            (&added["analysis_age_days"], &added["tag_versions_newer"], &added["selector"]["repository"]),
            (&json!(30), &json!(2), &json!("cli/*")),
            "{added}"
        );
        assert_eq!(
            added["exclude"],
            json!({"selector": {"registry": "", "repository": "", "tag": "keep-*"},
            "expiration_days": 7})
        );
        let (code, out) = run(&["rules", "list"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("Tag Versions Newer") && out.contains("Exclude Exp Days"), "{out}");
        let row = out.lines().find(|line| line.starts_with(&id)).unwrap_or_else(|| panic!("{id} not listed: {out}"));
        for cell in ["False", "archive", "30", "cli/*", "None", "keep-*", "7"] {
            assert!(row.split_whitespace().any(|word| word == cell), "{cell} missing from {row}");
        }
        let (code, out) = run(&["rules", "get", &id]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.lines().any(|line| line.starts_with(&id) && line.contains("cli/*")), "{out}");
        let (code, out) = run(&["rules", "add", "1", "1", "archive", "--registry-selector", ""]);
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains("selector.registry: must not be empty") && out.contains("HTTP Code: 400"), "{out}");
        let (code, out) = run(&["rules", "del", &id]);
        assert_eq!((code, out.trim()), (Some(0), "Success"));
        let (code, out) = run(&["rules", "get", &id]);
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains(&format!("archive rule {id} not found")), "{out}");
        let (code, out) = run(&["rules", "del", &id]);
        assert_eq!(code, Some(2), "{out}");
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn rules_and_accounts_on_sqlite() {
    rules_and_accounts(Engine::Sqlite).await;
}

#[tokio::test]
async fn rules_and_accounts_on_postgres() {
    rules_and_accounts(Engine::Postgres).await;
}
