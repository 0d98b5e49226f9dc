//! The policy evaluation reports: Anchore's `evaluate check --detail` text
//! (checked against output anchore-cli printed), JUnit and SARIF (checked
//! against the SARIF 2.1.0 schema), on hand-built evaluations and on the
//! default bundle evaluated on a real SBOM.

mod common;
#[path = "common/xml.rs"]
mod xml;

use portcullis_policy::evaluate::{
    AllowlistedBy, Decision, Evaluation, FinalActionReason, ImageIdentity, MatchedMapping, Problem, Status,
};
use portcullis_policy::model::Action;
use portcullis_report::policy::{PolicyFormat, render_policy};
use serde_json::Value;
use sha2::{Digest, Sha256};
use xml::{Element, parse_xml};

const HEALTHCHECK: &str = "Dockerfile directive 'HEALTHCHECK' not found, matching condition 'not_exists' check";
const GNUTLS: &str = "MEDIUM Vulnerability found in os package type (dpkg) - libgnutls30 (CVE-2011-3389 - https://security-tracker.debian.org/tracker/CVE-2011-3389)";

fn decision(gate: &str, trigger: &str, rule: &str, trigger_id: &str, message: &str, action: Action) -> Decision {
    Decision {
        policy_id: "default-policy".to_owned(),
        rule_id: rule.to_owned(),
        gate: gate.to_owned(),
        trigger: trigger.to_owned(),
        trigger_id: trigger_id.to_owned(),
        message: message.to_owned(),
        action,
        allowlisted: None,
        origin: None,
    }
}

/// The evaluation behind anchore-cli's output in a published Jenkins log
/// (`localhost:5000/litecoin:build-44`, Anchore's default bundle `2c53a13c-...`).
fn litecoin() -> Evaluation {
    Evaluation {
        bundle_id: "2c53a13c-1765-11e8-82ef-23527761d060".to_owned(),
        bundle_name: Some("Default bundle".to_owned()),
        bundle_digest: "sha256:0c1b".to_owned(),
        image: ImageIdentity {
            registry: "localhost:5000".to_owned(),
            repository: "litecoin".to_owned(),
            tag: Some("build-44".to_owned()),
            digest: Some("sha256:bce6e590a630fe2d8d415876e4ccd79ecc8aca832e6ca1a9a7d2779d4a6f7aed".to_owned()),
            image_id: Some("sha256:644f505c893afd30c2eb3ce7d7efa66ac71061a25858561cfce2a0ee549545d4".to_owned()),
        },
        mapping: Some(MatchedMapping { id: Some("default".to_owned()), name: None }),
        decisions: vec![
            // md5("dockerfile" + "instruction" + message), Anchore's default trigger id.
            decision(
                "dockerfile",
                "instruction",
                "healthcheck",
                "41cb7cdf04850e33a11f80c42bf660b3",
                HEALTHCHECK,
                Action::Warn,
            ),
            decision("vulnerabilities", "package", "medium", "CVE-2011-3389+libgnutls30", GNUTLS, Action::Warn),
        ],
        problems: Vec::new(),
        final_action: Action::Warn,
        final_action_reason: FinalActionReason::PolicyEvaluation,
        status: Status::Pass,
    }
}

/// Every kind of outcome: a STOP, a WARN, a GO, an allowlisted STOP, a problem.
fn mixed() -> Evaluation {
    let mut evaluation = litecoin();
    evaluation.bundle_name = None;
    evaluation.image.tag = None;
    evaluation.image.image_id = None;
    let mut allowlisted =
        decision("vulnerabilities", "package", "serious", "CVE-2023-4911+libc6", "HIGH <libc6> & co", Action::Stop);
    allowlisted.allowlisted = Some(AllowlistedBy {
        allowlist_id: "accepted".to_owned(),
        item_id: "looney-tunables".to_owned(),
        reason: Some("not reachable: no setuid binaries".to_owned()),
    });
    evaluation.decisions = vec![
        decision(
            "dockerfile",
            "exposed_ports",
            "no-ssh",
            "22",
            "Dockerfile exposes port (22) which is in policy file DENIEDPORTS list",
            Action::Stop,
        ),
        decision(
            "dockerfile",
            "instruction",
            "healthcheck",
            "41cb7cdf04850e33a11f80c42bf660b3",
            HEALTHCHECK,
            Action::Warn,
        ),
        decision("always", "always", "go", "always", "Go action always fires", Action::Go),
        allowlisted,
    ];
    evaluation.problems = vec![
        Problem {
            policy_id: Some("default-policy".to_owned()),
            rule_id: Some("broken".to_owned()),
            message: "rule \"broken\" (files/content_regex_match): invalid regex".to_owned(),
        },
        Problem { policy_id: None, rule_id: None, message: "mapping names allowlist \"gone\"".to_owned() },
    ];
    evaluation.final_action = Action::Stop;
    evaluation.final_action_reason = FinalActionReason::EvaluationProblems;
    evaluation.status = Status::Fail;
    evaluation
}

fn render(evaluation: &Evaluation, format: PolicyFormat) -> String {
    render_policy(evaluation, format).unwrap_or_else(|e| panic!("{format}: {e}"))
}

#[test]
fn format_names_parse_and_print() {
    let names: Vec<String> = PolicyFormat::ALL.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["anchore-table", "junit", "sarif"]);
    for format in PolicyFormat::ALL {
        assert_eq!(format.name().parse::<PolicyFormat>().unwrap(), format);
        assert_eq!(format.name().to_uppercase().parse::<PolicyFormat>().unwrap(), format);
    }
    assert_eq!(" Anchore-Table ".parse::<PolicyFormat>().unwrap(), PolicyFormat::AnchoreTable);
    assert_eq!(
        "table".parse::<PolicyFormat>().unwrap_err().to_string(),
        "unknown policy report format `table` (known formats: anchore-table, junit, sarif)"
    );
}

/// `Last Eval` is the render time, RFC 3339 UTC with seconds as Anchore prints it.
fn assert_rfc3339_seconds(value: &str) {
    let shape: String = value.chars().map(|c| if c.is_ascii_digit() { 'd' } else { c }).collect();
    assert_eq!(shape, "dddd-dd-ddTdd:dd:ddZ", "{value}");
}

#[test]
fn anchore_table_is_what_anchore_cli_prints() {
    let text = render(&litecoin(), PolicyFormat::AnchoreTable);
    let lines: Vec<&str> = text.lines().collect();
    assert_rfc3339_seconds(lines[4].strip_prefix("Last Eval: ").unwrap());
    // anchore-cli 0.9's output for this image, copied from the log with its
    // trailing blanks (prettytable PLAIN_COLUMNS pads each cell with 8).
    let expected = [
        "Image Digest: sha256:bce6e590a630fe2d8d415876e4ccd79ecc8aca832e6ca1a9a7d2779d4a6f7aed",
        "Full Tag: localhost:5000/litecoin:build-44",
        "Image ID: 644f505c893afd30c2eb3ce7d7efa66ac71061a25858561cfce2a0ee549545d4",
        "Status: pass",
        lines[4],
        "Policy ID: 2c53a13c-1765-11e8-82ef-23527761d060",
        "Final Action: warn",
        "Final Action Reason: policy_evaluation",
        "",
        "Gate                   Trigger            Detail                                                                                                                                                Status        ",
        "dockerfile             instruction        Dockerfile directive 'HEALTHCHECK' not found, matching condition 'not_exists' check                                                                   warn          ",
        "vulnerabilities        package            MEDIUM Vulnerability found in os package type (dpkg) - libgnutls30 (CVE-2011-3389 - https://security-tracker.debian.org/tracker/CVE-2011-3389)        warn          ",
    ];
    assert_eq!(lines, expected);
    assert!(text.ends_with("warn          \n"));
}

#[test]
fn anchore_table_shows_allowlisted_decisions_reasons_and_problems() {
    let text = render(&mixed(), PolicyFormat::AnchoreTable);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Image Digest: sha256:bce6e590a630fe2d8d415876e4ccd79ecc8aca832e6ca1a9a7d2779d4a6f7aed");
    assert_eq!(
        lines[1],
        "Full Tag: localhost:5000/litecoin@sha256:bce6e590a630fe2d8d415876e4ccd79ecc8aca832e6ca1a9a7d2779d4a6f7aed"
    );
    assert_eq!(lines[2], "Image ID: None", "a missing value prints as anchore-cli prints a null");
    assert_eq!(lines[3], "Status: fail");
    assert_eq!(lines[6], "Final Action: stop");
    assert_eq!(lines[7], "Final Action Reason: policy_evaluation", "problems have no Anchore reason");
    let row = |gate: &str, trigger: &str| -> Vec<&str> {
        let line = lines.iter().find(|l| l.starts_with(gate) && l.contains(trigger)).unwrap();
        line.split("        ").map(str::trim).filter(|cell| !cell.is_empty()).collect()
    };
    assert_eq!(row("dockerfile", "exposed_ports").last(), Some(&"stop"));
    assert_eq!(row("always", "always"), ["always", "always", "Go action always fires", "go"]);
    assert_eq!(
        row("vulnerabilities", "package"),
        ["vulnerabilities", "package", "HIGH <libc6> & co", "whitelisted(accepted)"]
    );
    assert_eq!(
        &lines[lines.len() - 2..],
        [
            "Evaluation Problem: policy default-policy rule broken: rule \"broken\" (files/content_regex_match): invalid regex",
            "Evaluation Problem: mapping names allowlist \"gone\"",
        ]
    );

    let mut denied = litecoin();
    denied.final_action = Action::Stop;
    denied.final_action_reason = FinalActionReason::Denylisted;
    denied.status = Status::Fail;
    let text = render(&denied, PolicyFormat::AnchoreTable);
    assert!(
        text.contains("\nStatus: fail\n")
            && text.contains("\nFinal Action: stop\nFinal Action Reason: blacklisted\n\n")
    );
    denied.final_action = Action::Go;
    denied.final_action_reason = FinalActionReason::Allowlisted;
    assert!(
        render(&denied, PolicyFormat::AnchoreTable).contains("\nFinal Action: go\nFinal Action Reason: whitelisted\n")
    );
}

fn only_suite(text: &str) -> Element {
    let mut root = parse_xml(text);
    assert_eq!(root.name, "testsuites");
    assert_eq!(root.named("testsuite").count(), 1);
    root.children.retain(|c| c.name == "testsuite");
    root.children.pop().unwrap()
}

fn property<'a>(suite: &'a Element, name: &str) -> Option<&'a str> {
    suite
        .named("properties")
        .next()
        .unwrap()
        .named("property")
        .find(|p| p.attr("name") == name)
        .map(|p| p.attr("value"))
}

#[test]
fn junit_fails_stop_decisions_and_errors_on_problems() {
    let text = render(&mixed(), PolicyFormat::Junit);
    let root = parse_xml(&text);
    for (count, value) in [("tests", "6"), ("failures", "1"), ("errors", "2"), ("skipped", "1")] {
        assert_eq!(root.attr(count), value, "testsuites {count}");
    }
    let suite = only_suite(&text);
    assert_eq!(
        suite.attr("name"),
        "portcullis policy 2c53a13c-1765-11e8-82ef-23527761d060 on localhost:5000/litecoin@sha256:bce6e590a630fe2d8d415876e4ccd79ecc8aca832e6ca1a9a7d2779d4a6f7aed",
        "the bundle's id when it has no name"
    );
    assert_eq!((suite.attr("tests"), suite.attr("failures"), suite.attr("errors")), ("6", "1", "2"));
    assert_eq!(property(&suite, "portcullis.policy.final_action"), Some("STOP (evaluation_problems)"));
    assert_eq!(property(&suite, "portcullis.policy.status"), Some("fail"));
    assert_eq!(property(&suite, "portcullis.policy.mapping"), Some("default"));
    assert_eq!(
        property(&suite, "portcullis.policy.bundle"),
        Some("2c53a13c-1765-11e8-82ef-23527761d060 (sha256:0c1b)")
    );

    let cases: Vec<&Element> = suite.named("testcase").collect();
    let ids: Vec<(&str, &str)> = cases.iter().map(|c| (c.attr("classname"), c.attr("name"))).collect();
    assert_eq!(
        ids,
        [
            ("dockerfile.exposed_ports", "default-policy/no-ssh 22"),
            ("dockerfile.instruction", "default-policy/healthcheck 41cb7cdf04850e33a11f80c42bf660b3"),
            ("always.always", "default-policy/go always"),
            ("vulnerabilities.package", "default-policy/serious CVE-2023-4911+libc6"),
            ("evaluation problem", "default-policy/broken"),
            ("evaluation problem", "bundle"),
        ]
    );
    let failure = &cases[0].children[0];
    assert_eq!(failure.name, "failure");
    assert_eq!(failure.attr("type"), "STOP");
    assert_eq!(failure.attr("message"), "Dockerfile exposes port (22) which is in policy file DENIEDPORTS list");
    assert!(failure.text.ends_with("policy default-policy rule no-ssh, trigger id 22"), "{}", failure.text);
    assert_eq!(cases[1].children[0].name, "system-out");
    assert_eq!(cases[1].children[0].text, format!("WARN: {HEALTHCHECK}"), "quotes read back unchanged");
    assert_eq!(cases[2].children[0].text, "GO: Go action always fires");
    let skipped = &cases[3].children[0];
    assert_eq!(skipped.name, "skipped");
    assert_eq!(skipped.attr("message"), "allowlisted by accepted/looney-tunables: not reachable: no setuid binaries");
    let error = &cases[4].children[0];
    assert_eq!((error.name.as_str(), error.attr("type")), ("error", "evaluation_problem"));
    assert_eq!(error.attr("message"), "rule \"broken\" (files/content_regex_match): invalid regex");
    assert_eq!(cases[5].children[0].attr("message"), "mapping names allowlist \"gone\"");
}

#[test]
fn junit_without_decisions_passes_unless_the_image_is_denylisted() {
    let mut clean = litecoin();
    clean.decisions.clear();
    clean.final_action = Action::Go;
    let suite = only_suite(&render(&clean, PolicyFormat::Junit));
    assert_eq!(suite.attr("name"), "portcullis policy Default bundle on localhost:5000/litecoin:build-44");
    let cases: Vec<&Element> = suite.named("testcase").collect();
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].attr("name"), "no policy decisions");
    assert_eq!(cases[0].children[0].name, "system-out");
    assert_eq!(suite.attr("failures"), "0");

    // A denylisted image fails although no decision does.
    let mut denied = clean.clone();
    denied.final_action = Action::Stop;
    denied.final_action_reason = FinalActionReason::Denylisted;
    denied.status = Status::Fail;
    let suite_denied = only_suite(&render(&denied, PolicyFormat::Junit));
    assert_eq!(suite_denied.attr("failures"), "1");
    let final_case = suite_denied.named("testcase").find(|c| c.attr("name") == "final action").unwrap();
    assert_eq!(final_case.children[0].attr("message"), "the image is on the bundle's denylisted images");
    // So does an unmapped image when the bundle stops those, but not when it lets them go.
    let mut unmapped = denied.clone();
    unmapped.final_action_reason = FinalActionReason::Unmapped;
    assert_eq!(only_suite(&render(&unmapped, PolicyFormat::Junit)).attr("failures"), "1");
    unmapped.final_action = Action::Go;
    unmapped.status = Status::Pass;
    assert_eq!(only_suite(&render(&unmapped, PolicyFormat::Junit)).attr("failures"), "0");
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[test]
fn sarif_has_a_rule_per_trigger_and_a_result_per_decision_not_allowlisted() {
    let evaluation = mixed();
    let text = render(&evaluation, PolicyFormat::Sarif);
    portcullis_testkit::schema::validate_sarif(&text);
    let log = json(&text);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "portcullis-policy");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    let rule_ids: Vec<&str> = driver["rules"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        rule_ids,
        ["dockerfile/exposed_ports", "dockerfile/instruction", "always/always"],
        "none for the allowlisted decision"
    );

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let levels: Vec<&str> = results.iter().map(|r| r["level"].as_str().unwrap()).collect();
    assert_eq!(levels, ["error", "warning", "note"]);
    for (index, (result, decision)) in results.iter().zip(&evaluation.decisions).enumerate() {
        assert_eq!(result["ruleId"], rule_ids[index]);
        assert_eq!(result["ruleIndex"], index);
        assert_eq!(result["message"]["text"], decision.message.as_str());
        let key = format!("{} {} {}", decision.gate, decision.trigger, decision.trigger_id);
        assert_eq!(result["partialFingerprints"]["portcullisPolicyDecision/v1"], sha256_hex(&key).as_str());
        let location = &result["locations"][0];
        assert_eq!(location["physicalLocation"]["region"]["startLine"], 1);
        assert_eq!(
            location["logicalLocations"][0]["fullyQualifiedName"],
            "localhost:5000/litecoin@sha256:bce6e590a630fe2d8d415876e4ccd79ecc8aca832e6ca1a9a7d2779d4a6f7aed"
        );
        assert_eq!(result["properties"]["triggerId"], decision.trigger_id.as_str());
    }
    let uri = |i: usize| results[i]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
    assert_eq!(uri(0), "Dockerfile");
    assert_eq!(uri(1), "Dockerfile");
    assert_eq!(
        uri(2),
        "localhost%3A5000/litecoin@sha256%3Abce6e590a630fe2d8d415876e4ccd79ecc8aca832e6ca1a9a7d2779d4a6f7aed",
        "the image reference as a relative URI: no ':' a reader would take for a scheme"
    );

    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes: Vec<&str> = invocation["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        notes,
        [
            "policy default-policy rule broken: rule \"broken\" (files/content_regex_match): invalid regex",
            "mapping names allowlist \"gone\""
        ]
    );
    assert_eq!(run["properties"]["finalAction"], "STOP");
    assert_eq!(run["properties"]["finalActionReason"], "evaluation_problems");
    assert_eq!(run["properties"]["status"], "fail");
}

#[test]
fn sarif_without_decisions_is_valid() {
    let mut clean = litecoin();
    clean.decisions.clear();
    let text = render(&clean, PolicyFormat::Sarif);
    portcullis_testkit::schema::validate_sarif(&text);
    let log = json(&text);
    assert_eq!(log["runs"][0]["results"], Value::Array(vec![]));
    assert_eq!(log["runs"][0]["invocations"][0]["executionSuccessful"], true);
}

/// The default bundle, with an allowlist item added, evaluated on syft's
/// SBOM of the `deb-python` lab image without vulnerability data.
#[test]
fn reports_on_the_default_bundle_evaluated_on_a_real_sbom() {
    let sbom = common::syft_deb_python();
    let mut bundle: Value =
        serde_json::from_slice(include_bytes!("../../portcullis-policy/bundles/default.json")).unwrap();
    // md5("vulnerabilities" + "vulnerability_data_unavailable" + message), computed by hand.
    bundle["whitelists"][0]["items"] = serde_json::json!([{
        "id": "no-feed-in-ci",
        "gate": "vulnerabilities",
        "trigger_id": "a1ec0eba715afecbc0815f41cd3e73c8",
        "reason": "the CI runner has no feed",
    }]);
    let bundle = portcullis_policy::bundle::load(bundle.to_string().as_bytes()).unwrap();
    let image = ImageIdentity::from_reference("localhost:5000/deb-python:1.0").unwrap();
    let ctx =
        portcullis_policy::gates::EvalContext { sbom: &sbom, scan: None, now: Default::default(), base_layers: None };
    let evaluation = portcullis_policy::evaluate::evaluate(&bundle, &image, &ctx);
    let fired: Vec<(&str, bool)> =
        evaluation.decisions.iter().map(|d| (d.trigger.as_str(), d.allowlisted.is_some())).collect();
    assert_eq!(fired, [("stale_feed_data", false), ("vulnerability_data_unavailable", true)]);

    let table = render(&evaluation, PolicyFormat::AnchoreTable);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        &lines[..4],
        ["Image Digest: None", "Full Tag: localhost:5000/deb-python:1.0", "Image ID: None", "Status: pass"]
    );
    assert_eq!(
        &lines[5..8],
        ["Policy ID: portcullis-default", "Final Action: warn", "Final Action Reason: policy_evaluation"]
    );
    // Anchore's own rows for these triggers (its alpine:3.2 log) have the same
    // columns; the Status column is as wide as `whitelisted(global-allowlist)` (29).
    assert_eq!(
        lines[10],
        format!(
            "vulnerabilities        stale_feed_data                       The vulnerability feed for this image distro is older than MAXAGE (2) days                                             {:<37}",
            "warn"
        )
    );
    assert!(lines[11].starts_with(
        "vulnerabilities        vulnerability_data_unavailable        Distro-specific feed data not found"
    ));
    assert!(lines[11].ends_with("        whitelisted(global-allowlist)        "), "{}", lines[11]);

    let suite = only_suite(&render(&evaluation, PolicyFormat::Junit));
    assert_eq!(suite.attr("name"), "portcullis policy Portcullis default bundle on localhost:5000/deb-python:1.0");
    assert_eq!((suite.attr("tests"), suite.attr("failures"), suite.attr("skipped")), ("2", "0", "1"));
    let skipped = suite.named("testcase").find_map(|c| c.named("skipped").next()).unwrap();
    assert_eq!(skipped.attr("message"), "allowlisted by global-allowlist/no-feed-in-ci: the CI runner has no feed");

    let sarif = render(&evaluation, PolicyFormat::Sarif);
    portcullis_testkit::schema::validate_sarif(&sarif);
    let log = json(&sarif);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "vulnerabilities/stale_feed_data");
    assert_eq!(results[0]["level"], "warning");
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "localhost%3A5000/deb-python%3A1.0"
    );
}

/// A bundle whose rules STOP the image, which its allowlisted images name:
/// the evaluation passes, so JUnit must not fail and SARIF must not alert.
#[test]
fn an_allowlisted_image_fails_no_test_and_raises_no_alert() {
    let sbom = common::syft_deb_python();
    let mut bundle: Value =
        serde_json::from_slice(include_bytes!("../../portcullis-policy/bundles/default.json")).unwrap();
    let rules = bundle["policies"][0]["rules"].as_array_mut().unwrap();
    for rule in rules.iter_mut().filter(|rule| rule["gate"] == "vulnerabilities") {
        rule["action"] = Value::from("STOP");
    }
    bundle["whitelisted_images"] = serde_json::json!([{
        "id": "trusted", "name": "trusted", "registry": "localhost:5000", "repository": "deb-python",
        "image": {"type": "tag", "value": "*"},
    }]);
    let bundle = portcullis_policy::bundle::load(bundle.to_string().as_bytes()).unwrap();
    let image = ImageIdentity::from_reference("localhost:5000/deb-python:1.0").unwrap();
    let ctx =
        portcullis_policy::gates::EvalContext { sbom: &sbom, scan: None, now: Default::default(), base_layers: None };
    let evaluation = portcullis_policy::evaluate::evaluate(&bundle, &image, &ctx);
    assert_eq!((evaluation.final_action, evaluation.final_action_reason), (Action::Go, FinalActionReason::Allowlisted));
    let stops: Vec<&Decision> = evaluation.decisions.iter().filter(|d| d.action == Action::Stop).collect();
    assert_eq!(stops.len(), 2, "stale_feed_data and vulnerability_data_unavailable");

    let suite = only_suite(&render(&evaluation, PolicyFormat::Junit));
    assert_eq!((suite.attr("failures"), suite.attr("errors"), suite.attr("skipped")), ("0", "0", "2"));
    assert_eq!(property(&suite, "portcullis.policy.final_action"), Some("GO (allowlisted)"));
    for decision in stops {
        let case = suite.named("testcase").find(|c| c.attr("name").ends_with(&decision.trigger_id)).unwrap();
        let skipped = case.named("skipped").next().unwrap();
        assert_eq!(
            skipped.attr("message"),
            format!(
                "the image is on the bundle's allowlisted images, so its final action is GO; the rule would STOP: {}",
                decision.message
            )
        );
    }

    let sarif = render(&evaluation, PolicyFormat::Sarif);
    portcullis_testkit::schema::validate_sarif(&sarif);
    let log = json(&sarif);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for result in results {
        assert_eq!(result["level"], "note");
        assert_eq!(result["properties"]["imageAllowlisted"], true);
        assert_eq!(result["properties"]["action"], "STOP");
    }
    assert_eq!(log["runs"][0]["properties"]["finalActionReason"], "allowlisted");

    // The same decisions on an image the bundle does not allowlist fail and alert.
    let other = ImageIdentity::from_reference("localhost:5000/other:1.0").unwrap();
    let evaluation = portcullis_policy::evaluate::evaluate(&bundle, &other, &ctx);
    assert_eq!(evaluation.final_action, Action::Stop);
    assert_eq!(only_suite(&render(&evaluation, PolicyFormat::Junit)).attr("failures"), "2");
    let log = json(&render(&evaluation, PolicyFormat::Sarif));
    for result in log["runs"][0]["results"].as_array().unwrap() {
        assert_eq!(result["level"], "error");
        assert!(result["properties"].get("imageAllowlisted").is_none());
    }
}
