//! Application packages, file analysis, secrets, retrieved files and the
//! Dockerfile, end to end on the lab's real images (ground truth: the lab
//! README, `../shared/lab/README.md`).

use std::collections::BTreeSet;
use std::process::Command;

use portcullis_testkit::data::{DEB_PYTHON_PIP_PACKAGES, lab_image, lab_rootfs};
use serde_json::Value;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis")).args(args).output().expect("portcullis runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn analyse(image: &str, extra: &[&str]) -> (Value, String) {
    let source = format!("oci-dir:{}", lab_image(image).display());
    let mut args = vec!["sbom", source.as_str(), "-o", "json"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 0, "{stderr}");
    (serde_json::from_str(&stdout).unwrap(), stdout)
}

fn packages_of<'a>(sbom: &'a Value, kind: &str) -> Vec<&'a Value> {
    sbom["packages"].as_array().unwrap().iter().filter(|p| p["type"] == kind).collect()
}

fn name_versions(packages: &[&Value]) -> BTreeSet<String> {
    packages.iter().map(|p| format!("{}=={}", p["name"].as_str().unwrap(), p["version"].as_str().unwrap())).collect()
}

#[test]
fn python_packages_are_what_pip_installed() {
    let (sbom, _) = analyse("deb-python", &[]);
    // The lab README's list.
    let expected: BTreeSet<String> = DEB_PYTHON_PIP_PACKAGES.iter().map(|p| p.to_string()).collect();
    let python = packages_of(&sbom, "python");
    assert_eq!(name_versions(&python), expected);
    let django = python.iter().find(|p| p["name"] == "django").unwrap();
    assert_eq!(django["purl"], "pkg:pypi/django@2.2");
    assert_eq!(django["introduced_in_layer"], 4, "installed by the pip layer");
    assert!(django["locations"][0]["path"].as_str().unwrap().ends_with("Django-2.2.dist-info/METADATA"));
    assert!(
        django["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["digest"].as_str().is_some_and(|d| d.starts_with("sha256:")))
    );
}

#[test]
fn npm_packages_and_their_debian_owner() {
    let (sbom, _) = analyse("deb-node", &[]);
    let npm = packages_of(&sbom, "npm");
    // 53 installed by `npm install`, the app's own package.json, 25 shipped by Debian's nodejs.
    assert_eq!(npm.len(), 79, "{:?}", name_versions(&npm));
    let lodash = npm.iter().find(|p| p["name"] == "lodash").unwrap();
    assert_eq!(lodash["version"], "4.17.4");
    assert_eq!(lodash["purl"], "pkg:npm/lodash@4.17.4");
    assert!(lodash["owner"].is_null());
    // The lockfile next to node_modules adds evidence, not packages.
    assert!(lodash["locations"].as_array().unwrap().iter().any(|l| l["path"] == "/app/package-lock.json"), "{lodash}");
    let debian: Vec<&&Value> =
        npm.iter().filter(|p| p["locations"][0]["path"].as_str().unwrap().starts_with("/usr/share/nodejs/")).collect();
    assert_eq!(debian.len(), 25);
    for package in debian {
        let owner = package["owner"].as_str().unwrap_or_else(|| panic!("no owner: {package}"));
        assert!(owner.starts_with("deb/"), "{owner}");
    }
}

/// `name@version` of every package in an `npm ls --all --json` tree.
fn npm_ls_set(tree: &Value, out: &mut BTreeSet<String>) {
    if let Some(dependencies) = tree["dependencies"].as_object() {
        for (name, info) in dependencies {
            if let Some(version) = info["version"].as_str() {
                out.insert(format!("{name}@{version}"));
            }
            npm_ls_set(info, out);
        }
    }
}

#[test]
fn npm_packages_equal_npm_ls() {
    let app = lab_rootfs("deb-node").join("app");
    let out = Command::new("npm").args(["ls", "--all", "--json"]).current_dir(&app).output().expect("npm runs");
    let tree: Value = serde_json::from_slice(&out.stdout).expect("npm ls --json output");
    let mut expected = BTreeSet::new();
    npm_ls_set(&tree, &mut expected);
    assert_eq!(expected.len(), 53, "npm ls lists the lab's 53 installed packages");
    let (sbom, _) = analyse("deb-node", &[]);
    let found: BTreeSet<String> = packages_of(&sbom, "npm")
        .iter()
        .filter(|p| p["locations"][0]["path"].as_str().unwrap().starts_with("/app/node_modules/"))
        .map(|p| format!("{}@{}", p["name"].as_str().unwrap(), p["version"].as_str().unwrap()))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn go_and_rust_binaries() {
    let (sbom, _) = analyse("deb-bins", &[]);
    let go = packages_of(&sbom, "go-module");
    let names: BTreeSet<&str> = go.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(names.contains("stdlib"), "{names:?}");
    let stdlib = go.iter().find(|p| p["name"] == "stdlib").unwrap();
    assert_eq!(stdlib["version"], "go1.19.8");
    assert_eq!(stdlib["locations"][0]["path"], "/usr/local/bin/hello-go");
    let rust = packages_of(&sbom, "rust-crate");
    let crates = name_versions(&rust);
    for expected in ["smallvec==1.6.0", "base64==0.5.1", "byteorder==1.5.0"] {
        assert!(crates.contains(expected), "{crates:?}");
    }
    assert!(rust.iter().all(|p| p["locations"][0]["path"] == "/usr/local/bin/hello-rust"));
    let record = sbom["files"].as_array().unwrap().iter().find(|f| f["path"] == "/usr/local/bin/hello-rust").unwrap();
    assert_eq!(record["executable_format"], "elf");
}

#[test]
fn planted_secrets_are_found_and_never_printed() {
    let (squashed, text) = analyse("deb-mixed", &[]);
    let found: BTreeSet<(String, String)> = squashed["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["rule"].as_str().unwrap().to_owned(), s["path"].as_str().unwrap().to_owned()))
        .collect();
    for (rule, path) in [
        ("AWS_ACCESS_KEY", "/app/config/credentials"),
        ("AWS_SECRET_KEY", "/app/config/credentials"),
        ("API_KEY", "/app/config/settings.py"),
        ("PRIV_KEY", "/app/config/tls.key"),
        ("RSA_PRIV_KEY", "/app/config/server.key"),
        ("DOCKER_AUTH", "/app/config/docker-config.json"),
    ] {
        assert!(found.contains(&(rule.to_owned(), path.to_owned())), "{rule} in {path} not found: {found:?}");
    }
    let secret_line =
        squashed["secrets"].as_array().unwrap().iter().find(|s| s["rule"] == "AWS_SECRET_KEY").unwrap()["line"].clone();
    assert_eq!(secret_line, 3, "line of aws_secret_access_key in the credentials file");
    assert!(!text.contains("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"), "the secret itself leaked into the SBOM");
    assert!(!found.iter().any(|(_, path)| path.ends_with("old-deploy-key.pem")), "deleted in layer 8");

    let (all, _) = analyse("deb-mixed", &["--scope", "all-layers"]);
    assert!(all["secrets"].as_array().unwrap().iter().any(|s| s["path"] == "/app/config/old-deploy-key.pem"));

    let (none, _) = analyse("deb-mixed", &["--no-secrets"]);
    assert_eq!(none["secrets"].as_array().unwrap().len(), 0);
}

#[test]
fn file_records_show_setuid_and_world_writable_files() {
    let (sbom, _) = analyse("deb-mixed", &["--file-digests", "sha1,md5"]);
    let files = sbom["files"].as_array().unwrap();
    let file = |path: &str| files.iter().find(|f| f["path"] == path).unwrap_or_else(|| panic!("{path} missing"));
    assert_eq!(file("/usr/local/bin/rootbash")["mode"].as_u64().unwrap(), 0o4755);
    assert_eq!(file("/usr/local/bin/find-sgid")["mode"].as_u64().unwrap(), 0o2755);
    assert_eq!(file("/app/config/settings.py")["mode"].as_u64().unwrap(), 0o666);
    let setuid: Vec<&str> = files
        .iter()
        .filter(|f| f["mode"].as_u64().unwrap() & 0o6000 != 0 && f["kind"] == "file")
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    // deb-base's 11 stock setuid/setgid binaries plus the two planted ones.
    assert_eq!(setuid.len(), 13, "{setuid:?}");
    let bash = file("/usr/bin/bash");
    assert!(bash["sha256"].as_str().unwrap().starts_with("sha256:"));
    assert!(bash["sha1"].as_str().unwrap().starts_with("sha1:"));
    assert!(bash["md5"].as_str().unwrap().starts_with("md5:"));
    assert_eq!(bash["executable_format"], "elf");
    assert!(bash["owners"].as_array().unwrap().iter().any(|o| o.as_str().unwrap().starts_with("deb/bash@")), "{bash}");
    // Squashed view: the opaque /app/static only has the new files.
    let statics: BTreeSet<&str> =
        files.iter().filter_map(|f| f["path"].as_str()).filter(|p| p.starts_with("/app/static/")).collect();
    assert_eq!(statics, BTreeSet::from(["/app/static/app.js", "/app/static/site.css"]));
}

#[test]
fn retrieved_files_content_search_and_dockerfile() {
    let dir = tempfile::tempdir().unwrap();
    let dockerfile = dir.path().join("Dockerfile");
    std::fs::write(&dockerfile, "FROM debian:12\nRUN apt-get update\nUSER app\n").unwrap();
    let (sbom, _) = analyse(
        "deb-python",
        &[
            "--content-search",
            "DJANGO_IMPORT=^import django",
            "--retrieve-file",
            "/etc/passwd",
            "--retrieve-file",
            "/etc/hostname-missing",
        ],
    );
    let retrieved = sbom["retrieved_files"].as_array().unwrap();
    assert_eq!(retrieved.len(), 1, "missing files are left out");
    assert!(retrieved[0]["content"].as_str().unwrap().contains("app:x:"), "useradd app ran in layer 2");
    assert_eq!(retrieved[0]["layer_index"], 2);
    assert!(sbom["content_matches"].as_array().unwrap().iter().all(|m| m["rule"] == "DJANGO_IMPORT"));
    assert!(!sbom["content_matches"].as_array().unwrap().is_empty());
    assert_eq!(sbom["dockerfile"]["kind"], "guessed");
    let guessed = sbom["dockerfile"]["text"].as_str().unwrap();
    assert!(guessed.contains("USER app") && guessed.contains("EXPOSE 8000/tcp"), "{guessed}");

    let (actual, _) = analyse("deb-python", &["--dockerfile", dockerfile.to_str().unwrap()]);
    assert_eq!(actual["dockerfile"]["kind"], "actual");
    assert_eq!(actual["dockerfile"]["text"], "FROM debian:12\nRUN apt-get update\nUSER app\n");
}

#[test]
fn content_option_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("Dockerfile");
    std::fs::write(&bad, "FRM debian\n").unwrap();
    let source = format!("oci-dir:{}", lab_image("deb-base").display());
    for (args, message) in [
        (vec!["--secret-rule", "BROKEN=(unclosed"], "BROKEN"),
        (vec!["--content-search", "no-equals-sign"], "no-equals-sign"),
        (vec!["--dockerfile", bad.to_str().unwrap()], "invalid Dockerfile"),
        (vec!["--dockerfile", "/no/such/Dockerfile"], "reading /no/such/Dockerfile"),
    ] {
        let mut full = vec!["sbom", source.as_str()];
        full.extend(args.iter().copied());
        let (code, stdout, stderr) = run(&full);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(stdout.is_empty());
    }
}
