//! The client commands (`portcullis image|evaluate check|policy|subscription|
//! repo|registry|system|event|account|analysis-archive`) end to end: the real binary against
//! a real `portcullis serve` process, images in a real registry, feeds from
//! the shared mirror. Each test shares one server across many commands and
//! checks exit codes, the human output and the `--json` output.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use portcullis_testkit::http::{HttpServer, Response};
use portcullis_testkit::layout::BuiltImage;
use portcullis_testkit::service::{ADMIN_PASSWORD, ServiceProcess, free_port};
use portcullis_testkit::{Image, Layer, OciLayout, PushOptions, RegistryAuth, TestRegistry, push_oci_layout};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// Connection settings a developer's shell may have set; every run starts without them.
const CONNECTION_ENV: [&str; 7] = [
    "PORTCULLIS_URL",
    "PORTCULLIS_USER",
    "PORTCULLIS_PASSWORD",
    "PORTCULLIS_ACCOUNT",
    "ANCHORE_CLI_URL",
    "ANCHORE_CLI_USER",
    "ANCHORE_CLI_PASS",
];

/// One finished `portcullis` run.
struct Run {
    args: String,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts the exit code; returns the run for more checks.
    fn code(self, expected: i32) -> Run {
        assert_eq!(
            self.code, expected,
            "portcullis {} exited {}:\n{}\n{}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    fn ok(self) -> Run {
        self.code(0)
    }

    /// Stdout parsed as JSON (after asserting success).
    fn json(self) -> Value {
        let run = self.ok();
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("portcullis {}: {e}:\n{}", run.args, run.stdout))
    }

    /// Asserts that stdout contains every one of `needles`.
    fn shows(self, needles: &[&str]) -> Run {
        for needle in needles {
            assert!(self.stdout.contains(needle), "portcullis {}: {needle:?} missing from\n{}", self.args, self.stdout);
        }
        self
    }

    /// Asserts that stderr contains `needle`.
    fn says(self, needle: &str) -> Run {
        assert!(
            self.stderr.contains(needle),
            "portcullis {}: {needle:?} missing from stderr\n{}",
            self.args,
            self.stderr
        );
        self
    }
}

/// Runs `portcullis ARGS` with `env` and no inherited connection settings.
fn portcullis(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(BIN);
    command.args(args);
    for name in CONNECTION_ENV {
        command.env_remove(name);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
    Run {
        args: args.join(" "),
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A running server and the data it was started with.
struct Server {
    process: ServiceProcess,
    dir: tempfile::TempDir,
}

impl Server {
    /// `portcullis serve` with SQLite, analyzer, scheduler (no scheduled feed
    /// sync), plain HTTP to `insecure` registries, and `env`.
    fn start(insecure: &[String], env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yaml");
        std::fs::write(
            &config,
            format!(
                "feeds:\n  enabled: false\nanalyzer:\n  poll_millis: 100\n  insecure_registries: {}\n",
                json!(insecure)
            ),
        )
        .unwrap();
        let process = ServiceProcess::start(
            Path::new(BIN),
            &dir.path().join("data"),
            &["--config", config.to_str().unwrap()],
            env,
        );
        Server { process, dir }
    }

    /// `portcullis ARGS` as `user`.
    fn as_user(&self, user: &str, password: &str, args: &[&str]) -> Run {
        let mut full = args.to_vec();
        full.extend(["--url", &self.process.url, "-u", user, "-p", password]);
        portcullis(&full, &[])
    }

    /// `portcullis ARGS` as admin.
    fn cli(&self, args: &[&str]) -> Run {
        self.as_user("admin", ADMIN_PASSWORD, args)
    }

    /// `portcullis ARGS --json` as admin, parsed.
    fn json(&self, args: &[&str]) -> Value {
        let mut full = args.to_vec();
        full.push("--json");
        self.cli(&full).json()
    }

    /// A file in the test's directory.
    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

/// Debian 12 with openssl 3.0.9-1 (findings in the Debian tracker) and
/// Python `requests` at `requests` (2.19.1 has OSV findings).
fn app_image(requests: &str) -> Image {
    let status = "Package: libssl3\nStatus: install ok installed\nSource: openssl\nVersion: 3.0.9-1\nArchitecture: amd64\n\n\
                  Package: tar\nStatus: install ok installed\nVersion: 1.34+dfsg-1.2\nArchitecture: amd64\n\n";
    Image::new()
        .layer(Layer::gzip().files([
            (
                "etc/os-release",
                "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12\"\n",
            ),
            ("var/lib/dpkg/status", status),
        ]))
        .layer(Layer::gzip().file(
            &format!("usr/lib/python3/dist-packages/requests-{requests}.dist-info/METADATA"),
            format!("Metadata-Version: 2.1\nName: requests\nVersion: {requests}\n"),
            0o644,
        ))
        .history("ADD rootfs /", false)
        .history("RUN pip install requests", false)
}

/// Writes `image` as a layout under `dir` and pushes it as `dest`; returns the
/// built image and the pushed reference (`HOST/dest`).
fn push(registry: &TestRegistry, dir: &Path, image: &Image, dest: &str) -> (BuiltImage, String) {
    let layout = dir.join(dest.replace([':', '/'], "_"));
    let built = OciLayout::create(&layout).add_image("latest", image);
    let reference = push_oci_layout(&layout, "latest", registry, dest, PushOptions::oci());
    (built, reference)
}

/// A registry serving one image whose layer downloads wait until
/// [`GatedRegistry::open`]: its analysis stays `analyzing` until then, and,
/// with one analyzer worker, every image added after it stays `not_analyzed`.
struct GatedRegistry {
    server: HttpServer,
    gate: Arc<(Mutex<bool>, Condvar)>,
}

impl GatedRegistry {
    fn start(dir: &Path, image: &Image) -> GatedRegistry {
        let layout_dir = dir.join("gated-layout");
        let built = OciLayout::create(&layout_dir).add_image("latest", image);
        let blob = |digest: &str| std::fs::read(layout_dir.join("blobs/sha256").join(&digest[7..])).unwrap();
        let manifest = blob(&built.manifest_digest);
        let mut blobs = vec![(built.config_digest.clone(), blob(&built.config_digest), false)];
        blobs.extend(built.layers.iter().map(|layer| (layer.digest.clone(), blob(&layer.digest), true)));
        let gate = Arc::new((Mutex::new(false), Condvar::new()));
        let server_gate = Arc::clone(&gate);
        let manifest_digest = built.manifest_digest.clone();
        let server = HttpServer::start(move |request| {
            let path = request.path();
            if path == "/v2/" {
                return Response::json(200, &json!({}));
            }
            if path.contains("/manifests/") {
                return Response::new(200)
                    .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                    .header("Docker-Content-Digest", manifest_digest.clone())
                    .body(manifest.clone());
            }
            let Some((_, bytes, gated)) =
                blobs.iter().find(|(digest, _, _)| path.ends_with(&format!("/blobs/{digest}")))
            else {
                return Response::new(404);
            };
            if *gated {
                let (open, opened) = &*server_gate;
                // Bounded so that a failed test cannot leave the analyzer waiting forever.
                let guard = open.lock().unwrap();
                drop(opened.wait_timeout_while(guard, Duration::from_secs(120), |open| !*open).unwrap());
            }
            Response::new(200).header("Content-Type", "application/octet-stream").body(bytes.clone())
        });
        GatedRegistry { server, gate }
    }

    fn reference(&self, repo_and_tag: &str) -> String {
        format!("{}/{repo_and_tag}", self.server.host())
    }

    /// Lets the layer downloads proceed.
    fn open(&self) {
        let (open, opened) = &*self.gate;
        *open.lock().unwrap() = true;
        opened.notify_all();
    }
}

/// Polls `portcullis image get` until `done` holds for the record.
fn wait_image(server: &Server, image: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..1200 {
        let images = server.json(&["image", "get", image]);
        if done(&images[0]) {
            return images[0].clone();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{image} never became {what}");
}

/// A v1 bundle whose only rule stops every image.
fn stop_bundle(id: &str) -> Value {
    json!({
        "id": id, "name": format!("{id} name"), "comment": "stops everything", "version": "1_0",
        "policies": [{"id": "p1", "name": "always", "version": "1_0", "rules": [
            {"id": "r1", "gate": "always", "trigger": "always", "action": "STOP", "params": []}]}],
        "whitelists": [],
        "mappings": [{"id": "m1", "name": "everything", "registry": "*", "repository": "*",
            "image": {"type": "tag", "value": "*"}, "policy_ids": ["p1"], "whitelist_ids": []}],
        "whitelisted_images": [], "blacklisted_images": []
    })
}

#[test]
fn usage_errors_and_unreachable_servers_exit_2() {
    let nowhere = format!("http://127.0.0.1:{}/v1", free_port());
    portcullis(&["image", "list", "--url", &nowhere], &[]).code(2).says("cannot reach the server");
    portcullis(&["system", "status"], &[("PORTCULLIS_URL", &nowhere)]).code(2).says(&nowhere);
    portcullis(&["image", "list", "--url", "ftp://example.com/v1"], &[]).code(2).says("the scheme must be http");
    portcullis(&["image", "frobnicate"], &[]).code(2);
    portcullis(&["subscription", "activate", "no_such_type", "x"], &[]).code(2).says("unknown subscription type");
    portcullis(&["image", "vuln", "alpine", "kernel"], &[]).code(2);
    portcullis(&["image", "add", "alpine:3", "--annotation", "novalue", "--url", &nowhere], &[])
        .code(2)
        .says("is not KEY=VALUE");
}

#[test]
fn images_feeds_policies_subscriptions_and_events() {
    let dir = tempfile::tempdir().unwrap();
    let registry = TestRegistry::start(RegistryAuth::None);
    let gated = GatedRegistry::start(dir.path(), &app_image("2.20.0"));
    let (_, app) = push(&registry, dir.path(), &app_image("2.19.1"), "lab/app:1");
    let (broken_image, broken) = push(&registry, dir.path(), &app_image("0.0.1"), "lab/broken:1");
    registry.corrupt_blob(&broken_image.layers[1].digest);
    let feeds = portcullis_testkit::data::feeds_root();
    let sources = format!(
        "debian-tracker={},osv-pypi={}",
        feeds.join("debian-tracker").display(),
        feeds.join("osv-pypi").display()
    );
    let server = Server::start(&[registry.host(), gated.server.host()], &[("PORTCULLIS_FEEDS_FROM", &sources)]);

    // Feeds: configured but never synced, so the server is not ready yet.
    server.cli(&["system", "status"]).ok().shows(&["Service apiext (", "): up", "Engine DB Version: "]);
    let status = server.json(&["system", "status"]);
    assert!(status["service_states"].as_array().unwrap().iter().all(|s| s["status"] == true), "{status}");
    let listed = server.cli(&["system", "feeds", "list"]).ok();
    assert!(listed.stdout.lines().any(|l| l.contains("debian-tracker") && l.contains("pending")), "{}", listed.stdout);
    server
        .cli(&["system", "wait", "--timeout", "1", "--interval", "1"])
        .code(2)
        .says("still waiting for feed debian-tracker");
    server.cli(&["system", "wait", "--no-feeds", "--timeout", "10"]).ok().shows(&["Server is ready"]);
    let synced = server.cli(&["system", "feeds", "sync"]).ok().shows(&["Records Updated", "osv-pypi"]);
    assert!(synced.stdout.lines().any(|l| l.contains("debian-tracker") && l.contains("success")), "{}", synced.stdout);
    let listed = server.json(&["system", "feeds", "list"]);
    let osv = listed.as_array().unwrap().iter().find(|feed| feed["name"] == "osv-pypi").unwrap();
    assert!(osv["groups"][0]["record_count"].as_u64().unwrap() > 1000, "{listed}");
    server.cli(&["system", "feeds", "list"]).ok().shows(&["security-tracker-lists-2023-04", "vulns"]);
    let flushed = server.json(&["system", "feeds", "sync", "--flush"]);
    let statuses: Vec<&Value> = flushed.as_array().unwrap().iter().map(|feed| &feed["status"]).collect();
    assert_eq!(statuses, [&json!("success"), &json!("success")], "{flushed}");
    assert_eq!(server.json(&["system", "wait", "--timeout", "30", "--interval", "1"]), json!({"ready": true}));

    // The gated image is analyzing until its layers are let through; with
    // one analyzer worker, the image added after it waits its turn.
    let gated_tag = gated.reference("gated/app:1");
    server.cli(&["image", "add", &gated_tag]).ok().shows(&["Analysis Status: not_analyzed", &gated_tag]);
    wait_image(&server, &gated_tag, "analyzing", |image| image["analysis_status"] == "analyzing");
    server.cli(&["image", "vuln", &gated_tag, "all"]).code(100).says("is being analyzed");
    let added = server.json(&["image", "add", &app, "--annotation", "team=web"]);
    let digest = added[0]["imageDigest"].as_str().unwrap().to_owned();
    assert_eq!(added[0]["annotations"], json!({"team": "web"}));
    server.cli(&["image", "vuln", &app, "all"]).code(101).says("is not analyzed (not_analyzed)");
    server.cli(&["image", "wait", &app, "--timeout", "1", "--interval", "1"]).code(2).says("is still not_analyzed");
    gated.open();
    server.cli(&["image", "wait", &app, "--interval", "1"]).ok().shows(&[
        "Analysis Status: analyzed",
        "Distro: debian",
        "Annotations: team=web",
    ]);

    // Listing and looking up by tag, digest and digest pull string.
    let list = server.cli(&["image", "list", "--full"]).ok();
    assert!(
        list.stdout.lines().any(|l| l.contains(&app) && l.contains(&digest) && l.contains("analyzed")),
        "{}",
        list.stdout
    );
    let images = server.json(&["image", "list"]);
    assert_eq!(images.as_array().unwrap().len(), 2, "{images}");
    let pull_string = format!("{}/lab/app@{digest}", registry.host());
    for name in [app.as_str(), digest.as_str(), pull_string.as_str()] {
        server.cli(&["image", "get", name]).ok().shows(&[&format!("Image Digest: {digest}"), "Layer Count: 2"]);
    }
    server.cli(&["image", "get", &registry.image("lab/absent:1")]).code(1).says("the server has no image");
    let missing = format!("sha256:{}", "0".repeat(64));
    server.cli(&["image", "get", &missing]).code(1).says("404");

    // Vulnerabilities, content and metadata.
    server.cli(&["image", "vuln", &app]).ok().shows(&["os: available", "non-os: available", "all: available"]);
    let os = server.cli(&["image", "vuln", &app, "os"]).ok().shows(&["CVE-2024-0727", "libssl3-3.0.9-1", "debian:12"]);
    assert!(!os.stdout.contains("requests"), "{}", os.stdout);
    server.cli(&["image", "vuln", &app, "non-os"]).ok().shows(&["CVE-2018-18074", "requests-2.19.1", "2.20.0"]);
    let all = server.json(&["image", "vuln", &app, "all"]);
    let found: Vec<&str> =
        all["vulnerabilities"].as_array().unwrap().iter().map(|v| v["vuln"].as_str().unwrap()).collect();
    assert!(found.contains(&"CVE-2024-0727") && found.contains(&"CVE-2023-32681"), "{all}");
    assert_eq!(all["imageDigest"], digest.as_str());
    server.cli(&["image", "content", &app]).ok().shows(&["os: available", "python: available", "files: available"]);
    server.cli(&["image", "content", &app, "os"]).ok().shows(&["libssl3", "3.0.9-1", "tar"]);
    server.cli(&["image", "content", &app, "python"]).ok().shows(&["requests", "2.19.1"]);
    server.cli(&["image", "content", &app, "files"]).ok().shows(&["/var/lib/dpkg/status", "/etc/os-release"]);
    let python = server.json(&["image", "content", &app, "python"]);
    assert_eq!(python["content"][0]["package"], "requests", "{python}");
    server.cli(&["image", "content", &app, "no_such_type"]).code(1).says("unknown content type \"no_such_type\"");
    server.cli(&["image", "metadata", &app]).ok().shows(&["manifest: available", "docker_history: available"]);
    server.cli(&["image", "metadata", &app, "manifest"]).ok().shows(&["Metadata Type: manifest", "schemaVersion"]);
    server.cli(&["image", "metadata", &app, "docker_history"]).ok().shows(&["RUN pip install requests"]);
    server.cli(&["image", "metadata", &app, "dockerfile"]).ok().shows(&["Metadata: FROM scratch", "ADD rootfs /"]);
    let manifest = server.json(&["image", "metadata", &app, "manifest"]);
    assert_eq!(manifest["metadata_type"], "manifest", "{manifest}");

    // Policies and evaluations: the default bundle passes, a STOP bundle fails.
    server.cli(&["evaluate", "check", &app]).ok().shows(&["Status: pass", "Policy ID: portcullis-default"]);
    server.cli(&["evaluate", "check", &digest, "--detail"]).ok().shows(&[
        &format!("Full Tag: {app}"),
        "Final Action: warn",
        "Gate",
        "HEALTHCHECK",
    ]);
    let bundle = server.write("stop.json", &stop_bundle("stop").to_string());
    server.cli(&["policy", "add", bundle.to_str().unwrap()]).ok().shows(&["Policy ID: stop", "Active: False"]);
    // As in Anchore, adding a bundle id again replaces that bundle.
    server.cli(&["policy", "add", bundle.to_str().unwrap()]).ok().shows(&["Policy ID: stop"]);
    let not_json = server.write("bundle.txt", "policies: []");
    server.cli(&["policy", "add", not_json.to_str().unwrap()]).code(2).says("is not a JSON policy bundle");
    let invalid = server.write("invalid.json", &json!({"id": "bad", "policies": "nope"}).to_string());
    server.cli(&["policy", "add", invalid.to_str().unwrap()]).code(1);
    server.cli(&["evaluate", "check", &app, "--policy", "stop"]).code(1).shows(&["Status: fail", "Policy ID: stop"]);
    server.cli(&["policy", "activate", "stop"]).ok().shows(&["Success: stop activated"]);
    let listed = server.cli(&["policy", "list"]).ok();
    assert!(
        listed.stdout.lines().nth(1).is_some_and(|l| l.contains("stop") && l.contains("True")),
        "{}",
        listed.stdout
    );
    let policies = server.json(&["policy", "list"]);
    assert_eq!(policies.as_array().unwrap().len(), 2, "{policies}");
    server.cli(&["policy", "get", "stop"]).ok().shows(&["Policy ID: stop", "Active: True"]);
    server.cli(&["policy", "get", "stop", "--detail"]).ok().shows(&["\"mappings\"", "\"always\""]);
    let checked = server.cli(&["evaluate", "check", &app, "--detail"]).code(1);
    let checked = checked.shows(&["Status: fail", "Final Action: stop", "always"]);
    assert!(
        checked.stdout.lines().any(|l| l.contains("always") && l.trim_end().ends_with("stop")),
        "{}",
        checked.stdout
    );
    let results = server.cli(&["evaluate", "check", &app, "--json"]).code(1).stdout;
    let results: Value = serde_json::from_str(&results).unwrap();
    assert_eq!(results[0][&digest][&app][0]["status"], "fail", "{results}");
    server.cli(&["evaluate", "check", &app, "--policy", "no-such-policy"]).code(1);
    // --base-image: findings in the base's layers can be ignored. The image
    // as its own base leaves it no findings of its own.
    let own = json!({"id": "own", "name": "own", "version": "1_0",
        "policies": [{"id": "p1", "name": "vulns", "version": "1_0", "rules": [
            {"id": "r1", "gate": "vulnerabilities", "trigger": "package", "action": "STOP", "params": [
                {"name": "package_type", "value": "all"}, {"name": "ignore_base_image_findings", "value": "true"}]}]}],
        "whitelists": [], "whitelisted_images": [], "blacklisted_images": [],
        "mappings": [{"id": "m1", "name": "all", "registry": "*", "repository": "*",
            "image": {"type": "tag", "value": "*"}, "policy_ids": ["p1"], "whitelist_ids": []}]});
    let own = server.write("own.json", &own.to_string());
    server.cli(&["policy", "add", own.to_str().unwrap()]).ok();
    server.cli(&["evaluate", "check", &app, "--policy", "own"]).code(1).shows(&["Status: fail"]);
    server.cli(&["evaluate", "check", &app, "--policy", "own", "--base-image", &digest]).ok().shows(&["Status: pass"]);
    server
        .cli(&["evaluate", "check", &app, "--base-image", &registry.image("lab/absent:1")])
        .code(1)
        .says("the server has no image");
    server.cli(&["policy", "del", "own"]).ok();
    server.cli(&["policy", "del", "stop"]).code(1);
    server.cli(&["policy", "activate", "portcullis-default"]).ok();
    server.cli(&["policy", "del", "stop"]).ok().shows(&["Success"]);
    server.cli(&["policy", "get", "stop"]).code(1).says("404");
    server.cli(&["policy", "activate", "stop"]).code(1);

    // Subscriptions: adding an image subscribed its tag.
    let subscriptions = server.cli(&["subscription", "list", "--full"]).ok();
    assert!(
        subscriptions.stdout.lines().any(|l| l.contains(&app) && l.contains("tag_update") && l.contains("True")),
        "{}",
        subscriptions.stdout
    );
    server.cli(&["subscription", "deactivate", "tag_update", &app]).ok().shows(&["Success"]);
    let tag_update = |server: &Server| {
        let all = server.json(&["subscription", "list"]);
        all.as_array()
            .unwrap()
            .iter()
            .find(|s| s["subscription_key"] == app.as_str() && s["subscription_type"] == "tag_update")
            .cloned()
    };
    assert_eq!(tag_update(&server).unwrap()["active"], false);
    server.cli(&["subscription", "activate", "tag_update", &app]).ok();
    assert_eq!(tag_update(&server).unwrap()["active"], true);
    server
        .cli(&["subscription", "activate", "tag_update", "nowhere/none:1"])
        .code(1)
        .says("no tag_update subscription");
    server.cli(&["subscription", "del", "tag_update", &app]).ok().shows(&["Success"]);
    assert!(tag_update(&server).is_none());

    // An image whose layer is corrupt: the analysis fails.
    server.cli(&["image", "add", &broken]).ok();
    server.cli(&["image", "wait", &broken, "--interval", "1"]).code(1).shows(&["Analysis Status: analysis_failed"]);
    server.cli(&["image", "vuln", &broken, "os"]).code(101).says("analysis_failed");

    // Events: the log of all of the above.
    let events = server.cli(&["event", "list", "--full"]).ok();
    events.shows(&["user.image.analysis.completed", "system.feeds.sync.completed", "ResourceType"]);
    let errors = server.json(&["event", "list", "--level", "error"]);
    let failed = errors["results"].as_array().unwrap();
    assert!(!failed.is_empty() && failed.iter().all(|e| e["event"]["level"] == "error"), "{errors}");
    let id = failed[0]["generated_uuid"].as_str().unwrap().to_owned();
    server.cli(&["event", "get", &id]).ok().shows(&["\"level\": \"error\""]);
    assert_eq!(server.json(&["event", "get", &id])["generated_uuid"], id.as_str());
    let completed = server.json(&["event", "list", "--type", "user.image.analysis.completed", "--all"]);
    assert_eq!(completed["results"].as_array().unwrap().len(), 2, "{completed}");
    server.cli(&["event", "delete", &id]).ok().shows(&["Success"]);
    server.cli(&["event", "get", &id]).code(1).says("404");
    server.cli(&["event", "delete", "--before", "2000-01-01T00:00:00Z"]).ok().shows(&["No matching events found"]);
    let deleted = server.cli(&["event", "delete", "--since", "2000-01-01T00:00:00Z"]).ok();
    assert!(deleted.stdout.starts_with("Deleted "), "{}", deleted.stdout);
    assert_eq!(server.json(&["event", "list"])["results"], json!([]));

    // A Dockerfile for an image already added needs --force, which analyzes it again.
    let dockerfile = server.write("Dockerfile", "FROM debian:12\nHEALTHCHECK CMD true\n");
    let dockerfile = dockerfile.to_str().unwrap();
    server.cli(&["image", "add", &gated_tag, "--dockerfile", dockerfile]).code(1).says("needs force=true");
    server.cli(&["image", "add", &gated_tag, "--dockerfile", dockerfile, "--force"]).ok();
    server.cli(&["image", "wait", &gated_tag, "--interval", "1"]).ok().shows(&["Dockerfile Mode: Actual"]);
    server.cli(&["image", "metadata", &gated_tag, "dockerfile"]).ok().shows(&["HEALTHCHECK CMD true"]);

    // A digest pull string with the tag to record for it.
    let alias = registry.image("lab/app:alias");
    server
        .cli(&["image", "add", &pull_string, "--tag", &alias, "--noautosubscribe"])
        .ok()
        .shows(&[&format!("Full Tag: {alias}")]);
    server.cli(&["image", "get", &alias]).ok().shows(&[&format!("Image Digest: {digest}")]);

    // The tag moves to a new digest: the list shows the newest unless --show-all.
    let (_, moved) = push(&registry, dir.path(), &app_image("2.31.0"), "lab/app:1");
    let newer = server.json(&["image", "add", &moved, "--noautosubscribe"]);
    let newer = newer[0]["imageDigest"].as_str().unwrap().to_owned();
    assert_ne!(newer, digest);
    assert!(tag_update(&server).is_none_or(|s| s["active"] == false), "--noautosubscribe");
    let rows_of = |run: Run| run.stdout.lines().filter(|l| l.contains(&app)).map(str::to_owned).collect::<Vec<_>>();
    let newest = rows_of(server.cli(&["image", "list"]).ok());
    assert!(newest.len() == 1 && newest[0].contains(&newer), "{newest:?}");
    let every = rows_of(server.cli(&["image", "list", "--show-all"]).ok());
    assert_eq!(every.len(), 2, "{every:?}");

    // Deleting images.
    server.cli(&["image", "delete", &gated_tag]).code(1).says("delete with force=true");
    server.cli(&["image", "delete", &gated_tag, "--force"]).ok().shows(&["Success"]);
    // Still the current image of the alias, whose analysis_update subscription
    // is active; once that is off, no --force is needed.
    server.cli(&["image", "del", &digest]).code(1).says(&format!("current image of {alias}"));
    server.cli(&["subscription", "deactivate", "analysis_update", &alias]).ok();
    server.cli(&["image", "del", &digest]).ok().shows(&["Success"]);
    server.cli(&["image", "get", &digest]).code(1).says("404");
    server.cli(&["image", "delete", &digest]).code(1);
    let left = server.json(&["image", "list"]);
    let left: Vec<&str> = left.as_array().unwrap().iter().map(|i| i["imageDigest"].as_str().unwrap()).collect();
    assert!(left.len() == 2 && left.contains(&newer.as_str()), "{left:?}");
}

#[test]
fn registries_and_repositories() {
    let dir = tempfile::tempdir().unwrap();
    let registry = TestRegistry::start(RegistryAuth::basic("puller", "pull-secret"));
    let host = registry.host();
    let repo = format!("{host}/lab/repo");
    for tag in ["1", "2"] {
        push(&registry, dir.path(), &app_image(&format!("2.{tag}.0")), &format!("lab/repo:{tag}"));
    }
    // The registry is not in `insecure_registries`: plain HTTP comes from the credentials' --insecure.
    let server = Server::start(&[], &[]);

    // Credentials are validated against the registry unless --skip-validate.
    server.cli(&["registry", "add", &host, "puller", "pull-secret"]).code(1).says("does not seem to speak HTTPS");
    server.cli(&["registry", "add", &host, "puller", "wrong", "--insecure"]).code(1).says("were rejected");
    server.cli(&["registry", "list"]).ok().shows(&["Registry", "Name", "Type", "User"]);
    assert_eq!(server.json(&["registry", "list"]), json!([]));
    server
        .cli(&["registry", "add", &host, "puller", "pull-secret", "--insecure", "--registry-name", "lab"])
        .ok()
        .shows(&[&format!("Registry: {host}"), "Name: lab", "User: puller", "Type: docker_v2", "Verify TLS: False"]);
    server.cli(&["registry", "add", &host, "puller", "pull-secret", "--insecure"]).code(1);
    let listed = server.cli(&["registry", "list"]).ok();
    assert!(
        listed.stdout.lines().any(|l| l.contains(&host) && l.contains("lab") && l.contains("puller")),
        "{}",
        listed.stdout
    );
    server.cli(&["registry", "get", &host]).ok().shows(&["Name: lab"]);
    let stored = server.json(&["registry", "get", &host]);
    assert_eq!((&stored[0]["registry"], &stored[0]["registry_user"]), (&json!(host), &json!("puller")), "{stored}");
    assert!(stored[0]["registry_pass"].as_str().is_none_or(|pass| pass != "pull-secret"), "{stored}");
    server.cli(&["registry", "update", &host, "puller", "wrong", "--insecure"]).code(1).says("were rejected");
    server
        .cli(&[
            "registry",
            "update",
            &host,
            "nobody",
            "unchecked",
            "--insecure",
            "--skip-validate",
            "--registry-name",
            "x",
        ])
        .ok()
        .shows(&["User: nobody", "Name: x"]);
    server
        .cli(&["registry", "update", &host, "puller", "pull-secret", "--insecure", "--registry-name", "renamed"])
        .ok()
        .shows(&["User: puller", "Name: renamed"]);
    server.cli(&["registry", "get", "elsewhere:5000"]).code(1).says("no credentials stored");
    server.cli(&["registry", "update", "elsewhere:5000", "u", "p", "--skip-validate"]).code(1);

    // Repositories: listed with the stored credentials; each tag is added.
    let dry = server.cli(&["repo", "add", &repo, "--dryrun"]).ok();
    assert!(dry.stdout.lines().any(|l| l.contains(&repo) && l.trim_end().ends_with('2')), "{}", dry.stdout);
    assert_eq!(server.json(&["repo", "list"]), json!([]), "a dry run adds nothing");
    let added = server.cli(&["repo", "add", &repo]).ok();
    assert!(added.stdout.lines().any(|l| l.contains(&repo) && l.contains("True")), "{}", added.stdout);
    let images = server.cli(&["image", "list"]).ok();
    images.shows(&[&format!("{repo}:1"), &format!("{repo}:2")]);
    let listed = server.json(&["repo", "list"]);
    assert_eq!(listed[0]["subscription_key"], repo.as_str(), "{listed}");
    assert_eq!(listed[0]["subscription_type"], "repo_update", "{listed}");
    let unwatched = server.cli(&["repo", "unwatch", &repo]).ok();
    assert!(unwatched.stdout.lines().any(|l| l.contains(&repo) && l.contains("False")), "{}", unwatched.stdout);
    assert_eq!(server.json(&["repo", "list"])[0]["active"], false);
    server.cli(&["repo", "watch", &repo]).ok().shows(&["True"]);
    server.cli(&["repo", "del", &repo]).ok().shows(&["Success"]);
    assert_eq!(server.json(&["repo", "list"]), json!([]));
    server.cli(&["repo", "watch", &repo]).code(1).says("no repo_update subscription");
    server.cli(&["repo", "add", &registry.image("lab/absent")]).code(1);

    server.cli(&["registry", "del", &host]).ok().shows(&["Success"]);
    server.cli(&["registry", "del", &host]).code(1);
    server.cli(&["registry", "get", &host]).code(1);
}

#[test]
fn accounts_users_and_connection_settings() {
    let server = Server::start(&[], &[]);
    let url = server.process.url.clone();

    server.cli(&["account", "whoami"]).ok().shows(&["Username: admin", "AccountName: admin", "AccountType: admin"]);
    server.as_user("admin", "wrong", &["account", "whoami"]).code(2).says("401");
    portcullis(&["account", "whoami", "--url", &url], &[]).code(2).says("401");

    // Accounts.
    server.cli(&["account", "add", "team", "--email", "team@example.com"]).ok().shows(&[
        "Name: team",
        "Email: team@example.com",
        "Type: user",
        "State: enabled",
    ]);
    server.cli(&["account", "add", "team"]).code(1).says("already exists");
    server.cli(&["account", "get", "team"]).ok().shows(&["Name: team"]);
    server.cli(&["account", "get", "nobody"]).code(1).says("404");
    let listed = server.cli(&["account", "list"]).ok();
    assert!(
        listed.stdout.lines().any(|l| l.contains("team@example.com") && l.contains("enabled")),
        "{}",
        listed.stdout
    );
    let accounts = server.json(&["account", "list"]);
    let names: Vec<&str> = accounts.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["admin", "team"], "{accounts}");

    // Users, and logging in as one.
    server
        .cli(&["account", "user", "add", "alice", "alice-pw", "--in-account", "team"])
        .ok()
        .shows(&["Name: alice", "Type: native"]);
    server.cli(&["account", "user", "add", "alice", "again", "--in-account", "team"]).code(1);
    server.cli(&["account", "user", "get", "alice", "--in-account", "team"]).ok().shows(&["Name: alice"]);
    server.cli(&["account", "user", "get", "alice"]).code(1).says("404");
    let users = server.json(&["account", "user", "list", "--in-account", "team"]);
    assert_eq!(users[0]["username"], "alice", "{users}");
    server.cli(&["account", "user", "list"]).ok().shows(&["admin"]);
    let alice = |password: &str, args: &[&str]| server.as_user("alice", password, args);
    alice("alice-pw", &["account", "whoami"]).ok().shows(&[
        "Username: alice",
        "AccountName: team",
        "AccountType: user",
    ]);
    // As in Anchore, managing accounts and users takes an admin.
    alice("alice-pw", &["account", "user", "list"]).code(1).says("403");
    alice("alice-pw", &["account", "list"]).code(1).says("403");
    let whoami = alice("alice-pw", &["account", "whoami", "--json"]).json();
    assert_eq!((&whoami["user"]["username"], &whoami["account"]["name"]), (&json!("alice"), &json!("team")));

    // The connection from the environment: Portcullis' names first, then anchore-cli's.
    let env = [("PORTCULLIS_URL", url.as_str()), ("PORTCULLIS_USER", "alice"), ("PORTCULLIS_PASSWORD", "alice-pw")];
    portcullis(&["account", "whoami"], &env).ok().shows(&["Username: alice"]);
    let anchore =
        [("ANCHORE_CLI_URL", url.as_str()), ("ANCHORE_CLI_USER", "admin"), ("ANCHORE_CLI_PASS", ADMIN_PASSWORD)];
    portcullis(&["account", "whoami"], &anchore).ok().shows(&["Username: admin"]);
    let both: Vec<(&str, &str)> = env.iter().chain(&anchore).copied().collect();
    portcullis(&["account", "whoami"], &both).ok().shows(&["Username: alice"]);

    // An admin acting on another account's resources.
    let team_bundle = server.write("team.json", &stop_bundle("team-stop").to_string());
    server.cli(&["policy", "add", team_bundle.to_str().unwrap(), "--account", "team"]).ok();
    alice("alice-pw", &["policy", "get", "team-stop"]).ok().shows(&["Policy ID: team-stop"]);
    server.cli(&["policy", "get", "team-stop"]).code(1);
    portcullis(
        &["policy", "get", "team-stop", "--url", &url, "-u", "admin", "-p", ADMIN_PASSWORD],
        &[("PORTCULLIS_ACCOUNT", "team")],
    )
    .ok();

    // Passwords.
    server
        .cli(&["account", "user", "setpassword", "alice", "alice-new", "--in-account", "team"])
        .ok()
        .shows(&["Password (re)set success"]);
    alice("alice-pw", &["account", "whoami"]).code(2).says("401");
    alice("alice-new", &["account", "whoami"]).ok();

    // A disabled account's users cannot log in; only a disabled account can be deleted.
    server.cli(&["account", "disable", "team"]).ok().shows(&["Success"]);
    server.cli(&["account", "get", "team"]).ok().shows(&["State: disabled"]);
    alice("alice-new", &["account", "whoami"]).code(2).says("401");
    server.cli(&["account", "enable", "team"]).ok();
    alice("alice-new", &["account", "whoami"]).ok();
    server.cli(&["account", "del", "team"]).code(1).says("Cannot go from state enabled");
    server.cli(&["account", "user", "del", "alice", "--in-account", "team"]).ok().shows(&["Success"]);
    server.cli(&["account", "user", "get", "alice", "--in-account", "team"]).code(1);
    alice("alice-new", &["account", "whoami"]).code(2);
    server.cli(&["account", "disable", "team"]).ok();
    server.cli(&["account", "del", "team"]).ok().shows(&["Success"]);
    // Marked `deleting` until the cleanup watcher removes it, which it may already have done.
    let gone = server.cli(&["account", "get", "team"]);
    assert!(gone.code == 1 || gone.stdout.contains("State: deleting"), "{}{}", gone.stdout, gone.stderr);
    server.cli(&["account", "disable", "admin"]).code(1);
}

#[test]
fn analysis_archive() {
    let dir = tempfile::tempdir().unwrap();
    let registry = TestRegistry::start(RegistryAuth::None);
    let (_, app) = push(&registry, dir.path(), &app_image("2.19.1"), "lab/archived:1");
    let server = Server::start(&[registry.host()], &[]);
    let added = server.json(&["image", "add", &app, "--noautosubscribe"]);
    let digest = added[0]["imageDigest"].as_str().unwrap().to_owned();
    server.cli(&["image", "wait", &digest, "--interval", "1"]).ok().shows(&["Analysis Status: analyzed"]);
    let unknown = format!("sha256:{}", "0".repeat(64));
    let archive = |args: &[&str]| {
        let mut full = vec!["analysis-archive"];
        full.extend_from_slice(args);
        server.cli(&full)
    };
    let archive_json = |args: &[&str]| {
        let mut full = vec!["analysis-archive"];
        full.extend_from_slice(args);
        server.json(&full)
    };

    // Archiving keeps the working copy; a digest the server lacks archives nothing.
    let added = archive(&["images", "add", &digest]).ok().shows(&["Image Digest", "Archive Status"]);
    assert!(
        added.stdout.lines().any(|l| l.trim_start().starts_with(&digest) && l.contains("archived")),
        "{}",
        added.stdout
    );
    let again = archive_json(&["images", "add", &digest]);
    assert_eq!(again[0]["status"], "archived", "{again}");
    assert!(again[0]["detail"].as_str().unwrap().contains("already"), "{again}");
    archive(&["images", "add", &digest, &unknown]).code(1).says(&format!("image {unknown} not found"));
    archive(&["images", "add", &app]).code(2).says("is not an image digest");
    archive(&["images", "add"]).code(2);
    let listed = archive(&["images", "list"]).ok().shows(&["Archive Size Bytes"]);
    assert!(
        listed
            .stdout
            .lines()
            .any(|l| l.trim_start().starts_with(&digest) && l.contains(&app) && l.contains("archived")),
        "{}",
        listed.stdout
    );
    let listed = archive_json(&["images", "list"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert!(listed[0]["archive_size_bytes"].as_u64().unwrap() > 0, "{listed}");
    archive(&["images", "get", &digest]).ok().shows(&[&digest, &app, "archived"]);
    assert_eq!(archive_json(&["images", "get", &digest])[0]["imageDigest"], digest.as_str());
    archive(&["images", "get", &unknown]).code(1).says("is not in the analysis archive");

    // Restoring needs the working copy gone; it comes back analysed.
    archive(&["images", "restore", &digest]).code(1).says("only a deleted image can be restored");
    server.cli(&["image", "del", &digest, "--force"]).ok();
    server.cli(&["image", "get", &digest]).code(1);
    archive(&["images", "restore", &digest]).ok().shows(&[
        &format!("Image Digest: {digest}"),
        "Analysis Status: analyzed",
        &format!("Full Tag: {app}"),
    ]);
    server.cli(&["image", "content", &digest, "python"]).ok().shows(&["requests", "2.19.1"]);
    archive(&["images", "restore", &unknown]).code(1).says("is not in the analysis archive");

    // Rules: a rule archiving every analysed lab/* image selects the image now.
    let rule = archive_json(&["rules", "add", "0", "0", "archive", "--repository-selector", "lab/*"]);
    let id = rule["rule_id"].as_str().unwrap().to_owned();
    assert_eq!((&rule["selector"]["repository"], &rule["system_global"]), (&json!("lab/*"), &json!(false)));
    let listed = archive(&["rules", "list"]).ok().shows(&["Tag Versions Newer", "Exclude Exp Days"]);
    let row =
        listed.stdout.lines().find(|l| l.trim_start().starts_with(&id)).unwrap_or_else(|| panic!("{}", listed.stdout));
    for cell in ["False", "archive", "0", "lab/*", "None", "-1"] {
        assert!(row.split_whitespace().any(|word| word == cell), "{cell} missing from {row}");
    }
    assert_eq!(archive_json(&["rules", "list"]).as_array().unwrap().len(), 1);
    archive(&["rules", "get", &id]).ok().shows(&[&id, "lab/*"]);
    archive(&["rules", "preview", &id]).ok().shows(&[&format!("Rule Id: {id}"), "Image Count: 1", &digest]);
    assert_eq!(archive_json(&["rules", "preview", &id])["digests"], json!([digest]));
    let delete_rule = archive_json(&["rules", "add", "3", "1", "delete", "--tag-exclude", "keep-*"]);
    assert_eq!(delete_rule["exclude"]["selector"]["tag"], "keep-*", "{delete_rule}");
    archive(&["rules", "preview", delete_rule["rule_id"].as_str().unwrap()]).ok().shows(&["Image Count: 0"]);
    archive(&["rules", "add", "1", "1", "archive", "--registry-selector", ""]).code(1).says("must not be empty");
    archive(&["rules", "add", "1", "1", "archive", "--max-images-per-account", "5"])
        .code(1)
        .says("max_images_per_account");
    archive(&["rules", "add", "1", "1", "sideways"]).code(2);
    archive(&["rules", "get", "no-such-rule"]).code(1).says("archive rule no-such-rule not found");
    archive(&["rules", "preview", "no-such-rule"]).code(1);
    archive(&["rules", "del", &id]).ok().shows(&["Success"]);
    archive(&["rules", "del", &id]).code(1).says("not found");

    // Deleting the archived image.
    archive(&["images", "del", &digest]).ok().shows(&["Success"]);
    archive(&["images", "del", &digest]).code(1).says("is not in the analysis archive");
    assert_eq!(archive_json(&["images", "list"]), json!([]));
}
