//! Evaluation semantics (Anchore's `policy/bundles.py` and `util/matcher.py`):
//! reference normalisation, mapping selection, allowlists with expiry,
//! wildcards and package scoping, image lists, unmapped images, problems.

use chrono::{DateTime, Utc};
use portcullis_match::ScanResult;
use portcullis_policy::evaluate::{Evaluation, FinalActionReason, ImageIdentity, Status, evaluate, pattern_matches};
use portcullis_policy::gates::EvalContext;
use portcullis_policy::model::{
    Action, Allowlist, AllowlistItem, Bundle, ImageMatch, ImageSelector, Mapping, Naming, Policy, Rule,
};
use portcullis_sbom::{Sbom, SchemaInfo, SourceInfo, ToolInfo};
use serde_json::json;

const DIGEST: &str = "sha256:2b7412e6465c3c7fc5bb21d3e6f1917c167358449fecac8176c6e496e5c1f05f";
const IMAGE_ID: &str = "sha256:a588d2c5ab5ec5f6b2d4f7d8e4c3a1b0f9e8d7c6b5a49382716050f1e2d3c4b5";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn sbom() -> Sbom {
    Sbom {
        schema: SchemaInfo::default(),
        tool: ToolInfo { name: "portcullis".into(), version: "test".into() },
        source: SourceInfo { scheme: "registry".into(), input: "app".into(), scope: "squashed".into(), image: None },
        distro: None,
        layers: Vec::new(),
        packages: Vec::new(),
        files: Vec::new(),
        secrets: Vec::new(),
        content_matches: Vec::new(),
        retrieved_files: Vec::new(),
        dockerfile: None,
    }
}

/// Two findings as the matcher reports them (GHSA-xvch-5gv4-984h and
/// CVE-2018-18074 from the shared feeds), in the scan JSON format.
fn scan() -> ScanResult {
    let finding = |id: &str, name: &str, version: &str, kind: &str, location: &str, severity: &str| {
        json!({
            "id": id,
            "package": {"id": format!("{kind}/{name}@{version}"), "name": name, "version": version, "type": kind,
                        "purl": format!("pkg:{kind}/{name}@{version}"), "locations": [location]},
            "state": "fixed", "fixed_in": ["x"], "severity": severity, "severity_source": "vendor:ghsa",
            "risk": 50.0, "evidence": []
        })
    };
    serde_json::from_value(json!({
        "findings": [
            finding("CVE-2021-44906", "minimist", "1.2.5", "npm", "/app/node_modules/minimist/package.json", "critical"),
            finding("CVE-2018-18074", "requests", "2.19.1", "python",
                    "/usr/lib/python3/dist-packages/requests-2.19.1.dist-info/METADATA", "high"),
        ],
        "summary": {"packages": 2, "packages_unmatchable": 0, "findings": 2, "by_severity": {}, "fixable": 2, "kev": 0, "ignored": 0},
        "database": {"location": "db", "sources": [{"name": "ghsa", "synced_at": "2024-05-30T00:00:00Z", "advisories": 16}]}
    }))
    .unwrap()
}

fn selector(registry: &str, repository: &str, image: ImageMatch) -> ImageSelector {
    ImageSelector { id: None, name: None, registry: registry.into(), repository: repository.into(), image }
}

fn tag(pattern: &str) -> ImageMatch {
    ImageMatch::Tag(pattern.into())
}

fn mapping(id: &str, selector: ImageSelector, policies: &[&str], allowlists: &[&str]) -> Mapping {
    Mapping {
        id: Some(id.into()),
        name: Some(format!("{id} name")),
        selector,
        policy_ids: policies.iter().map(|p| p.to_string()).collect(),
        allowlist_ids: allowlists.iter().map(|a| a.to_string()).collect(),
    }
}

fn rule(id: &str, gate: &str, trigger: &str, action: Action, params: &[(&str, &str)]) -> Rule {
    Rule {
        id: id.into(),
        gate: gate.into(),
        trigger: trigger.into(),
        action,
        params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
    }
}

/// STOP on critical findings, WARN on high ones.
fn vulnerability_policy() -> Policy {
    Policy {
        id: "vulns".into(),
        name: None,
        comment: None,
        rules: vec![
            rule(
                "stop-critical",
                "vulnerabilities",
                "package",
                Action::Stop,
                &[("package_type", "all"), ("severity_comparison", "="), ("severity", "critical")],
            ),
            rule(
                "warn-high",
                "vulnerabilities",
                "package",
                Action::Warn,
                &[("package_type", "all"), ("severity_comparison", "="), ("severity", "high")],
            ),
        ],
    }
}

fn item(id: &str, gate: &str, trigger_id: &str) -> AllowlistItem {
    AllowlistItem {
        id: id.into(),
        gate: gate.into(),
        trigger_id: trigger_id.into(),
        expires_on: None,
        reason: None,
        package: None,
        version: None,
        path: None,
    }
}

fn bundle(mappings: Vec<Mapping>, items: Vec<AllowlistItem>) -> Bundle {
    Bundle {
        id: "bundle".into(),
        name: Some("test bundle".into()),
        comment: None,
        naming: Naming::V1,
        policies: vec![vulnerability_policy()],
        allowlists: vec![Allowlist { id: "global".into(), name: None, comment: None, items }],
        mappings,
        allowlisted_images: Vec::new(),
        denylisted_images: Vec::new(),
        unmapped_action: Action::Go,
        digest: "sha256:bundle".into(),
    }
}

fn everything(items: Vec<AllowlistItem>) -> Bundle {
    bundle(vec![mapping("all", selector("*", "*", tag("*")), &["vulns"], &["global"])], items)
}

fn run_at(bundle: &Bundle, image: &ImageIdentity, now: DateTime<Utc>) -> Evaluation {
    let sbom = sbom();
    let scan = scan();
    evaluate(bundle, image, &EvalContext { sbom: &sbom, scan: Some(&scan), now, base_layers: None })
}

fn run(bundle: &Bundle, reference: &str) -> Evaluation {
    run_at(bundle, &ImageIdentity::from_reference(reference).unwrap(), at("2024-06-01T00:00:00Z"))
}

#[test]
fn references_are_normalised_like_anchore() {
    // (reference, registry, repository, tag, digest)
    type Case<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, Option<&'a str>);
    let cases: &[Case] = &[
        ("debian:12", "docker.io", "library/debian", Some("12"), None),
        ("docker.io/library/debian:12", "docker.io", "library/debian", Some("12"), None),
        ("dockerhub/library/debian:12", "docker.io", "library/debian", Some("12"), None),
        ("alpine", "docker.io", "library/alpine", Some("latest"), None),
        ("myorg/app", "docker.io", "myorg/app", Some("latest"), None),
        ("Quay.IO/org/team/app:v1.2", "quay.io", "org/team/app", Some("v1.2"), None),
        ("localhost/app:1", "localhost", "app", Some("1"), None),
    ];
    for (reference, registry, repository, tag, digest) in cases {
        let image = ImageIdentity::from_reference(reference).unwrap();
        assert_eq!(
            (image.registry.as_str(), image.repository.as_str(), image.tag.as_deref(), image.digest.as_deref()),
            (*registry, *repository, *tag, *digest),
            "{reference}"
        );
    }
    let by_digest = ImageIdentity::from_reference(&format!("localhost:5000/app@{DIGEST}")).unwrap();
    assert_eq!(
        (by_digest.registry.as_str(), by_digest.repository.as_str(), by_digest.tag, by_digest.digest.as_deref()),
        ("localhost:5000", "app", None, Some(DIGEST))
    );
    let both = ImageIdentity::from_reference(&format!("ghcr.io/org/app:1@{DIGEST}")).unwrap();
    assert_eq!((both.tag.as_deref(), both.digest.as_deref()), (Some("1"), Some(DIGEST)));
    for bad in ["", "app:", "app@latest", "/app", "org//app"] {
        let err = ImageIdentity::from_reference(bad).unwrap_err();
        assert_eq!(err.reference, bad);
    }
}

#[test]
fn wildcards_and_regexp_patterns() {
    let cases = [
        ("*", "anything", true),
        ("*", "", true),
        ("library/*", "library/debian", true),
        ("library/*", "myorg/library/debian", false),
        ("prod-*", "prod-1", true),
        ("prod-*", "prod", false),
        ("*-slim", "12-slim", true),
        ("1.*.3", "1.2.3", true),
        // `.` is literal outside `regexp:`.
        ("1.2", "1x2", false),
        ("12", "12", true),
        ("", "", true),
        ("", "x", false),
        ("**", "", true),
        ("a*a", "a", false),
        ("a*a", "aa", true),
        ("a*b*b", "abb", true),
        ("a*b*b", "ab", false),
        ("CVE-*+*", "CVE-2021-44906+minimist", true),
        ("*+minimist", "CVE-2021-44906+minimist-es", false),
        ("12", "123", false),
        ("regexp:^1[0-9]$", "12", true),
        ("regexp:^1[0-9]$", "123", false),
        // Python's re.match: anchored at the start only.
        ("regexp:.*\\.example\\.com", "registry.example.com", true),
        ("regexp:.*\\.example\\.com", "registry.example.com.evil.net", true),
        ("regexp:example", "registry.example.com", false),
        ("regexp:(", "(", false),
    ];
    for (pattern, value, expected) in cases {
        assert_eq!(pattern_matches(pattern, value), expected, "{pattern:?} on {value:?}");
    }
}

#[test]
fn the_first_matching_mapping_wins() {
    let id_hex = IMAGE_ID.trim_start_matches("sha256:");
    let bundle = bundle(
        vec![
            mapping("example", selector("regexp:.*\\.example\\.com", "*", tag("*")), &["vulns"], &[]),
            mapping("prod", selector("docker.io", "library/*", tag("prod-*")), &["vulns"], &[]),
            mapping("by-digest", selector("*", "*", ImageMatch::Digest(DIGEST.into())), &["vulns"], &[]),
            mapping("by-id", selector("*", "*", ImageMatch::Id(id_hex.into())), &["vulns"], &[]),
            // A tag mapping also matches the exact digest.
            mapping("tag-is-digest", selector("*", "other/*", tag(DIGEST)), &["vulns"], &[]),
            mapping("all", selector("*", "*", tag("*")), &["vulns"], &[]),
            mapping("never-reached", selector("*", "*", tag("*")), &["vulns"], &[]),
        ],
        Vec::new(),
    );
    let with = |reference: &str, digest: Option<&str>, id: Option<&str>| {
        let mut image = ImageIdentity::from_reference(reference).unwrap();
        image.digest = digest.map(str::to_owned);
        image.image_id = id.map(str::to_owned);
        image
    };
    let cases = [
        (with("registry.example.com/team/app:1", None, None), "example"),
        (with("debian:prod-1", None, None), "prod"),
        (with("dockerhub/library/debian:prod-2", None, None), "prod"),
        (with("debian:prod", None, None), "all"),
        (with("ghcr.io/library/debian:prod-1", None, None), "all"),
        (with("debian:12", Some(DIGEST), None), "by-digest"),
        // Anchore's ids are bare hex; ours carry the algorithm: both spellings match.
        (with("debian:12", None, Some(IMAGE_ID)), "by-id"),
        (with("debian:12", None, Some(id_hex)), "by-id"),
        (with("myorg/app:1", None, Some(&IMAGE_ID.replace('a', "c"))), "all"),
    ];
    for (image, expected) in cases {
        let evaluation = run_at(&bundle, &image, at("2024-06-01T00:00:00Z"));
        assert_eq!(evaluation.mapping.and_then(|m| m.id).as_deref(), Some(expected), "{image:?}");
    }
    // A digest mapping needs the digest: a tag alone does not select it.
    let mut digest_only = bundle.clone();
    digest_only.mappings.retain(|m| m.id.as_deref() == Some("tag-is-digest"));
    let mut image = with("docker.io/other/app:1", None, None);
    assert!(run_at(&digest_only, &image, at("2024-06-01T00:00:00Z")).mapping.is_none());
    image.digest = Some(DIGEST.into());
    assert!(run_at(&digest_only, &image, at("2024-06-01T00:00:00Z")).mapping.is_some());
}

#[test]
fn unmapped_images_pass_unless_the_bundle_says_fail() {
    let mut only_prod = bundle(vec![mapping("prod", selector("*", "*", tag("prod")), &["vulns"], &[])], Vec::new());
    let evaluation = run(&only_prod, "debian:12");
    assert_eq!(evaluation.mapping, None);
    assert!(evaluation.decisions.is_empty());
    assert_eq!(
        (evaluation.final_action, evaluation.final_action_reason, evaluation.status),
        (Action::Go, FinalActionReason::Unmapped, Status::Pass)
    );
    only_prod.unmapped_action = Action::Stop;
    let evaluation = run(&only_prod, "debian:12");
    assert_eq!((evaluation.final_action, evaluation.status), (Action::Stop, Status::Fail));
    // Mapped: the critical finding stops it.
    assert_eq!(run(&only_prod, "debian:prod").final_action, Action::Stop);
}

#[test]
fn decisions_and_the_policy_result() {
    let evaluation = run(&everything(Vec::new()), "debian:12");
    let summary: Vec<(&str, &str, Action)> =
        evaluation.decisions.iter().map(|d| (d.rule_id.as_str(), d.trigger_id.as_str(), d.action)).collect();
    assert_eq!(
        summary,
        [
            ("stop-critical", "CVE-2021-44906+minimist", Action::Stop),
            ("warn-high", "CVE-2018-18074+requests-2.19.1", Action::Warn),
        ]
    );
    assert_eq!(
        (evaluation.final_action, evaluation.final_action_reason, evaluation.status),
        (Action::Stop, FinalActionReason::PolicyEvaluation, Status::Fail)
    );
    let value = serde_json::to_value(&evaluation).unwrap();
    assert_eq!(value["final_action"], "STOP");
    assert_eq!(value["final_action_reason"], "policy_evaluation");
    assert_eq!(value["status"], "fail");
    assert_eq!(value["mapping"]["id"], "all");
    assert_eq!(value["bundle_digest"], "sha256:bundle");
    assert_eq!(value["decisions"][0]["gate"], "vulnerabilities");
    assert_eq!(value["decisions"][0]["allowlisted"], serde_json::Value::Null);

    // Allowlisting the critical leaves the WARN: status is still pass.
    let evaluation = run(&everything(vec![item("i1", "vulnerabilities", "CVE-2021-44906+minimist")]), "debian:12");
    assert_eq!((evaluation.final_action, evaluation.status), (Action::Warn, Status::Pass));
}

#[test]
fn allowlist_items_expire_at_their_instant() {
    let mut expiring = item("i1", "vulnerabilities", "CVE-2021-44906+*");
    expiring.expires_on = Some("2024-06-01T00:00:00Z".into());
    expiring.reason = Some("fixed in the next release (SEC-42)".into());
    let bundle = everything(vec![expiring]);
    let image = ImageIdentity::from_reference("debian:12").unwrap();
    let before = run_at(&bundle, &image, at("2024-05-31T23:59:59Z"));
    let allowlisted = before.decisions[0].allowlisted.as_ref().unwrap();
    assert_eq!(
        (allowlisted.allowlist_id.as_str(), allowlisted.item_id.as_str(), allowlisted.reason.as_deref()),
        ("global", "i1", Some("fixed in the next release (SEC-42)"))
    );
    // The decision keeps the rule's action; it no longer counts.
    assert_eq!(before.decisions[0].action, Action::Stop);
    assert_eq!(before.final_action, Action::Warn);
    // now >= expires_on: ignored.
    for now in ["2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z"] {
        let after = run_at(&bundle, &image, at(now));
        assert!(after.decisions[0].allowlisted.is_none(), "{now}");
        assert_eq!(after.final_action, Action::Stop);
    }
}

#[test]
fn allowlist_items_match_gate_and_trigger_id() {
    let cases = [
        (item("i", "vulnerabilities", "CVE-2021-44906+minimist"), true),
        (item("i", "VULNERABILITIES", "CVE-2021-44906+minimist"), true),
        (item("i", "vulnerabilities", "CVE-2021-44906+*"), true),
        (item("i", "vulnerabilities", "*"), true),
        (item("i", "vulnerabilities", "CVE-2021-4490*+minimist"), true),
        (item("i", "vulnerabilities", "cve-2021-44906+minimist"), false),
        (item("i", "vulnerabilities", "CVE-2021-44906"), false),
        (item("i", "dockerfile", "CVE-2021-44906+minimist"), false),
    ];
    for (item, expected) in cases {
        let evaluation = run(&everything(vec![item.clone()]), "debian:12");
        assert_eq!(evaluation.decisions[0].allowlisted.is_some(), expected, "{item:?}");
    }
    // The first matching item wins.
    let evaluation =
        run(&everything(vec![item("first", "vulnerabilities", "CVE-*"), item("second", "vulnerabilities", "*")]), "a");
    assert!(evaluation.decisions.iter().all(|d| d.allowlisted.as_ref().unwrap().item_id == "first"));
}

#[test]
fn allowlist_items_can_be_scoped_to_a_package() {
    let scoped = |package: Option<&str>, version: Option<&str>, path: Option<&str>| {
        let mut scoped = item("i", "vulnerabilities", "CVE-2021-44906+*");
        scoped.package = package.map(str::to_owned);
        scoped.version = version.map(str::to_owned);
        scoped.path = path.map(str::to_owned);
        scoped
    };
    let cases = [
        (scoped(Some("minimist"), None, None), true),
        (scoped(Some("minimist"), Some("1.2.5"), None), true),
        (scoped(Some("minimist"), Some("1.2.6"), None), false),
        (scoped(Some("lodash"), None, None), false),
        (scoped(None, None, Some("/app/node_modules/*")), true),
        (scoped(None, Some("1.2.5"), Some("/srv/*")), false),
    ];
    for (item, expected) in cases {
        let evaluation = run(&everything(vec![item.clone()]), "debian:12");
        assert_eq!(evaluation.decisions[0].allowlisted.is_some(), expected, "{item:?}");
    }
    // A decision that is not about a package is never covered by a scoped item.
    let mut bundle = everything(vec![{
        let mut any_trigger = scoped(Some("minimist"), None, None);
        any_trigger.trigger_id = "*".into();
        any_trigger
    }]);
    bundle.policies[0].rules =
        vec![rule("stale", "vulnerabilities", "stale_feed_data", Action::Warn, &[("max_days_since_sync", "0")])];
    let evaluation = run(&bundle, "debian:12");
    assert_eq!(evaluation.decisions.len(), 1);
    assert!(evaluation.decisions[0].allowlisted.is_none());
}

#[test]
fn the_denylist_beats_the_allowlist_beats_the_policy() {
    let debian = selector("docker.io", "library/debian", tag("*"));
    let cases = [
        // (denylisted, allowlisted, reference) → final action, reason
        (true, true, "debian:12", Action::Stop, FinalActionReason::Denylisted),
        (false, true, "debian:12", Action::Go, FinalActionReason::Allowlisted),
        (true, false, "debian:12", Action::Stop, FinalActionReason::Denylisted),
        (false, false, "debian:12", Action::Stop, FinalActionReason::PolicyEvaluation),
        (true, true, "alpine:3", Action::Stop, FinalActionReason::PolicyEvaluation),
    ];
    for (denylisted, allowlisted, reference, action, reason) in cases {
        let mut bundle = everything(Vec::new());
        if denylisted {
            bundle.denylisted_images.push(debian.clone());
        }
        if allowlisted {
            bundle.allowlisted_images.push(debian.clone());
        }
        let evaluation = run(&bundle, reference);
        assert_eq!((evaluation.final_action, evaluation.final_action_reason), (action, reason), "{reference}");
        // Decisions are still reported.
        assert_eq!(evaluation.decisions.len(), 2);
    }
    // An allowlisted image with no policy issues and an unmapped one.
    let mut unmapped = bundle(Vec::new(), Vec::new());
    unmapped.unmapped_action = Action::Stop;
    unmapped.allowlisted_images.push(debian);
    assert_eq!(run(&unmapped, "debian:12").final_action, Action::Go);
}

#[test]
fn problems_stop_the_image() {
    let mut broken = everything(Vec::new());
    broken.policies[0].rules.push(rule("typo", "vulnerabilitiez", "package", Action::Warn, &[]));
    broken.policies[0].rules.push(rule("no-type", "vulnerabilities", "package", Action::Warn, &[]));
    broken.mappings[0].policy_ids.push("missing-policy".into());
    broken.mappings[0].allowlist_ids.push("missing-allowlist".into());
    let evaluation = run(&broken, "debian:12");
    assert_eq!(
        (evaluation.final_action, evaluation.final_action_reason, evaluation.status),
        (Action::Stop, FinalActionReason::EvaluationProblems, Status::Fail)
    );
    let rules: Vec<Option<&str>> = evaluation.problems.iter().map(|p| p.rule_id.as_deref()).collect();
    assert_eq!(rules, [None, Some("typo"), Some("no-type"), None]);
    let messages: Vec<&str> = evaluation.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(messages[0].contains("missing-allowlist"), "{messages:?}");
    assert!(messages[1].contains("vulnerabilitiez"), "{messages:?}");
    assert!(messages[2].contains("package_type"), "{messages:?}");
    assert!(messages[3].contains("missing-policy"), "{messages:?}");
    // The rules that could be evaluated still report their decisions.
    assert_eq!(evaluation.decisions.len(), 2);

    // An allowlisted image does not escape a broken bundle; a denylisted one is still denylisted.
    let mut allowlisted = broken.clone();
    allowlisted.allowlisted_images.push(selector("*", "*", tag("*")));
    let evaluation = run(&allowlisted, "debian:12");
    assert_eq!(
        (evaluation.final_action, evaluation.final_action_reason),
        (Action::Stop, FinalActionReason::EvaluationProblems)
    );
    allowlisted.denylisted_images.push(selector("*", "*", tag("*")));
    assert_eq!(run(&allowlisted, "debian:12").final_action_reason, FinalActionReason::Denylisted);

    // Even when every decision is GO.
    let mut go_only = broken.clone();
    go_only.policies[0].rules.retain(|r| r.id == "typo");
    assert_eq!(run(&go_only, "debian:12").final_action, Action::Stop);
}
