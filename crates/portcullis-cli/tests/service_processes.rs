//! `portcullis serve` as real processes sharing one PostgreSQL database:
//! an api+scheduler process and separate analyzer processes. An analyzer
//! killed (SIGKILL) in the middle of an analysis loses nothing: once its
//! lease expires another analyzer takes the image over and finishes it.

use std::time::{Duration, Instant};

use portcullis_testkit::data::lab_image;
use portcullis_testkit::postgres::TempDatabase;
use portcullis_testkit::service::{ADMIN_PASSWORD, ServiceProcess};
use portcullis_testkit::{PushOptions, RegistryAuth, TestRegistry, push_oci_layout};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build().unwrap()
}

fn get(api: &str, path: &str) -> Value {
    let response = client().get(format!("{api}{path}")).basic_auth("admin", Some(ADMIN_PASSWORD)).send().unwrap();
    assert!(response.status().is_success(), "GET {path}: {}", response.status());
    response.json().unwrap()
}

fn image_status(api: &str, digest: &str) -> String {
    get(api, &format!("/images/{digest}"))[0]["analysis_status"].as_str().unwrap_or_default().to_owned()
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn a_killed_analyzer_loses_no_image() {
    let registry = TestRegistry::start(RegistryAuth::None);
    // deb-mixed: the largest lab image, so the analysis is still running when the analyzer is killed.
    let reference = push_oci_layout(&lab_image("deb-mixed"), "latest", &registry, "lab/mixed:1", PushOptions::oci());
    let database = TempDatabase::create();
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "feeds:\n  enabled: false\nanalyzer:\n  lease_seconds: 10\n  poll_millis: 100\n  insecure_registries: [\"{}\"]\n",
            registry.host()
        ),
    )
    .unwrap();
    let url = database.url();
    let with_roles =
        |roles: &'static str| ["--config", config.to_str().unwrap(), "--database-url", url.as_str(), "--roles", roles];
    let api =
        ServiceProcess::start(std::path::Path::new(BIN), &data.path().join("api"), &with_roles("api,scheduler"), &[]);
    let mut doomed =
        ServiceProcess::start(std::path::Path::new(BIN), &data.path().join("a1"), &with_roles("analyzer"), &[]);

    let added: Value = client()
        .post(format!("{}/images", api.url))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
        .json(&json!({"tag": reference}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let digest = added[0]["imageDigest"].as_str().expect("an image record").to_owned();

    wait_for("the first analyzer to start analysing", Duration::from_secs(60), || {
        image_status(&api.url, &digest) == "analyzing"
    });
    doomed.kill();
    assert_eq!(image_status(&api.url, &digest), "analyzing", "killed before it could finish");

    let _rescuer =
        ServiceProcess::start(std::path::Path::new(BIN), &data.path().join("a2"), &with_roles("analyzer"), &[]);
    wait_for("the second analyzer to finish the image", Duration::from_secs(180), || {
        image_status(&api.url, &digest) == "analyzed"
    });
    // The queue shows the takeover: the job needed a second attempt. The
    // analyzer stores the image before it completes the job, so the job
    // may still be leased for a moment after the image reads "analyzed".
    let job = || {
        let queue = get(&api.url, "/system/queue");
        let entries = queue.as_array().or_else(|| queue["items"].as_array()).cloned().unwrap_or_default();
        entries
            .into_iter()
            .find(|e| e["item_key"].as_str().is_some_and(|key| key.ends_with(digest.as_str())))
            .unwrap_or_else(|| panic!("the job is listed: {queue}"))
    };
    wait_for("the job to be completed", Duration::from_secs(30), || job()["state"] == "done");
    assert_eq!(job()["attempts"], 2, "{}", job());
    // And the analysis is complete: the SBOM is there.
    let content = get(&api.url, &format!("/images/{digest}/content/os"));
    assert!(content["content"].as_array().is_some_and(|p| p.len() > 50), "{content}");
}

/// `portcullis serve` refuses a bad start with exit 2 and the reason: an
/// unknown role, an unknown configuration key, a port already taken, an
/// unreachable database.
#[test]
fn serve_start_up_errors_exit_2_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let serve = |args: &[&str]| {
        let output = std::process::Command::new(BIN)
            .arg("serve")
            .arg("--data-dir")
            .arg(data.path())
            .args(args)
            .output()
            .unwrap();
        (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    let (code, stderr) = serve(&["--roles", "api,indexer"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("unknown role \"indexer\""), "{stderr}");

    let config = data.path().join("bad.yaml");
    std::fs::write(&config, "lisen: 127.0.0.1:1\n").unwrap();
    let (code, stderr) = serve(&["--config", config.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("unknown field `lisen`"), "{stderr}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (code, stderr) = serve(&["--listen", &address]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains(&format!("listening on {address}")), "{stderr}");

    let (code, stderr) = serve(&["--database-url", "postgres://nobody@127.0.0.1:1/none", "--listen", "127.0.0.1:0"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("cannot open the database"), "{stderr}");
}
