//! The image routes against a real registry, a real analyzer and real
//! vulnerability data: add by tag and by digest, list, get, content,
//! metadata, vulnerabilities, the native SBOM, queries, deletion, errors,
//! and isolation between accounts.

mod common;

use std::io::Read;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::images::{add_by_tag, add_other_account, app_image, other, push, send, sync_feeds, wait_analysis};
use common::{Engine, TestServer};
use portcullis_service::config::ServiceConfig;
use portcullis_service::state::bucket;
use portcullis_testkit::registry::{RegistryAuth, TestRegistry};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn ids(listing: &Value) -> Vec<String> {
    listing["vulnerabilities"].as_array().unwrap().iter().map(|v| v["vuln"].as_str().unwrap().to_owned()).collect()
}

async fn image_routes(engine: Engine) {
    let registry = TestRegistry::start(RegistryAuth::None);
    let dir = tempfile::tempdir().unwrap();
    let (built, tag) = push(&registry, dir.path(), &app_image("2.19.1"), "app/web:v1");
    let host = registry.host();
    let server = TestServer::start_with(engine, move |config: &mut ServiceConfig| {
        config.analyzer.insecure_registries = vec![host];
    })
    .await;
    sync_feeds(&server).await;
    let state = server.service.as_ref().unwrap().state().clone();

    // Add by tag, with annotations: one record, queued.
    let (status, added) = send(server.admin(Method::POST, "/images?autosubscribe=true").json(&json!({
        "source": {"tag": {"pullstring": tag}}, "annotations": {"team": "web"}})))
    .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added.as_array().unwrap().len(), 1);
    let digest = added[0]["imageDigest"].as_str().unwrap().to_owned();
    assert_eq!(digest, built.manifest_digest);
    assert_eq!(added[0]["annotations"]["team"], "web");
    assert_eq!(added[0]["image_detail"][0]["fulltag"], tag);
    assert!(["not_analyzed", "analyzing", "analyzed"].contains(&added[0]["analysis_status"].as_str().unwrap()));
    // POST /images created the tag's subscriptions (tag_update on: autosubscribe).
    let (_, subscriptions) = send(server.admin(Method::GET, &format!("/subscriptions?subscription_key={tag}"))).await;
    assert!(
        subscriptions.as_array().unwrap().iter().any(|s| s["subscription_type"] == "tag_update" && s["active"] == true),
        "{subscriptions}"
    );

    let image = wait_analysis(&server, &digest, None).await;
    assert_eq!(image["analysis_status"], "analyzed", "{image}");
    let metadata = &image["image_content"]["metadata"];
    assert_eq!((metadata["distro"].as_str(), metadata["distro_version"].as_str()), (Some("debian"), Some("12")));
    assert_eq!(metadata["layer_count"], 2);
    assert_eq!(metadata["dockerfile_mode"], "Guessed");
    let image_id = built.config_digest.trim_start_matches("sha256:").to_owned();
    assert_eq!(image["image_detail"][0]["imageId"], image_id.as_str());
    assert!(image["analyzed_at"].is_string());

    // Listing and its filters.
    let (_, list) = send(server.admin(Method::GET, "/images")).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let (_, list) = send(server.admin(Method::GET, &format!("/images?fulltag={tag}"))).await;
    assert_eq!(list[0]["imageDigest"], digest.as_str());
    let (_, list) = send(server.admin(Method::GET, "/images?analysis_status=not_analyzed")).await;
    assert_eq!(list, json!([]));
    let (_, list) = send(server.admin(Method::GET, "/images?fulltag=docker.io/library/nothing:1")).await;
    assert_eq!(list, json!([]));
    let (status, _) = send(server.admin(Method::GET, "/images?image_status=sideways")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, page) = send(server.admin(Method::GET, "/images?page=2&limit=1")).await;
    assert_eq!(page, json!([]));
    let first = server.admin(Method::GET, "/images?limit=1").send().await.unwrap();
    assert_eq!(first.headers()["x-next-page"], "false", "one image: no second page");
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!(first[0]["imageDigest"], digest.as_str());

    // Content, from the SBOM.
    let path = |rest: &str| format!("/images/{digest}{rest}");
    let (_, types) = send(server.admin(Method::GET, &path("/content"))).await;
    for kind in ["os", "files", "python", "java", "npm", "go", "malware"] {
        assert!(types.as_array().unwrap().contains(&json!(kind)), "{kind} not in {types}");
    }
    let (status, os) = send(server.admin(Method::GET, &path("/content/os"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(os["content_type"], "os");
    let ssl = os["content"].as_array().unwrap().iter().find(|p| p["package"] == "libssl3").unwrap();
    assert_eq!(
        (ssl["version"].as_str(), ssl["type"].as_str(), ssl["origin"].as_str()),
        (Some("3.0.9-1"), Some("dpkg"), Some("openssl"))
    );
    let (_, python) = send(server.admin(Method::GET, &path("/content/python"))).await;
    assert_eq!(python["content"][0]["package"], "requests");
    assert!(python["content"][0]["location"].as_str().unwrap().ends_with("METADATA"));
    let (_, files) = send(server.admin(Method::GET, &path("/content/files"))).await;
    let release = files["content"].as_array().unwrap().iter().find(|f| f["filename"] == "/etc/os-release").unwrap();
    assert_eq!((release["type"].as_str(), release["mode"].as_str()), (Some("file"), Some("00644")));
    assert_eq!(release["sha256"].as_str().unwrap().len(), 64);
    let (_, java) = send(server.admin(Method::GET, &path("/content/java"))).await;
    assert_eq!(java["content"], json!([]));
    let (_, malware) = send(server.admin(Method::GET, &path("/content/malware"))).await;
    assert_eq!(malware["content"][0]["enabled"], false);
    let (status, body) = send(server.admin(Method::GET, &path("/content/windows"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Metadata, base64.
    let (_, types) = send(server.admin(Method::GET, &path("/metadata"))).await;
    assert_eq!(types, json!(["manifest", "docker_history", "dockerfile"]));
    let (_, manifest) = send(server.admin(Method::GET, &path("/metadata/manifest"))).await;
    let manifest: Value =
        serde_json::from_slice(&STANDARD.decode(manifest["metadata"].as_str().unwrap()).unwrap()).unwrap();
    assert_eq!(manifest["layers"][0]["digest"], built.layers[0].digest.as_str());
    assert_eq!(manifest["config"]["digest"], built.config_digest.as_str());
    let (_, history) = send(server.admin(Method::GET, &path("/metadata/docker_history"))).await;
    assert!(
        serde_json::from_slice::<Value>(&STANDARD.decode(history["metadata"].as_str().unwrap()).unwrap())
            .unwrap()
            .is_array()
    );
    let (_, dockerfile) = send(server.admin(Method::GET, &path("/metadata/dockerfile"))).await;
    assert_eq!(dockerfile["metadata_type"], "dockerfile");
    let (status, _) = send(server.admin(Method::GET, &path("/metadata/layers"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Vulnerabilities in Anchore's shape.
    let (_, types) = send(server.admin(Method::GET, &path("/vuln"))).await;
    assert_eq!(types, json!(["os", "non-os", "all"]));
    let (status, os) = send(server.admin(Method::GET, &path("/vuln/os"))).await;
    assert_eq!(status, StatusCode::OK, "{os}");
    assert_eq!(os["vulnerability_type"], "os");
    let openssl = os["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vuln"] == "CVE-2024-0727")
        .expect("openssl finding");
    assert_eq!(openssl["package"], "libssl3-3.0.9-1");
    assert_eq!(openssl["package_type"], "dpkg");
    assert_eq!(openssl["feed"], "vulnerabilities");
    assert_eq!(openssl["feed_group"], "debian:12");
    assert_eq!(openssl["package_cpe"], "None");
    assert_eq!(openssl["fix"], "3.0.13-1~deb12u1");
    assert!(openssl["nvd_data"].is_array() && openssl["vendor_data"].is_array());
    let (_, non_os) = send(server.admin(Method::GET, &path("/vuln/non-os"))).await;
    assert!(ids(&non_os).contains(&"CVE-2018-18074".to_owned()), "{non_os}");
    assert!(non_os["vulnerabilities"].as_array().unwrap().iter().all(|v| v["package_type"] == "python"));
    let (_, all) = send(server.admin(Method::GET, &path("/vuln/all"))).await;
    assert_eq!(ids(&all).len(), ids(&os).len() + ids(&non_os).len());
    let (_, everything) = send(server.admin(Method::GET, &path("/vuln/all?vendor_only=False"))).await;
    assert!(ids(&everything).len() >= ids(&all).len());
    let (_, refreshed) = send(server.admin(Method::GET, &path("/vuln/all?force_refresh=true"))).await;
    assert_eq!(ids(&refreshed), ids(&all));
    let (status, _) = send(server.admin(Method::GET, &path("/vuln/windows"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The native SBOM, gzipped.
    let response = server.admin(Method::GET, &path("/sboms/native")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&response.bytes().await.unwrap()[..]).read_to_string(&mut text).unwrap();
    let sbom = portcullis_sbom::Sbom::from_json(&text).unwrap();
    assert!(sbom.packages.iter().any(|p| p.name == "requests"));

    // By image id.
    let (status, by_id) = send(server.admin(Method::GET, &format!("/images/by_id/{image_id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_id[0]["imageDigest"], digest.as_str());
    let (status, _) = send(server.admin(Method::GET, &format!("/images/by_id/{image_id}/vuln/os"))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(server.admin(Method::GET, &format!("/images/by_id/{image_id}/content/os"))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(server.admin(Method::GET, "/images/by_id/0000/vuln/os")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Queries across images.
    let (status, found) =
        send(server.admin(Method::GET, "/query/images/by_vulnerability?vulnerability_id=CVE-2024-0727")).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found["images"][0]["image"]["imageDigest"], digest.as_str());
    assert_eq!(found["images"][0]["image"]["tag_history"][0]["fulltag"], tag.as_str());
    assert_eq!(found["images"][0]["vulnerable_packages"][0]["name"], "libssl3");
    assert_eq!(found["images"][0]["vulnerable_packages"][0]["namespace"], "debian:12");
    assert_eq!((found["page"].as_str(), found["next_page"].as_str()), (Some("1"), Some("false")));
    let (_, none) = send(
        server
            .admin(Method::GET, "/query/images/by_vulnerability?vulnerability_id=CVE-2024-0727&namespace=alpine:3.19"),
    )
    .await;
    assert_eq!(none["images"], json!([]));
    let (status, _) = send(server.admin(Method::GET, "/query/images/by_vulnerability")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, found) = send(server.admin(Method::GET, "/query/images/by_package?name=requests&version=2.19.1")).await;
    assert_eq!(found["images"][0]["packages"][0], json!({"name": "requests", "version": "2.19.1", "type": "python"}));
    let (_, found) = send(server.admin(Method::GET, "/query/images/by_package?name=requests&version=9")).await;
    assert_eq!(found["images"], json!([]));
    let (status, records) =
        send(server.admin(Method::GET, "/query/vulnerabilities?id=CVE-2024-0727&namespace=debian:12")).await;
    assert_eq!(status, StatusCode::OK, "{records}");
    let record = &records["vulnerabilities"][0];
    assert_eq!((record["id"].as_str(), record["namespace"].as_str()), (Some("CVE-2024-0727"), Some("debian:12")));
    assert_eq!(record["affected_packages"][0]["name"], "openssl");
    let (_, paged) =
        send(server.admin(Method::GET, "/query/vulnerabilities?id=CVE-2022-48303,CVE-2024-0727&limit=1")).await;
    assert_eq!((paged["returned_count"].as_u64(), paged["next_page"].as_str()), (Some(1), Some("true")));
    let (status, _) = send(server.admin(Method::GET, "/query/vulnerabilities")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, summaries) = send(server.admin(Method::GET, "/summaries/imagetags")).await;
    assert_eq!(summaries[0]["fulltag"], tag.as_str());
    assert_eq!(summaries[0]["analysis_status"], "analyzed");
    assert!(summaries[0]["created_at"].is_i64());

    // Add by digest under another tag: the same image, still analysed.
    let repo = tag.rsplit_once(':').unwrap().0;
    let (status, by_digest) = send(server.admin(Method::POST, "/images").json(&json!({"source": {"digest": {
        "pullstring": format!("{repo}@{digest}"), "tag": format!("{repo}:pinned")}}})))
    .await;
    assert_eq!(status, StatusCode::OK, "{by_digest}");
    assert_eq!(by_digest[0]["imageDigest"], digest.as_str());
    assert_eq!(by_digest[0]["analysis_status"], "analyzed");
    assert_eq!(by_digest[0]["image_detail"].as_array().unwrap().len(), 2);
    assert_eq!(
        images_latest(&server, &format!("{repo}:pinned")).await.as_deref(),
        Some(digest.as_str()),
        "latest_digest_for_tag"
    );
    // A Dockerfile for a known image needs force; with force the image is analysed again.
    let dockerfile = STANDARD.encode("FROM debian:12\nRUN pip install requests==2.19.1\n");
    let request = json!({"source": {"tag": {"pullstring": tag, "dockerfile": dockerfile}}});
    let (status, body) = send(server.admin(Method::POST, "/images").json(&request)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, forced) = send(server.admin(Method::POST, "/images?force=true").json(&request)).await;
    assert_eq!(status, StatusCode::OK, "{forced}");
    assert!(["not_analyzed", "analyzing"].contains(&forced[0]["analysis_status"].as_str().unwrap()), "{forced}");
    let again = wait_analysis(&server, &digest, None).await;
    assert_eq!(again["analysis_status"], "analyzed");
    assert_eq!(again["image_content"]["metadata"]["dockerfile_mode"], "Actual");
    let (_, dockerfile_back) = send(server.admin(Method::GET, &path("/metadata/dockerfile"))).await;
    let text = String::from_utf8(STANDARD.decode(dockerfile_back["metadata"].as_str().unwrap()).unwrap()).unwrap();
    assert!(text.contains("pip install requests"), "{text}");

    // Delete guards: refused while analysing (simulated), forced through.
    sqlx::query("UPDATE images SET analysis_status = 'analyzing' WHERE digest = $1")
        .bind(&digest)
        .execute(state.db.pool())
        .await
        .unwrap();
    let (status, body) = send(server.admin(Method::GET, &path("/vuln/os"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["message"].as_str().unwrap().contains("analysis_status: analyzing"), "{body}");
    let (status, body) = send(server.admin(Method::DELETE, &path(""))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, bulk) =
        send(server.admin(Method::DELETE, &format!("/images?imageDigests={digest},sha256:{}", "0".repeat(64)))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bulk[0]["status"], "delete_failed");
    assert_eq!(bulk[1]["status"], "not_found");
    let (status, deleted) = send(server.admin(Method::DELETE, &path("?force=true"))).await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["status"], "deleting");
    let (status, _) = send(server.admin(Method::GET, &path(""))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for name in [bucket::SBOM, bucket::MANIFEST, bucket::IMAGE_CONTENT, bucket::VULNERABILITY_SCAN] {
        assert!(state.docs.get("admin", name, &digest).await.unwrap().is_none(), "{name} document left behind");
    }
    let (_, found) = send(server.admin(Method::GET, "/query/images/by_package?name=requests")).await;
    assert_eq!(found["images"], json!([]));
    let (status, _) = send(server.admin(Method::DELETE, &path(""))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

async fn images_latest(server: &TestServer, fulltag: &str) -> Option<String> {
    let state = server.service.as_ref().unwrap().state();
    portcullis_service::images::latest_digest_for_tag(state, "admin", fulltag).await.unwrap()
}

#[tokio::test]
async fn image_routes_on_sqlite() {
    image_routes(Engine::Sqlite).await;
}

#[tokio::test]
async fn image_routes_on_postgres() {
    image_routes(Engine::Postgres).await;
}

/// Every way an add can be refused writes nothing.
async fn add_errors(engine: Engine) {
    let registry = TestRegistry::start(RegistryAuth::None);
    let host = registry.host();
    let server = TestServer::start_with(engine, move |config: &mut ServiceConfig| {
        config.analyzer.insecure_registries = vec![host];
    })
    .await;
    let add = |body: Value| server.admin(Method::POST, "/images").json(&body);
    let (status, body) = send(add(json!({"source": {"tag": {"pullstring": registry.image("nothing/here:v1")}}}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["detail"]["error_code"], "image_not_found");
    let (status, body) = send(add(json!({"source": {"tag": {"pullstring": "127.0.0.1:1/app:v1"}}}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["detail"]["error_code"], "registry_unreachable", "{body}");
    let (status, body) = send(add(json!({"source": {"tag": {"pullstring": "UPPER/Case:v1"}}}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // A restore of an image that was never archived.
    let (status, body) =
        send(add(json!({"source": {"archive": {"digest": format!("sha256:{}", "a".repeat(64))}}}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) =
        send(add(json!({"source": {"tag": {"pullstring": registry.image("a:v1"), "dockerfile": "not base64!"}}})))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("base64"), "{body}");
    let (status, body) =
        send(add(json!({"source": {"digest": {"pullstring": registry.image("a:v1"), "tag": registry.image("a:v1")}}})))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = send(add(json!({}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(server.admin(Method::POST, "/images").body("{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(server.admin(Method::POST, "/images?force=maybe").json(&json!({"tag": "a:b"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(server.client.get(server.url("/images"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, list) = send(server.admin(Method::GET, "/images")).await;
    assert_eq!(list, json!([]), "a refused add wrote nothing");
    let (status, _) = send(server.admin(Method::GET, &format!("/images/sha256:{}", "0".repeat(64)))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.admin(Method::DELETE, "/images?imageDigests=")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    server.stop().await;
}

#[tokio::test]
async fn add_errors_on_sqlite() {
    add_errors(Engine::Sqlite).await;
}

#[tokio::test]
async fn add_errors_on_postgres() {
    add_errors(Engine::Postgres).await;
}

/// Another account sees none of the image through any route, and may add
/// the same image as its own.
async fn accounts_are_isolated(engine: Engine) {
    let registry = TestRegistry::start(RegistryAuth::None);
    let dir = tempfile::tempdir().unwrap();
    let (_, tag) = push(&registry, dir.path(), &app_image("2.19.1"), "app/shared:v1");
    let host = registry.host();
    let server = TestServer::start_with(engine, move |config: &mut ServiceConfig| {
        config.analyzer.insecure_registries = vec![host];
    })
    .await;
    sync_feeds(&server).await;
    add_other_account(&server).await;
    let digest = add_by_tag(&server, &tag).await["imageDigest"].as_str().unwrap().to_owned();
    let image = wait_analysis(&server, &digest, None).await;
    let image_id = image["image_detail"][0]["imageId"].as_str().unwrap().to_owned();

    for path in [
        format!("/images/{digest}"),
        format!("/images/{digest}/content"),
        format!("/images/{digest}/content/os"),
        format!("/images/{digest}/metadata"),
        format!("/images/{digest}/metadata/manifest"),
        format!("/images/{digest}/vuln"),
        format!("/images/{digest}/vuln/all"),
        format!("/images/{digest}/sboms/native"),
        format!("/images/by_id/{image_id}"),
        format!("/images/by_id/{image_id}/vuln/os"),
        format!("/images/by_id/{image_id}/content/os"),
    ] {
        let (status, body) = send(other(&server, Method::GET, &path)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }
    let (status, _) = send(other(&server, Method::DELETE, &format!("/images/{digest}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for path in ["/images".to_owned(), format!("/images?fulltag={tag}"), "/summaries/imagetags".to_owned()] {
        let (status, body) = send(other(&server, Method::GET, &path)).await;
        assert_eq!((status, body), (StatusCode::OK, json!([])), "{path}");
    }
    for path in
        ["/query/images/by_vulnerability?vulnerability_id=CVE-2024-0727", "/query/images/by_package?name=requests"]
    {
        let (_, body) = send(other(&server, Method::GET, path)).await;
        assert_eq!(body["images"], json!([]), "{path}");
    }
    // A non-admin cannot act for the admin account.
    let (status, _) = send(other(&server, Method::GET, "/images").header("x-anchore-account", "admin")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The same digest in the other account is its own image, analysed on its own.
    let (status, added) = send(other(&server, Method::POST, "/images").json(&json!({"tag": tag}))).await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added[0]["userId"], "other");
    let theirs =
        wait_analysis(&server, &digest, Some((common::images::OTHER_USER, common::images::OTHER_PASSWORD))).await;
    assert_eq!(theirs["analysis_status"], "analyzed");
    // Its tag has an active subscription (analysis_update, made on add): refused
    // without force, as in Anchore; force switches the subscriptions off.
    let (status, refused) = send(other(&server, Method::DELETE, &format!("/images/{digest}"))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("active subscriptions"), "{refused}");
    let (status, _) = send(other(&server, Method::DELETE, &format!("/images/{digest}?force=true"))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, subscriptions) = send(other(&server, Method::GET, "/subscriptions")).await;
    let subscriptions = subscriptions.as_array().unwrap();
    assert!(!subscriptions.is_empty() && subscriptions.iter().all(|s| s["active"] == false), "{subscriptions:?}");
    let (status, mine) = send(server.admin(Method::GET, &format!("/images/{digest}"))).await;
    assert_eq!(status, StatusCode::OK, "deleting theirs left mine: {mine}");
    server.stop().await;
}

#[tokio::test]
async fn accounts_are_isolated_on_sqlite() {
    accounts_are_isolated(Engine::Sqlite).await;
}

#[tokio::test]
async fn accounts_are_isolated_on_postgres() {
    accounts_are_isolated(Engine::Postgres).await;
}

/// A report is recomputed when the vulnerability data changes.
async fn reports_follow_the_data(engine: Engine) {
    let registry = TestRegistry::start(RegistryAuth::None);
    let dir = tempfile::tempdir().unwrap();
    let (_, tag) = push(&registry, dir.path(), &app_image("2.19.1"), "app/refresh:v1");
    let host = registry.host();
    let server = TestServer::start_with(engine, move |config: &mut ServiceConfig| {
        config.analyzer.insecure_registries = vec![host];
    })
    .await;
    let digest = add_by_tag(&server, &tag).await["imageDigest"].as_str().unwrap().to_owned();
    assert_eq!(wait_analysis(&server, &digest, None).await["analysis_status"], "analyzed");
    let state = server.service.as_ref().unwrap().state();
    // No data yet: a clear answer, not an empty list.
    let (status, body) = send(server.admin(Method::GET, &format!("/images/{digest}/vuln/all"))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(portcullis_service::vulns::refresh_reports(state).await.unwrap(), 0);
    sync_feeds(&server).await;
    assert_eq!(portcullis_service::vulns::refresh_reports(state).await.unwrap(), 1, "the new data changed the report");
    assert_eq!(portcullis_service::vulns::refresh_reports(state).await.unwrap(), 0, "nothing changed since");
    let result = portcullis_service::vulns::scan_result(state, "admin", &digest).await.unwrap().unwrap();
    assert!(result.findings.iter().any(|f| f.id == "CVE-2024-0727"));
    let (_, found) =
        send(server.admin(Method::GET, "/query/images/by_vulnerability?vulnerability_id=CVE-2018-18074")).await;
    assert_eq!(found["images"][0]["image"]["imageDigest"], digest.as_str(), "the refresh indexed the findings");
    assert!(portcullis_service::vulns::scan_result(state, "admin", "sha256:unknown").await.unwrap().is_none());
    let sbom = portcullis_service::images::load_sbom(state, "admin", &digest).await.unwrap().unwrap();
    assert!(sbom.packages.iter().any(|p| p.name == "libssl3"));
    server.stop().await;
}

#[tokio::test]
async fn reports_follow_the_data_on_sqlite() {
    reports_follow_the_data(Engine::Sqlite).await;
}

#[tokio::test]
async fn reports_follow_the_data_on_postgres() {
    reports_follow_the_data(Engine::Postgres).await;
}
