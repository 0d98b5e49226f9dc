//! Policy bundles (`/policies`), image evaluation (`/images/{digest}/check`),
//! the gate catalog (`/system/policy_spec`) and the functions the
//! `policy_eval` watcher uses, against a real service on SQLite and on
//! PostgreSQL, with images analysed from a real registry, and through the
//! real `anchore-cli`.

mod common;

use common::{Engine, TestServer};
use portcullis_service::config::ServiceConfig;
use portcullis_testkit::anchore_cli::AnchoreCli;
use portcullis_testkit::{Image, Layer, OciLayout, PushOptions, RegistryAuth, TestRegistry, push_oci_layout};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const TEAM_USER: &str = "team-user";
const TEAM_PASSWORD: &str = "team-password";

/// A v1 bundle whose only rule fires on every image, with an allowlist that
/// silences a second, identical rule's WARN.
fn always_stop_bundle(id: &str) -> Value {
    json!({
        "id": id, "name": format!("{id} name"), "comment": "stops everything", "version": "1_0",
        "policies": [{"id": "p1", "name": "always", "version": "1_0", "rules": [
            {"id": "r1", "gate": "always", "trigger": "always", "action": "STOP", "params": []}]}],
        "whitelists": [{"id": "w1", "name": "nothing allowed", "version": "1_0", "items": []}],
        "mappings": [{"id": "m1", "name": "everything", "registry": "*", "repository": "*",
            "image": {"type": "tag", "value": "*"}, "policy_ids": ["p1"], "whitelist_ids": ["w1"]}],
        "whitelisted_images": [], "blacklisted_images": []
    })
}

/// The same rule, allowlisted by trigger id (`always` matches have the md5 default id: `*` covers it).
fn allowlisted_bundle(id: &str) -> Value {
    let mut bundle = always_stop_bundle(id);
    bundle["whitelists"][0]["items"] = json!([{"id": "i1", "gate": "always", "trigger_id": "*"}]);
    bundle["whitelists"][0]["name"] = json!("allow all");
    bundle
}

/// A v2-named bundle (`rule_sets`, `allowlists`, `description`) that finds
/// nothing: a package that no image has.
fn v2_pass_bundle(id: &str) -> Value {
    json!({
        "id": id, "name": "v2 bundle", "description": "nothing to see", "version": "V2",
        "rule_sets": [{"id": "rs1", "name": "packages", "version": "V2", "rules": [
            {"id": "r1", "gate": "packages", "trigger": "denylist", "action": "STOP",
             "params": [{"name": "name", "value": "definitely-not-installed"}]}]}],
        "allowlists": [],
        "mappings": [{"id": "m1", "name": "all", "registry": "*", "repository": "*",
            "image": {"type": "tag", "value": "*"}, "rule_set_ids": ["rs1"], "allowlist_ids": []}],
        "allowlisted_images": [], "denylisted_images": []
    })
}

const V2_YAML: &str = "\
id: yaml-bundle
name: from YAML
version: V2
rule_sets:
  - id: rs1
    version: V2
    rules:
      - id: r1
        gate: dockerfile
        trigger: exposed_ports
        action: WARN
        params:
          - name: ports
            value: 22
          - name: type
            value: denylist
allowlists: []
mappings:
  - id: m1
    registry: '*'
    repository: '*'
    image: {type: tag, value: '*'}
    rule_set_ids: [rs1]
";

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) })
}

/// A second, non-admin account with one user, written as the accounts
/// routes would (they belong to another area).
async fn add_team_account(server: &TestServer) {
    let db = &server.service.as_ref().unwrap().state().db;
    let now = portcullis_sql::now_rfc3339();
    sqlx::query(
        "INSERT INTO accounts (name, email, account_type, state, created_at, last_updated)
         VALUES ('team', NULL, 'user', 'enabled', $1, $1)",
    )
    .bind(&now)
    .execute(db.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO users (username, account, password_hash, source, created_at, last_updated)
         VALUES ($1, 'team', $2, 'native', $3, $3)",
    )
    .bind(TEAM_USER)
    .bind(portcullis_service::auth::hash_password(TEAM_PASSWORD).unwrap())
    .bind(&now)
    .execute(db.pool())
    .await
    .unwrap();
}

fn team(server: &TestServer, method: Method, path: &str) -> reqwest::RequestBuilder {
    server.as_user(TEAM_USER, TEAM_PASSWORD, method, path)
}

async fn bundle_routes(engine: Engine) {
    let server = TestServer::start(engine).await;
    add_team_account(&server).await;

    let (status, _) = send(server.client.get(server.url("/policies"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The first look installs the default bundle, active.
    let (status, list) = send(server.admin(Method::GET, "/policies")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["policyId"], "portcullis-default");
    assert_eq!(list[0]["active"], true);
    assert_eq!(list[0]["userId"], "admin");
    assert_eq!(list[0]["policy_source"], "local");
    assert!(list[0].get("policybundle").is_none(), "{list}");

    // A v1 bundle, a v2 one and a YAML one; new bundles are inactive.
    let (status, added) = send(server.admin(Method::POST, "/policies").json(&always_stop_bundle("b1"))).await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["policyId"], "b1");
    assert_eq!(added["active"], false);
    assert_eq!(added["name"], "b1 name");
    assert_eq!(added["comment"], "stops everything");
    let (status, added) = send(server.admin(Method::POST, "/policies?detail=true").json(&v2_pass_bundle("b2"))).await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["policybundle"]["rule_sets"][0]["id"], "rs1");
    assert_eq!(added["comment"], "nothing to see");
    let (status, added) = send(server.admin(Method::POST, "/policies").body(V2_YAML)).await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["policyId"], "yaml-bundle");
    let (_, got) = send(server.admin(Method::GET, "/policies/yaml-bundle?detail=true")).await;
    assert_eq!(got[0]["policybundle"]["rule_sets"][0]["rules"][0]["gate"], "dockerfile", "{got}");

    let (_, list) = send(server.admin(Method::GET, "/policies?detail=True")).await;
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|r| r["policyId"].as_str().unwrap()).collect();
    assert_eq!(ids, ["portcullis-default", "b1", "b2", "yaml-bundle"]);
    assert!(list.as_array().unwrap().iter().all(|r| r["policybundle"]["id"] == r["policyId"]), "{list}");

    let (status, got) = send(server.admin(Method::GET, "/policies/b1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got.as_array().unwrap().len(), 1);
    assert!(got[0].get("policybundle").is_none());
    let (status, missing) = send(server.admin(Method::GET, "/policies/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(missing["message"].as_str().unwrap().contains("\"nope\" not found"), "{missing}");
    let (status, bad_query) = send(server.admin(Method::GET, "/policies?detail=maybe")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad_query}");

    // Invalid bundles: every problem, located.
    let mut invalid = always_stop_bundle("bad");
    invalid["policies"][0]["rules"] = json!([
        {"id": "r1", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
         "params": [{"name": "severity", "value": "apocalyptic"}, {"name": "package_type", "value": "all"}]},
        {"id": "r2", "gate": "always", "trigger": "sometimes", "action": "STOP", "params": []}]);
    let (status, error) = send(server.admin(Method::POST, "/policies").json(&invalid)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["httpcode"], 400);
    let details: Vec<&str> =
        error["detail"]["validation_details"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert_eq!(details.len(), 2, "{error}");
    assert!(details[0].starts_with("policy \"p1\" rule \"r1\" (vulnerabilities/package)"), "{details:?}");
    assert!(details[0].contains("apocalyptic"), "{details:?}");
    assert!(details[1].starts_with("policy \"p1\" rule \"r2\""), "{details:?}");
    assert!(details[1].contains("sometimes"), "{details:?}");
    let mut eol = always_stop_bundle("old");
    eol["policies"][0]["rules"] =
        json!([{"id": "r1", "gate": "anchoresec", "trigger": "vulnhigh", "action": "STOP", "params": []}]);
    let (status, error) = send(server.admin(Method::POST, "/policies").json(&eol)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(error["message"].as_str().unwrap().contains("end of life"), "{error}");
    assert!(error["message"].as_str().unwrap().contains("\"vulnerabilities\""), "{error}");
    let (status, error) = send(server.admin(Method::POST, "/policies").body("{not json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(error["message"].as_str().unwrap().contains("not valid JSON"), "{error}");
    let mut slash = always_stop_bundle("a/b");
    slash["name"] = json!("slashed");
    let (status, _) = send(server.admin(Method::POST, "/policies").json(&slash)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, list) = send(server.admin(Method::GET, "/policies")).await;
    assert_eq!(list.as_array().unwrap().len(), 4, "a rejected bundle is not stored: {list}");

    // Activation as anchore-cli does it: GET with detail, flip, PUT the record.
    let (_, got) = send(server.admin(Method::GET, "/policies/b1?detail=True")).await;
    let mut record = got[0].clone();
    record["active"] = json!(true);
    let (status, updated) = send(server.admin(Method::PUT, "/policies/b1").json(&record)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated[0]["active"], true);
    let (_, list) = send(server.admin(Method::GET, "/policies")).await;
    let active: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["active"] == true)
        .map(|r| r["policyId"].as_str().unwrap())
        .collect();
    assert_eq!(active, ["b1"], "{list}");

    // The active bundle can be neither deactivated nor deleted.
    let (status, error) = send(server.admin(Method::PUT, "/policies/b1").json(&json!({"active": false}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert!(error["message"].as_str().unwrap().contains("cannot be deactivated"), "{error}");
    let (status, error) = send(server.admin(Method::DELETE, "/policies/b1")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{error}");
    assert!(error["message"].as_str().unwrap().contains("activate another bundle first"), "{error}");

    // PUT errors: unknown bundle, unreadable body, another bundle's document, an invalid document.
    let (status, _) = send(server.admin(Method::PUT, "/policies/nope").json(&json!({"active": true}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.admin(Method::PUT, "/policies/b2").body("[1,2")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, error) =
        send(server.admin(Method::PUT, "/policies/b2").json(&json!({"policybundle": always_stop_bundle("b1")}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(error["message"].as_str().unwrap().contains("differs from the policy id"), "{error}");
    let (status, _) =
        send(server.admin(Method::PUT, "/policies/b1").json(&json!({"policybundle": {"id": "b1", "version": "9"}})))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Replacing a document (PUT, or POST with the same id) keeps the active flag.
    let mut renamed = always_stop_bundle("b1");
    renamed["name"] = json!("renamed");
    let (status, updated) = send(server.admin(Method::POST, "/policies").json(&renamed)).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!((updated["name"].as_str(), updated["active"].as_bool()), (Some("renamed"), Some(true)));
    renamed["name"] = json!("renamed again");
    let (status, updated) =
        send(server.admin(Method::PUT, "/policies/b1").json(&json!({"policybundle": renamed}))).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated[0]["name"], "renamed again");
    assert_eq!(updated[0]["active"], true);
    let (status, updated) = send(server.admin(Method::PUT, "/policies/b2?active=true").json(&json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated[0]["active"], true);

    // Inactive bundles can be deleted, once.
    let (status, _) = send(server.admin(Method::DELETE, "/policies/portcullis-default")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(server.admin(Method::GET, "/policies/portcullis-default")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.admin(Method::DELETE, "/policies/portcullis-default")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Another account sees only its own (default) bundle, and none of admin's.
    let (status, list) = send(team(&server, Method::GET, "/policies")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!((list[0]["policyId"].as_str(), list[0]["userId"].as_str()), (Some("portcullis-default"), Some("team")));
    for (method, body) in [(Method::GET, None), (Method::PUT, Some(json!({"active": true}))), (Method::DELETE, None)] {
        let mut request = team(&server, method.clone(), "/policies/b1");
        if let Some(body) = body {
            request = request.json(&body);
        }
        let (status, _) = send(request).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} as another account");
    }
    let (_, admin_list) = send(server.admin(Method::GET, "/policies")).await;
    assert!(admin_list.as_array().unwrap().iter().all(|r| r["userId"] == "admin"), "{admin_list}");
    // An admin acting for the account sees the account's bundles; a user cannot act for admin.
    let (_, as_team) = send(server.admin(Method::GET, "/policies").header("x-anchore-account", "team")).await;
    assert_eq!(as_team, list);
    let (status, _) = send(team(&server, Method::GET, "/policies").header("x-anchore-account", "admin")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    server.stop().await;
}

#[tokio::test]
async fn bundle_routes_on_sqlite() {
    bundle_routes(Engine::Sqlite).await;
}

#[tokio::test]
async fn bundle_routes_on_postgres() {
    bundle_routes(Engine::Postgres).await;
}

async fn policy_spec(engine: Engine) {
    let server = TestServer::start(engine).await;
    let (status, _) = send(server.client.get(server.url("/system/policy_spec"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, spec) = send(server.admin(Method::GET, "/system/policy_spec")).await;
    assert_eq!(status, StatusCode::OK);
    let gates = spec.as_array().unwrap();
    let table = portcullis_policy::spec::all_gates();
    assert_eq!(gates.len(), table.len());
    for (gate, expected) in gates.iter().zip(table) {
        assert_eq!(gate["name"], expected.name);
        assert_eq!(gate["triggers"].as_array().unwrap().len(), expected.triggers.len(), "{gate}");
        for (trigger, expected) in gate["triggers"].as_array().unwrap().iter().zip(expected.triggers) {
            assert_eq!(trigger["name"], expected.name);
            assert_eq!(trigger["state"], "active");
            let names: Vec<&str> =
                trigger["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
            assert_eq!(names, expected.params.iter().map(|p| p.name).collect::<Vec<_>>());
        }
    }
    let gate = |name: &str| gates.iter().find(|g| g["name"] == name).unwrap();
    let anchoresec = gate("anchoresec");
    assert_eq!(
        (anchoresec["state"].as_str(), anchoresec["superceded_by"].as_str()),
        (Some("eol"), Some("vulnerabilities"))
    );
    assert_eq!(gate("suiddiff")["superceded_by"], Value::Null);
    let package =
        gate("vulnerabilities")["triggers"].as_array().unwrap().iter().find(|t| t["name"] == "package").unwrap();
    let param = |name: &str| package["parameters"].as_array().unwrap().iter().find(|p| p["name"] == name).unwrap();
    assert_eq!(param("package_type")["required"], true);
    assert_eq!(param("severity")["validator"]["enum"][0], "unknown");
    assert_eq!(param("severity_comparison")["example"], ">");
    assert!(param("vendor_only")["description"].as_str().unwrap().contains("Default: true"), "{package}");
    server.stop().await;
}

#[tokio::test]
async fn policy_spec_on_sqlite() {
    policy_spec(Engine::Sqlite).await;
}

#[tokio::test]
async fn policy_spec_on_postgres() {
    policy_spec(Engine::Postgres).await;
}

/// A registry holding one small Debian-like image, and a service allowed to
/// reach it over plain HTTP.
struct Fixture {
    server: TestServer,
    _registry: TestRegistry,
    _layout: tempfile::TempDir,
    /// `HOST/policy/app:v1`
    tag: String,
    digest: String,
    image_id: String,
}

async fn analysed_image(engine: Engine) -> Fixture {
    let registry = TestRegistry::start(RegistryAuth::None);
    let dir = tempfile::tempdir().unwrap();
    let mut layout = OciLayout::create(dir.path());
    let status = "Package: base-files\nStatus: install ok installed\nVersion: 12.4\nArchitecture: amd64\n\n";
    let image = Image::new().layer(Layer::gzip().files([
        ("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12\"\n"),
        ("var/lib/dpkg/status", status),
    ]));
    let built = layout.add_image("latest", &image);
    let tag = push_oci_layout(dir.path(), "latest", &registry, "policy/app:v1", PushOptions::oci());
    let host = registry.host();
    let server = TestServer::start_with(engine, move |config: &mut ServiceConfig| {
        config.analyzer.insecure_registries = vec![host];
    })
    .await;
    let (status, added) =
        send(server.admin(Method::POST, "/images").json(&json!({"source": {"tag": {"pullstring": tag}}}))).await;
    assert_eq!(status, StatusCode::OK, "{added}");
    let digest = added[0]["imageDigest"].as_str().unwrap().to_owned();
    assert_eq!(digest, built.manifest_digest);
    // Analysis takes as long as it takes: poll until it ends either way.
    loop {
        let (_, image) = send(server.admin(Method::GET, &format!("/images/{digest}"))).await;
        match image[0]["analysis_status"].as_str() {
            Some("analyzed") => break,
            Some("analysis_failed") => panic!("the analysis failed: {image}"),
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let image_id = built.config_digest.trim_start_matches("sha256:").to_owned();
    Fixture { server, _registry: registry, _layout: dir, tag, digest, image_id }
}

fn check_path(digest: &str, query: &str) -> String {
    format!("/images/{digest}/check?{query}")
}

async fn check_routes(engine: Engine) {
    let Fixture { server, tag, digest, image_id, .. } = analysed_image(engine).await;
    add_team_account(&server).await;
    for bundle in [always_stop_bundle("stop"), allowlisted_bundle("allow"), v2_pass_bundle("pass")] {
        let (status, body) = send(server.admin(Method::POST, "/policies").json(&bundle)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Without policyId: the active bundle, the default one; no detail unless asked.
    let (status, result) = send(server.admin(Method::GET, &check_path(&digest, &format!("tag={tag}")))).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let record = &result[0][&digest][&tag][0];
    assert_eq!(record["policyId"], "portcullis-default", "{result}");
    assert!(record["last_evaluation"].as_str().unwrap().ends_with('Z'), "{result}");
    assert!(record.get("detail").is_none(), "{result}");

    // A bundle that stops everything, with the positional table.
    let (status, result) =
        send(server.admin(Method::GET, &check_path(&digest, &format!("tag={tag}&policyId=stop&detail=true")))).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let record = &result[0][&digest][&tag][0];
    assert_eq!(record["status"], "fail");
    assert_eq!(record["policyId"], "stop");
    let evaluation = &record["detail"]["result"];
    assert_eq!(record["detail"]["policy"]["id"], "stop");
    assert_eq!(evaluation["image_id"], image_id);
    assert_eq!(evaluation["image_digest"], digest);
    assert_eq!(evaluation["tag"], tag);
    assert_eq!(evaluation["final_action"], "stop");
    assert_eq!(evaluation["final_action_reason"], "policy_evaluation");
    assert_eq!(evaluation["matched_mapping_rule"]["name"], "everything");
    assert_eq!(evaluation["matched_whitelisted_images_rule"], false);
    assert_eq!(evaluation["result"]["whitelist_names"], json!(["nothing allowed"]));
    let table = &evaluation["result"][&image_id]["result"];
    assert_eq!(table["header"], json!(portcullis_api::GateTable::HEADER));
    assert_eq!(table["row_count"], 1);
    assert_eq!(table["final_action"], "stop");
    let row = table["rows"][0].as_array().unwrap();
    assert_eq!(row[0], image_id.as_str());
    assert_eq!(row[1], tag.as_str());
    assert_eq!((row[3].as_str(), row[4].as_str(), row[6].as_str()), (Some("always"), Some("always"), Some("stop")));
    assert_eq!((&row[7], row[8].as_str()), (&json!(false), Some("p1")));

    // Allowlisted: the row says by what, the verdict is GO.
    let (_, result) =
        send(server.admin(Method::GET, &check_path(&digest, &format!("tag={tag}&policyId=allow&detail=true")))).await;
    let record = &result[0][&digest][&tag][0];
    assert_eq!(record["status"], "pass", "{result}");
    let row = &record["detail"]["result"]["result"][&image_id]["result"]["rows"][0];
    assert_eq!(row[6], "go");
    assert_eq!(row[7], json!({"whitelist_name": "allow all", "whitelist_id": "w1", "matched_rule_id": "i1"}));

    // A denylisted image stops whatever the policies say; the matching entry is reported.
    let mut denied = v2_pass_bundle("deny");
    let repository = tag.split_once('/').unwrap().1.split(':').next().unwrap().to_owned();
    denied["denylisted_images"] = json!([
        {"id": "d0", "name": "other", "registry": "*", "repository": "elsewhere/*", "image": {"type": "tag", "value": "*"}},
        {"id": "d1", "name": "this one", "registry": "*", "repository": repository, "image": {"type": "tag", "value": "v*"}}]);
    let (status, body) = send(server.admin(Method::POST, "/policies").json(&denied)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, result) =
        send(server.admin(Method::GET, &check_path(&digest, &format!("tag={tag}&policyId=deny&detail=true")))).await;
    let evaluation = &result[0][&digest][&tag][0]["detail"]["result"];
    assert_eq!(evaluation["final_action"], "stop", "{result}");
    assert_eq!(evaluation["final_action_reason"], "blacklisted");
    assert_eq!(evaluation["matched_blacklisted_images_rule"]["id"], "d1");
    assert_eq!(evaluation["result"][&image_id]["result"]["final_action"], "go", "the table keeps the policy verdict");

    // The active bundle is used without policyId; every stored evaluation is in the history.
    let (status, _) = send(server.admin(Method::PUT, "/policies/pass").json(&json!({"active": true}))).await;
    assert_eq!(status, StatusCode::OK);
    let (_, result) = send(server.admin(Method::GET, &check_path(&digest, &format!("tag={tag}")))).await;
    assert_eq!(result[0][&digest][&tag][0]["status"], "pass");
    assert_eq!(result[0][&digest][&tag][0]["policyId"], "pass");
    let (_, result) =
        send(server.admin(Method::GET, &check_path(&digest, &format!("tag={tag}&history=true&detail=true")))).await;
    let history = result[0][&digest][&tag].as_array().unwrap();
    let policies: Vec<&str> = history.iter().map(|r| r["policyId"].as_str().unwrap()).collect();
    assert_eq!(policies, ["pass", "pass", "deny", "allow", "stop", "portcullis-default"], "newest first");
    assert_eq!(history[4]["detail"]["result"]["final_action"], "stop");
    assert_eq!(history[4]["detail"]["policy"]["id"], "stop");

    // Interactive evaluations are answered, not stored.
    let (_, result) =
        send(server.admin(
            Method::GET,
            &check_path(&digest, &format!("tag={tag}&policyId=stop&interactive=true&history=true")),
        ))
        .await;
    let history = result[0][&digest][&tag].as_array().unwrap();
    assert_eq!(history.len(), 7, "the interactive one first, then the 6 stored: {result}");
    assert_eq!(history[0]["status"], "fail");
    let (_, result) = send(server.admin(Method::GET, &check_path(&digest, &format!("tag={tag}&history=true")))).await;
    assert_eq!(result[0][&digest][&tag].as_array().unwrap().len(), 7, "6 stored + this one");

    // By image id: the same evaluation, keyed by digest.
    let (status, result) =
        send(server.admin(Method::GET, &format!("/images/by_id/{image_id}/check?tag={tag}&policyId=stop"))).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result[0][&digest][&tag][0]["status"], "fail");
    let (status, _) =
        send(server.admin(Method::GET, &format!("/images/by_id/{}/check?tag={tag}", "0".repeat(64)))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Errors.
    let (status, error) = send(server.admin(Method::GET, &check_path(&digest, ""))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert!(error["message"].as_str().unwrap().contains("tag"), "{error}");
    let (status, _) = send(server.admin(Method::GET, &check_path(&digest, "tag="))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, error) = send(server.admin(Method::GET, &check_path(&digest, "tag=registry/:v1"))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let (status, error) =
        send(server.admin(Method::GET, &check_path(&digest, &format!("tag={tag}&policyId=nope")))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert!(error["message"].as_str().unwrap().contains("\"nope\""), "{error}");
    let unknown = format!("sha256:{}", "1".repeat(64));
    let (status, _) = send(server.admin(Method::GET, &check_path(&unknown, &format!("tag={tag}")))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(server.client.get(server.url(&check_path(&digest, &format!("tag={tag}"))))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Another account can neither evaluate the image nor read its history.
    let (status, _) = send(team(&server, Method::GET, &check_path(&digest, &format!("tag={tag}&history=true")))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = send(team(&server, Method::GET, &format!("/images/by_id/{image_id}/check?tag={tag}"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An image not analysed yet: 404 saying so.
    let pending = format!("sha256:{}", "2".repeat(64));
    let db = &server.service.as_ref().unwrap().state().db;
    sqlx::query(
        "INSERT INTO images (account, digest, analysis_status, image_status, annotations, pull_reference, created_at,
                             created_seq, last_updated, record_version)
         VALUES ('admin', $1, 'not_analyzed', 'active', '{}', 'x/y:z', $2, 0, $2, 1)",
    )
    .bind(&pending)
    .bind(portcullis_sql::now_rfc3339())
    .execute(db.pool())
    .await
    .unwrap();
    let (status, error) = send(server.admin(Method::GET, &check_path(&pending, "tag=x/y:z"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{error}");
    assert_eq!(error["detail"]["analysis_status"], "not_analyzed", "{error}");
    assert!(error["message"].as_str().unwrap().contains("not analyzed"), "{error}");

    // What the policy_eval watcher calls.
    let state = server.service.as_ref().unwrap().state().clone();
    let stored = portcullis_service::evaluations::evaluate_and_store(&state, "admin", &digest, &tag).await.unwrap();
    assert_eq!(stored.policy_id, "pass");
    assert_eq!(stored.final_action, portcullis_policy::model::Action::Go);
    let last = portcullis_service::evaluations::last_evaluation(&state, "admin", &digest, &tag).await.unwrap();
    assert_eq!(last, Some(stored.clone()));
    let record = serde_json::to_value(&stored).unwrap();
    assert_eq!((record["final_action"].as_str(), record["status"].as_str()), (Some("go"), Some("pass")));
    assert_eq!(record["imageDigest"], digest.as_str());
    assert_eq!(portcullis_service::evaluations::last_evaluation(&state, "team", &digest, &tag).await.unwrap(), None);
    let error =
        portcullis_service::evaluations::evaluate_and_store(&state, "admin", &pending, "x/y:z").await.unwrap_err();
    assert!(matches!(error, portcullis_service::evaluations::EvaluationError::NotAnalyzed { .. }), "{error}");

    server.stop().await;
}

#[tokio::test]
async fn check_routes_on_sqlite() {
    check_routes(Engine::Sqlite).await;
}

#[tokio::test]
async fn check_routes_on_postgres() {
    check_routes(Engine::Postgres).await;
}

/// `anchore-cli policy ...` and `evaluate check` with its exit codes.
/// A bundle that stops on every vulnerability except those of the base image's packages.
fn own_findings_bundle(id: &str) -> Value {
    json!({
        "id": id, "name": "own findings", "version": "1_0",
        "policies": [{"id": "p1", "name": "vulns", "version": "1_0", "rules": [
            {"id": "r1", "gate": "vulnerabilities", "trigger": "package", "action": "STOP", "params": [
                {"name": "package_type", "value": "all"},
                {"name": "severity_comparison", "value": ">="},
                {"name": "severity", "value": "unknown"},
                {"name": "ignore_base_image_findings", "value": "true"}]}]}],
        "whitelists": [],
        "mappings": [{"id": "m1", "name": "all", "registry": "*", "repository": "*",
            "image": {"type": "tag", "value": "*"}, "policy_ids": ["p1"], "whitelist_ids": []}],
        "whitelisted_images": [], "blacklisted_images": []
    })
}

/// The packages (or, for non-OS ones, paths) named in the vulnerabilities rows of a detailed check.
async fn vulnerable_packages(server: &TestServer, digest: &str, tag: &str, query: &str) -> Vec<String> {
    let path = check_path(digest, &format!("tag={tag}&policyId=own&detail=true{query}"));
    let (status, result) = send(server.admin(Method::GET, &path)).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let evaluation = &result[0][digest][tag][0]["detail"]["result"];
    let image_id = evaluation["image_id"].as_str().unwrap();
    let rows = evaluation["result"][image_id]["result"]["rows"].as_array().unwrap().clone();
    let mut packages: Vec<String> = rows
        .iter()
        .filter(|row| row[3] == "vulnerabilities")
        // "<SEVERITY> Vulnerability found in <os|non-os> package type (<type>) - <name or path> (...)"
        .map(|row| {
            let message = row[5].as_str().unwrap();
            let name = message.split(") - ").nth(1).and_then(|rest| rest.split_whitespace().next());
            name.unwrap_or_else(|| panic!("no package in {message:?}")).to_owned()
        })
        .collect();
    packages.sort();
    packages.dedup();
    packages
}

/// The base image's findings are told apart (`ignore_base_image_findings`)
/// when the base is known: named by `base_digest`, or by the image's
/// `org.opencontainers.image.base.name` label once that image is analysed
/// in the catalog. Unknown, they count as the image's own.
async fn base_image_findings(engine: Engine) {
    use common::images::{add_by_tag, app_image, debian_base, push, python_app, sync_feeds, wait_analysis};
    let registry = TestRegistry::start(RegistryAuth::None);
    let dir = tempfile::tempdir().unwrap();
    let base_tag = format!("{}/base/deb:12", registry.host());
    // As BuildKit writes them: the digest label names the base's index,
    // which the catalog does not hold, so the name label decides.
    let index_digest = format!("sha256:{}", "9".repeat(64));
    let labelled = app_image("2.19.1")
        .label(portcullis_sbom::BASE_NAME_LABEL, &base_tag)
        .label(portcullis_sbom::BASE_DIGEST_LABEL, &index_digest);
    let (_, labelled_tag) = push(&registry, dir.path(), &labelled, "app/labelled:1");
    let (_, plain_tag) = push(&registry, dir.path(), &app_image("2.19.1"), "app/plain:1");
    let host = registry.host();
    let server = TestServer::start_with(engine, move |config: &mut ServiceConfig| {
        config.analyzer.insecure_registries = vec![host];
    })
    .await;
    sync_feeds(&server).await;
    let (status, body) = send(server.admin(Method::POST, "/policies").json(&own_findings_bundle("own"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let labelled_digest = add_by_tag(&server, &labelled_tag).await["imageDigest"].as_str().unwrap().to_owned();
    let plain_digest = add_by_tag(&server, &plain_tag).await["imageDigest"].as_str().unwrap().to_owned();
    wait_analysis(&server, &labelled_digest, None).await;
    wait_analysis(&server, &plain_digest, None).await;

    // The labelled base is not in the catalog yet: every finding is the image's.
    const REQUESTS: &str = "/usr/lib/python3/dist-packages/requests-2.19.1.dist-info/METADATA";
    let both = [REQUESTS, "libssl3", "tar"];
    assert_eq!(vulnerable_packages(&server, &labelled_digest, &labelled_tag, "").await, both);

    // Once it is, its layer (the Debian one, with libssl3) is the base's.
    let (_, pushed) =
        push(&registry, dir.path(), &portcullis_testkit::Image::new().layer(debian_base()), "base/deb:12");
    assert_eq!(pushed, base_tag);
    let base_digest = add_by_tag(&server, &base_tag).await["imageDigest"].as_str().unwrap().to_owned();
    wait_analysis(&server, &base_digest, None).await;
    assert_eq!(vulnerable_packages(&server, &labelled_digest, &labelled_tag, "").await, [REQUESTS]);

    // An image without labels: split only when base_digest names the base.
    assert_eq!(vulnerable_packages(&server, &plain_digest, &plain_tag, "").await, both);
    let named = format!("&base_digest={base_digest}");
    assert_eq!(vulnerable_packages(&server, &plain_digest, &plain_tag, &named).await, [REQUESTS]);
    // A base with every layer of the image leaves nothing of its own; one
    // whose first layer differs shares none, however alike the rest.
    let everything = format!("&base_digest={labelled_digest}");
    assert!(vulnerable_packages(&server, &plain_digest, &plain_tag, &everything).await.is_empty());
    let other = portcullis_testkit::Image::new().layer(python_app("2.20.0")).layer(python_app("2.19.1"));
    let (_, other_tag) = push(&registry, dir.path(), &other, "other/base:1");
    let other_digest = add_by_tag(&server, &other_tag).await["imageDigest"].as_str().unwrap().to_owned();
    wait_analysis(&server, &other_digest, None).await;
    let unrelated = format!("&base_digest={other_digest}");
    assert_eq!(vulnerable_packages(&server, &plain_digest, &plain_tag, &unrelated).await, both);

    // A base_digest that is not an analysed image of the account is refused.
    let unknown = format!("sha256:{}", "3".repeat(64));
    let path = check_path(&plain_digest, &format!("tag={plain_tag}&policyId=own&base_digest={unknown}"));
    let (status, error) = send(server.admin(Method::GET, &path)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains(&unknown) && message.contains("not in this account's catalog"), "{error}");
    server.stop().await;
}

#[tokio::test]
async fn base_image_findings_on_sqlite() {
    base_image_findings(Engine::Sqlite).await;
}

#[tokio::test]
async fn base_image_findings_on_postgres() {
    base_image_findings(Engine::Postgres).await;
}

async fn anchore_cli(engine: Engine) {
    let Fixture { server, tag, .. } = analysed_image(engine).await;
    let files = tempfile::tempdir().unwrap();
    let write = |name: &str, bundle: &Value| {
        let path = files.path().join(name);
        std::fs::write(&path, serde_json::to_vec(bundle).unwrap()).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let stop_file = write("stop.json", &always_stop_bundle("stop"));
    let pass_file = write("pass.json", &v2_pass_bundle("pass"));
    let base = server.base.clone();
    let tag_for_cli = tag.clone();
    // anchore-cli is a blocking subprocess: keep it off the runtime's threads.
    tokio::task::spawn_blocking(move || {
        let cli = AnchoreCli::new(base, "admin", common::ADMIN_PASSWORD);
        let run = |args: &[&str]| {
            let output = cli.run(args);
            (output.code, format!("{}{}", output.stdout, output.stderr))
        };
        let (code, out) = run(&["policy", "add", &stop_file]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("Policy ID: stop") && out.contains("Active: False"), "{out}");
        let (code, out) = run(&["policy", "add", &pass_file]);
        assert_eq!(code, Some(0), "{out}");
        let (code, out) = run(&["policy", "list"]);
        assert_eq!(code, Some(0), "{out}");
        for id in ["portcullis-default", "stop", "pass"] {
            assert!(out.contains(id), "{id} missing from {out}");
        }
        let json = cli.run_json(&["policy", "get", "stop", "--detail"]);
        assert_eq!(json[0]["policybundle"]["id"], "stop", "{json}");
        let (code, out) = run(&["policy", "get", "nope"]);
        assert_eq!(code, Some(1), "{out}");

        let (code, out) = run(&["policy", "activate", "pass"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("Success: pass activated"), "{out}");
        let (code, out) = run(&["evaluate", "check", &tag_for_cli, "--detail"]);
        assert_eq!(code, Some(0), "a passing evaluation exits 0: {out}");
        assert!(out.contains("Status: pass") && out.contains("Policy ID: pass"), "{out}");

        let (code, out) = run(&["policy", "activate", "stop"]);
        assert_eq!(code, Some(0), "{out}");
        let (code, out) = run(&["evaluate", "check", &tag_for_cli, "--detail"]);
        assert_eq!(code, Some(1), "a failing evaluation exits 1: {out}");
        assert!(out.contains("Status: fail") && out.contains("Final Action: stop"), "{out}");
        assert!(out.lines().any(|line| line.starts_with("always") && line.contains("stop")), "{out}");
        let (code, out) = run(&["evaluate", "check", &tag_for_cli, "--show-history"]);
        assert_eq!(code, Some(1), "{out}");
        assert_eq!(out.matches("Status: ").count(), 3, "two stored evaluations and this one: {out}");

        let (code, out) = run(&["policy", "describe"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("vulnerabilities") && !out.contains("anchoresec"), "eol gates only with --all: {out}");
        let (code, out) = run(&["policy", "describe", "--gate", "vulnerabilities", "--trigger", "package"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("severity_comparison"), "{out}");

        let (code, out) = run(&["policy", "del", "stop"]);
        assert_eq!(code, Some(1), "the active bundle stays: {out}");
        assert!(out.contains("cannot be deleted"), "{out}");
        let (code, out) = run(&["policy", "del", "portcullis-default"]);
        assert_eq!(code, Some(0), "{out}");
        let (code, out) = run(&["policy", "list"]);
        assert_eq!(code, Some(0), "{out}");
        assert!(!out.contains("portcullis-default"), "{out}");
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
