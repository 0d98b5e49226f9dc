//! Loading and validating bundles in both namings.

use std::collections::BTreeSet;
use std::path::PathBuf;

use portcullis_policy::bundle::{self, BundleError};
use portcullis_policy::model::{Action, Bundle, ImageMatch, Naming};
use portcullis_policy::spec::{self, GateState};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn v1() -> Vec<u8> {
    fixture("anchore_v1_every_trigger.json")
}

fn v1_value() -> Value {
    serde_json::from_slice(&v1()).unwrap()
}

fn load_value(value: &Value) -> Result<Bundle, BundleError> {
    bundle::load(&serde_json::to_vec(value).unwrap())
}

fn issues(value: &Value) -> Vec<String> {
    load_value(value).unwrap_err().issues().iter().map(ToString::to_string).collect()
}

#[test]
fn v1_bundle_with_every_trigger_loads() {
    let bytes = v1();
    let bundle = bundle::load(&bytes).unwrap();
    assert_eq!(bundle.naming, Naming::V1);
    assert_eq!(bundle.id, "2c53a13c-1765-11e8-82ef-23527761d060");
    assert_eq!(bundle.digest, format!("sha256:{}", hex::encode(Sha256::digest(&bytes))));
    assert_eq!(bundle.unmapped_action, Action::Stop);
    assert_eq!(bundle.policies.len(), 2);

    // Anchore's default policy, as shipped.
    let default = &bundle.policies[0];
    assert_eq!(default.name.as_deref(), Some("DefaultPolicy"));
    let summary: Vec<(&str, &str, Action)> =
        default.rules.iter().map(|r| (r.gate.as_str(), r.trigger.as_str(), r.action)).collect();
    assert_eq!(
        summary,
        [
            ("dockerfile", "exposed_ports", Action::Stop),
            ("dockerfile", "instruction", Action::Warn),
            ("vulnerabilities", "stale_feed_data", Action::Warn),
            ("vulnerabilities", "vulnerability_data_unavailable", Action::Warn),
            ("vulnerabilities", "package", Action::Warn),
            ("vulnerabilities", "package", Action::Stop),
        ]
    );

    // Every active trigger of the table is used once in the second policy.
    let used: BTreeSet<(String, String)> =
        bundle.policies[1].rules.iter().map(|r| (r.gate.clone(), r.trigger.clone())).collect();
    let table: BTreeSet<(String, String)> = spec::all_gates()
        .iter()
        .filter(|g| g.state == GateState::Active)
        .flat_map(|g| g.triggers.iter().map(|t| (g.name.to_owned(), t.name.to_owned())))
        .collect();
    assert_eq!(used, table);
    assert_eq!(bundle.policies[1].rules.len(), table.len());

    // Aliases are rewritten to the canonical names; values stay as written.
    let usernames = bundle.policies[1].rules.iter().find(|r| r.trigger == "blacklist_usernames").unwrap();
    assert_eq!(usernames.params, [("user_names".to_owned(), "ftp,games".to_owned())]);
    let userids = bundle.policies[1].rules.iter().find(|r| r.trigger == "blacklist_userids").unwrap();
    assert_eq!(userids.params, [("user_ids".to_owned(), "0,1".to_owned())]);

    // Mappings: `policy_id` becomes a one-element list.
    assert_eq!(bundle.mappings.len(), 2);
    assert_eq!(bundle.mappings[0].policy_ids, ["48e6f7d6-1765-11e8-b5f9-8b6f228548b6", "all-triggers"]);
    assert_eq!(bundle.mappings[1].policy_ids, ["48e6f7d6-1765-11e8-b5f9-8b6f228548b6"]);
    assert_eq!(bundle.mappings[1].name.as_deref(), Some("default"));
    assert_eq!(bundle.mappings[0].selector.image, ImageMatch::Tag("v*".to_owned()));

    // Image lists; Anchore's `dockerhub` registry means docker.io.
    assert_eq!(bundle.allowlisted_images[0].registry, "docker.io");
    assert_eq!(bundle.denylisted_images[0].repository, "regexp:library/(debian|ubuntu)");
    assert!(matches!(&bundle.denylisted_images[1].image, ImageMatch::Digest(d) if d.starts_with("sha256:82ddff")));

    // Allowlist items keep the Portcullis extensions.
    let items = &bundle.allowlists[1].items;
    assert_eq!(items[0].reason.as_deref(), Some("not reachable: feature disabled"));
    assert_eq!(items[0].expires_on.as_deref(), Some("2030-01-01T00:00:00Z"));
    assert_eq!(
        (items[1].package.as_deref(), items[1].version.as_deref(), items[1].path.as_deref()),
        (Some("log4j-core"), Some("2.14.1"), Some("/opt/app/lib/*"))
    );
    assert!(bundle.allowlists[0].items.is_empty());
}

#[test]
fn every_rule_of_the_fixture_validates_with_defaults() {
    let bundle = bundle::load(&v1()).unwrap();
    for rule in bundle.policies.iter().flat_map(|p| &p.rules) {
        spec::validate_params(&rule.gate, &rule.trigger, &rule.params)
            .unwrap_or_else(|e| panic!("{}/{}: {e}", rule.gate, rule.trigger));
    }
    // Anchore's default "severity = medium → WARN" rule, with what its trigger assumes when absent.
    let params = spec::validate_params("vulnerabilities", "package", &bundle.policies[0].rules[4].params).unwrap();
    assert_eq!(params.get("severity"), Some("medium"));
    assert_eq!(params.get("severity_comparison"), Some("="));
    assert_eq!(params.get("vendor_only"), Some("true"));
    assert_eq!(params.get("cvss_v3_base_score_comparison"), Some(">="));
}

/// Rules' parameters as the gates see them (canonical enum spellings, defaults).
fn with_validated_params(mut bundle: Bundle) -> Bundle {
    for rule in bundle.policies.iter_mut().flat_map(|p| &mut p.rules) {
        let params = spec::validate_params(&rule.gate, &rule.trigger, &rule.params).unwrap();
        rule.params = params.0.into_iter().collect();
    }
    bundle
}

#[test]
fn v2_naming_loads_to_the_same_model() {
    let v1 = bundle::load(&v1()).unwrap();
    let mut v2 = bundle::load(&fixture("anchore_v2_every_trigger.json")).unwrap();
    assert_eq!(v2.naming, Naming::V2);
    assert_eq!(v2.comment, v1.comment, "v2 `description` is the comment");
    assert_ne!(v2.digest, v1.digest);
    let exposed_ports = &v2.policies[0].rules[0];
    assert_eq!(exposed_ports.params[1], ("type".to_owned(), "denylist".to_owned()), "kept as written");
    v2.naming = Naming::V1;
    v2.digest = v1.digest.clone();
    assert_eq!(
        with_validated_params(v2),
        with_validated_params(v1),
        "deny/allow trigger names and list types mean the table's black/white ones"
    );
}

#[test]
fn yaml_bundles_load() {
    let yaml = r#"
id: yaml-bundle
version: V2
rule_sets:
  - id: rs1
    rules:
      - id: r1
        gate: dockerfile
        trigger: exposed_ports
        action: stop
        params:
          - {name: ports, value: 22}
          - {name: type, value: denylist}
allowlists: []
mappings:
  - {name: all, registry: "*", repository: "*", image: {type: tag, value: "*"}, rule_set_ids: [rs1], allowlist_ids: []}
"#;
    let bundle = bundle::load(yaml.as_bytes()).unwrap();
    assert_eq!(bundle.naming, Naming::V2);
    assert_eq!(bundle.unmapped_action, Action::Go, "unmapped images pass unless the bundle says fail");
    let rule = &bundle.policies[0].rules[0];
    assert_eq!(rule.action, Action::Stop);
    assert_eq!(rule.params, [("ports".to_owned(), "22".to_owned()), ("type".to_owned(), "denylist".to_owned())]);
    let params = spec::validate_params(&rule.gate, &rule.trigger, &rule.params).unwrap();
    assert_eq!(params.get("type"), Some("blacklist"));
}

#[test]
fn unparsable_documents_name_the_format() {
    let err = bundle::load(b"{\"id\": ").unwrap_err();
    assert!(err.to_string().starts_with("policy bundle is not valid JSON: EOF while parsing"), "{err}");
    let err = bundle::load(b"id: [unclosed").unwrap_err();
    assert!(err.to_string().starts_with("policy bundle is not valid YAML"), "{err}");
}

/// Sets the value at a JSON pointer (creating the last key), or removes it with `None`.
fn edit(mut bundle: Value, pointer: &str, value: Option<Value>) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = bundle.pointer_mut(parent).unwrap_or_else(|| panic!("no {parent}"));
    match (target, value) {
        (Value::Object(map), Some(v)) => {
            map.insert(key.to_owned(), v);
        }
        (Value::Object(map), None) => {
            map.remove(key).unwrap_or_else(|| panic!("no {pointer}"));
        }
        (Value::Array(items), Some(v)) => items[key.parse::<usize>().unwrap()] = v,
        (Value::Array(items), None) => {
            items.remove(key.parse::<usize>().unwrap());
        }
        (other, _) => panic!("{parent} is {other}"),
    }
    bundle
}

const ALL: &str = "/policies/1/rules";
const DEFAULT_POLICY: &str = "policy \"48e6f7d6-1765-11e8-b5f9-8b6f228548b6\"";

#[test]
fn invalid_bundles_report_location_and_reason() {
    let severity_param = "/policies/0/rules/4/params/2/value";
    let cases: Vec<(&str, Value, Vec<String>)> = vec![
        (
            "bad enum value",
            edit(v1_value(), severity_param, Some(json!("hgh"))),
            vec![format!(
                "{DEFAULT_POLICY} rule \"6063fdde-b1c5-46af-973a-915739451ac4\" (vulnerabilities/package): \
                 parameter \"severity\": \"hgh\" is not one of unknown, negligible, low, medium, high, critical"
            )],
        ),
        (
            "unknown gate",
            edit(v1_value(), &format!("{ALL}/0/gate"), Some(json!("alwayz"))),
            vec!["policy \"all-triggers\" rule \"r01\": unknown gate \"alwayz\"".to_owned()],
        ),
        (
            "unknown trigger",
            edit(v1_value(), &format!("{ALL}/39/trigger"), Some(json!("scan"))),
            vec!["policy \"all-triggers\" rule \"r40\": gate \"malware\" has no trigger \"scan\" (triggers: scans, scan_not_run)".to_owned()],
        ),
        (
            "end-of-life gate",
            edit(
                v1_value(),
                &format!("{ALL}/0"),
                Some(json!({"id": "old", "gate": "anchoresec", "trigger": "vulnhigh", "action": "STOP", "params": []})),
            ),
            vec!["policy \"all-triggers\" rule \"old\": gate \"anchoresec\" has reached end of life; use \"vulnerabilities\"".to_owned()],
        ),
        (
            "bad action, missing and unknown params",
            edit(
                v1_value(),
                &format!("{ALL}/2"),
                Some(json!({"id": "r03", "gate": "dockerfile", "trigger": "effective_user", "action": "BLOCK",
                            "params": [{"name": "user", "value": "root"}]})),
            ),
            vec![
                "policy \"all-triggers\" rule \"r03\": action \"BLOCK\" is not one of STOP, WARN, GO".to_owned(),
                "policy \"all-triggers\" rule \"r03\" (dockerfile/effective_user): unknown parameter \"user\" (parameters: users, type)".to_owned(),
                "policy \"all-triggers\" rule \"r03\" (dockerfile/effective_user): required parameter \"users\" is missing".to_owned(),
                "policy \"all-triggers\" rule \"r03\" (dockerfile/effective_user): required parameter \"type\" is missing".to_owned(),
            ],
        ),
        (
            "duplicate rule id within a policy",
            edit(v1_value(), &format!("{ALL}/1/id"), Some(json!("r01"))),
            vec!["policy \"all-triggers\" rule \"r01\": the id is used by more than one rule of this policy".to_owned()],
        ),
        (
            "duplicate and missing policy ids",
            edit(edit(v1_value(), "/policies/1/id", Some(json!("48e6f7d6-1765-11e8-b5f9-8b6f228548b6"))), "/policies/0/id", None),
            vec![
                "policy #1: \"id\" is missing".to_owned(),
                "mapping \"m1\": policy \"all-triggers\" does not exist".to_owned(),
            ],
        ),
        (
            "duplicate whitelist id",
            edit(v1_value(), "/whitelists/1/id", Some(json!("37fd763e-1765-11e8-add4-3b16c029ac5c"))),
            vec![
                "whitelist \"37fd763e-1765-11e8-add4-3b16c029ac5c\": the id is used by more than one".to_owned(),
                "mapping \"m1\": whitelist \"app-exceptions\" does not exist".to_owned(),
            ],
        ),
        (
            "bad bundle version",
            edit(v1_value(), "/version", Some(json!("1.0"))),
            vec!["bundle: version \"1.0\" is not \"1_0\" or \"V2\"".to_owned()],
        ),
        (
            "policy version differs",
            edit(v1_value(), "/policies/1/version", Some(json!("V2"))),
            vec!["policy \"all-triggers\": version \"V2\" does not match the bundle's \"1_0\"".to_owned()],
        ),
        (
            "v2 key in a v1 bundle",
            edit(v1_value(), "/rule_sets", Some(json!([]))),
            vec!["bundle: \"rule_sets\" does not belong in a version \"1_0\" bundle; use \"policies\"".to_owned()],
        ),
        (
            "both policy_id and policy_ids",
            edit(v1_value(), "/mappings/1/policy_ids", Some(json!(["all-triggers"]))),
            vec!["mapping \"c4f9bf74-dc38-4ddf-b5cf-00e9c0074611\": has both \"policy_id\" and \"policy_ids\"; use one".to_owned()],
        ),
        (
            "mapping without policy",
            edit(v1_value(), "/mappings/1/policy_id", None),
            vec!["mapping \"c4f9bf74-dc38-4ddf-b5cf-00e9c0074611\": names no policy".to_owned()],
        ),
        (
            "bad expiry",
            edit(v1_value(), "/whitelists/1/items/0/expires_on", Some(json!("2030-01-01"))),
            vec!["whitelist \"app-exceptions\" item \"i1\": expires_on \"2030-01-01\" is not an RFC 3339 time such as \
                  2024-01-31T00:00:00Z (premature end of input)"
                .to_owned()],
        ),
        (
            "allowlist item for an unknown gate",
            edit(v1_value(), "/whitelists/1/items/2/gate", Some(json!("dockerfiles"))),
            vec!["whitelist \"app-exceptions\" item \"i3\": unknown gate \"dockerfiles\"".to_owned()],
        ),
        (
            "bad regexp pattern",
            edit(v1_value(), "/blacklisted_images/0/repository", Some(json!("regexp:library/(debian"))),
            vec!["blacklisted_images entry \"bi1\": repository \"regexp:library/(debian\" is not a valid regular \
                  expression: unclosed group"
                .to_owned()],
        ),
        (
            "bad image type",
            edit(v1_value(), "/mappings/0/image/type", Some(json!("label"))),
            vec!["mapping \"m1\": image type \"label\" is not one of tag, digest, id".to_owned()],
        ),
        (
            "bad unmapped",
            edit(v1_value(), "/unmapped", Some(json!("deny"))),
            vec!["bundle: unmapped \"deny\" is not pass or fail".to_owned()],
        ),
    ];
    for (what, bundle, expected) in cases {
        assert_eq!(issues(&bundle), expected, "{what}");
    }
}

#[test]
fn error_display_lists_every_problem() {
    let bundle = edit(edit(v1_value(), "/version", None), "/mappings/0/registry", None);
    let err = load_value(&bundle).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid policy bundle (2 problems):\n  \
         bundle: \"version\" is missing (use \"1_0\" or \"V2\")\n  \
         mapping \"m1\": \"registry\" is missing"
    );
}
