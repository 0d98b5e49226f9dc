//! `portcullis evaluate` and `scan --policy` end to end: real analysis, the
//! real feed snapshot, bundles in Anchore's format.

use std::path::{Path, PathBuf};
use std::process::Output;

use portcullis_testkit::layout::{Image, Layer, OciLayout};
use serde_json::{Value, json};

mod common;
use common::{portcullis, synced_db};

/// minimist 1.2.0 (a critical and a moderate advisory), root user, port 22 exposed, no HEALTHCHECK.
fn image(dir: &Path) -> PathBuf {
    let layer =
        Layer::gzip().file("app/node_modules/minimist/package.json", r#"{"name":"minimist","version":"1.2.0"}"#, 0o644);
    let layout = dir.join("layout");
    OciLayout::create(&layout)
        .add_image("latest", &Image::new().layer(layer).port("22/tcp").history("EXPOSE 22/tcp", true));
    layout
}

fn bundle(dir: &Path, name: &str, bundle: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(bundle).unwrap()).unwrap();
    path.display().to_string()
}

fn evaluate(layout: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let source = format!("oci-dir:{}", layout.display());
    let mut args = vec!["evaluate", source.as_str(), "-o", "json"];
    args.extend_from_slice(extra);
    let out: Output = portcullis(&args, synced_db());
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), json, stderr)
}

fn v1_bundle(rules: Value, items: Value, extra: Value) -> Value {
    let mut bundle = json!({
        "id": "b1", "name": "test", "version": "1_0",
        "policies": [{"id": "p1", "name": "p", "version": "1_0", "rules": rules}],
        "whitelists": [{"id": "w1", "name": "w", "version": "1_0", "items": items}],
        "mappings": [{"id": "m1", "name": "all", "registry": "*", "repository": "*", "image": {"type": "tag", "value": "*"},
                      "policy_ids": ["p1"], "whitelist_ids": ["w1"]}],
        "whitelisted_images": [], "blacklisted_images": []
    });
    if let (Some(target), Some(extra)) = (bundle.as_object_mut(), extra.as_object()) {
        target.extend(extra.clone());
    }
    bundle
}

#[test]
fn the_default_bundle_stops_on_a_critical_vulnerability_and_the_ssh_port() {
    let dir = tempfile::tempdir().unwrap();
    let (code, json, stderr) = evaluate(&image(dir.path()), &[]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(json["final_action"], "STOP");
    assert_eq!(json["status"], "fail");
    let fired: Vec<(String, String, String)> = json["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["gate"].as_str().unwrap().into(),
                d["trigger"].as_str().unwrap().into(),
                d["action"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(fired.contains(&("dockerfile".into(), "exposed_ports".into(), "STOP".into())), "{fired:?}");
    assert!(fired.contains(&("dockerfile".into(), "instruction".into(), "WARN".into())), "{fired:?}");
    assert!(fired.contains(&("vulnerabilities".into(), "package".into(), "STOP".into())), "{fired:?}");
    let minimist =
        json["decisions"].as_array().unwrap().iter().find(|d| d["trigger_id"] == "CVE-2021-44906+minimist").unwrap();
    assert_eq!(minimist["action"], "STOP", "Anchore's trigger id for npm: the package directory name");
}

#[test]
fn allowlists_with_reasons_and_expiry_turn_decisions_to_go() {
    let dir = tempfile::tempdir().unwrap();
    let layout = image(dir.path());
    let rules = json!([{"id": "r1", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
                        "params": [{"name": "package_type", "value": "all"}, {"name": "severity_comparison", "value": ">="}, {"name": "severity", "value": "high"}]}]);
    let live = v1_bundle(
        rules.clone(),
        json!([{"id": "i1", "gate": "vulnerabilities", "trigger_id": "CVE-2021-44906+*",
        "expires_on": "2999-01-01T00:00:00Z", "reason": "argv parsing of trusted input only"}]),
        json!({}),
    );
    let (code, json, stderr) = evaluate(&layout, &["--policy", &bundle(dir.path(), "live.json", &live)]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json["final_action"], "GO");
    let decision = &json["decisions"][0];
    assert_eq!(decision["allowlisted"]["item_id"], "i1");
    assert_eq!(decision["allowlisted"]["reason"], "argv parsing of trusted input only");

    let expired = v1_bundle(
        rules,
        json!([{"id": "i1", "gate": "vulnerabilities", "trigger_id": "CVE-2021-44906+*",
        "expires_on": "2020-01-01T00:00:00Z"}]),
        json!({}),
    );
    let (code, json, _) = evaluate(&layout, &["--policy", &bundle(dir.path(), "expired.json", &expired)]);
    assert_eq!(code, Some(1));
    assert!(json["decisions"][0]["allowlisted"].is_null());
}

#[test]
fn mappings_see_the_tag_and_unmapped_images_follow_the_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let layout = image(dir.path());
    let mut only_prod = v1_bundle(
        json!([{"id": "r1", "gate": "always", "trigger": "always", "action": "WARN", "params": []}]),
        json!([]),
        json!({"unmapped": "fail"}),
    );
    only_prod["mappings"][0]["registry"] = json!("registry.example.com");
    only_prod["mappings"][0]["repository"] = json!("prod/*");
    let path = bundle(dir.path(), "prod.json", &only_prod);
    let (code, json, _) = evaluate(&layout, &["--policy", &path]);
    assert_eq!((code, json["final_action_reason"].as_str()), (Some(1), Some("unmapped")));
    let (code, json, stderr) = evaluate(&layout, &["--policy", &path, "--tag", "registry.example.com/prod/api:1.2"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json["mapping"]["id"], "m1");
    assert_eq!(json["final_action"], "WARN");

    // A denylisted image stops whatever the policy says.
    let mut denied = v1_bundle(json!([]), json!([]), json!({}));
    denied["blacklisted_images"] =
        json!([{"registry": "*", "repository": "*", "image": {"type": "tag", "value": "1.2"}}]);
    let (code, json, _) = evaluate(
        &layout,
        &["--policy", &bundle(dir.path(), "deny.json", &denied), "--tag", "registry.example.com/prod/api:1.2"],
    );
    assert_eq!((code, json["final_action_reason"].as_str()), (Some(1), Some("denylisted")));
}

#[test]
fn invalid_bundles_exit_2_naming_the_rule_and_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let layout = image(dir.path());
    let bad = v1_bundle(
        json!([{"id": "r9", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
        "params": [{"name": "severity", "value": "hgh"}]}]),
        json!([]),
        json!({}),
    );
    let (code, _, stderr) = evaluate(&layout, &["--policy", &bundle(dir.path(), "bad.json", &bad)]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("rule \"r9\"") && stderr.contains("severity") && stderr.contains("hgh"), "{stderr}");
    let eol = v1_bundle(
        json!([{"id": "r1", "gate": "anchoresec", "trigger": "vulnhigh", "action": "STOP", "params": []}]),
        json!([]),
        json!({}),
    );
    let (code, _, stderr) = evaluate(&layout, &["--policy", &bundle(dir.path(), "eol.json", &eol)]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("anchoresec") && stderr.contains("vulnerabilities"), "{stderr}");
    let (code, _, stderr) = evaluate(&layout, &["--policy", "/nonexistent/bundle.json"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("/nonexistent/bundle.json"), "{stderr}");
}

#[test]
fn scan_with_a_policy_fails_on_stop_and_shows_the_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let layout = image(dir.path());
    let source = format!("oci-dir:{}", layout.display());
    let rules = json!([{"id": "r1", "gate": "dockerfile", "trigger": "exposed_ports", "action": "STOP",
                        "params": [{"name": "ports", "value": "22"}, {"name": "type", "value": "blacklist"}]}]);
    let path = bundle(dir.path(), "ports.json", &v1_bundle(rules, json!([]), json!({})));
    let out = portcullis(&["scan", &source, "--policy", &path, "-o", "json"], synced_db());
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("exposed_ports") && stderr.contains("policy failed: final action STOP"), "{stderr}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["findings"].as_array().unwrap().len(), 2, "the scan report is still written");
}

#[test]
fn base_image_findings_can_be_left_to_the_base_image() {
    let dir = tempfile::tempdir().unwrap();
    let base_layer = || {
        Layer::gzip().file("base/node_modules/lodash/package.json", r#"{"name":"lodash","version":"4.17.4"}"#, 0o644)
    };
    let own_layer =
        Layer::gzip().file("app/node_modules/moment/package.json", r#"{"name":"moment","version":"2.29.1"}"#, 0o644);
    let base = dir.path().join("base");
    OciLayout::create(&base).add_image("latest", &Image::new().layer(base_layer()));
    let app = dir.path().join("app");
    OciLayout::create(&app).add_image("latest", &Image::new().layer(base_layer()).layer(own_layer));
    // Critical findings STOP, except in packages the base image installed.
    let rules = json!([{"id": "r1", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
        "params": [{"name": "package_type", "value": "all"}, {"name": "severity_comparison", "value": ">="},
                   {"name": "severity", "value": "critical"}, {"name": "ignore_base_image_findings", "value": "true"}]}]);
    let policy = bundle(dir.path(), "base.json", &v1_bundle(rules, json!([]), json!({})));
    // Without knowing the base, lodash's critical advisory stops the image.
    let (code, json, stderr) = evaluate(&app, &["--policy", &policy]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        json["decisions"].as_array().unwrap().iter().all(|d| d["trigger_id"].as_str().unwrap().ends_with("+lodash"))
    );
    // With the base image known, only the image's own layer counts (moment: high, not critical).
    let base_source = format!("oci-dir:{}", base.display());
    let (code, json, stderr) = evaluate(&app, &["--policy", &policy, "--base-image", &base_source]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(json["decisions"].as_array().unwrap().len(), 0);
    let (code, _, _) = evaluate(&app, &["--policy", &policy, "--base-image-layers", "1"]);
    assert_eq!(code, Some(0));

    // The base named by the image's own org.opencontainers.image.base.name label.
    let labelled = dir.path().join("labelled");
    let own_layer =
        Layer::gzip().file("app/node_modules/moment/package.json", r#"{"name":"moment","version":"2.29.1"}"#, 0o644);
    OciLayout::create(&labelled).add_image(
        "latest",
        &Image::new().layer(base_layer()).layer(own_layer).label("org.opencontainers.image.base.name", &base_source),
    );
    let (code, _, stderr) = evaluate(&labelled, &["--policy", &policy]);
    assert_eq!(code, Some(0), "{stderr}");
    // A label naming something unreadable is a warning, not an error: the findings then count.
    let broken = dir.path().join("broken");
    let own_layer =
        Layer::gzip().file("app/node_modules/moment/package.json", r#"{"name":"moment","version":"2.29.1"}"#, 0o644);
    OciLayout::create(&broken).add_image(
        "latest",
        &Image::new()
            .layer(base_layer())
            .layer(own_layer)
            .label("org.opencontainers.image.base.name", "oci-dir:/nonexistent"),
    );
    let (code, _, stderr) = evaluate(&broken, &["--policy", &policy]);
    assert_eq!(code, Some(1));
    assert!(stderr.contains("cannot be read"), "{stderr}");
}

#[test]
fn evaluation_reports_for_anchore_users_and_ci() {
    let dir = tempfile::tempdir().unwrap();
    let layout = image(dir.path());
    let source = format!("oci-dir:{}", layout.display());
    let junit = dir.path().join("policy.xml");
    let sarif = dir.path().join("policy.sarif");
    let out = portcullis(
        &[
            "evaluate",
            &source,
            "-o",
            "anchore-table",
            "-o",
            &format!("junit={}", junit.display()),
            "-o",
            &format!("sarif={}", sarif.display()),
        ],
        synced_db(),
    );
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    for line in
        ["Status: fail", "Final Action: stop", "Final Action Reason: policy_evaluation", "Gate", "exposed_ports"]
    {
        assert!(table.contains(line), "{line:?} missing from\n{table}");
    }
    let junit = std::fs::read_to_string(junit).unwrap();
    assert!(junit.contains("<failure") && junit.contains("exposed_ports"), "{junit}");
    let sarif: Value = serde_json::from_slice(&std::fs::read(sarif).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["name"], "portcullis-policy");
    assert!(sarif["runs"][0]["results"].as_array().unwrap().iter().any(|r| r["level"] == "error"));
}
