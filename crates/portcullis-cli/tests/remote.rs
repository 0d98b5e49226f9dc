//! The client commands (`portcullis image|evaluate check|policy|subscription|
//! repo|registry|system|event|account`) end to end: the real binary against
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
        assert_eq!(self.code, expected, "portcullis {} exited {}:\n{}\n{}", self.args, self.code, self.stdout, self.stderr);
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
        assert!(self.stderr.contains(needle), "portcullis {}: {needle:?} missing from stderr\n{}", self.args, self.stderr);
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
        let process =
            ServiceProcess::start(Path::new(BIN), &dir.path().join("data"), &["--config", config.to_str().unwrap()], env);
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
            let Some((_, bytes, gated)) = blobs.iter().find(|(digest, _, _)| path.ends_with(&format!("/blobs/{digest}")))
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
    let feeds = portcullis_testkit::data::feeds_root();
    let sources = format!(
        "debian-tracker={},osv-pypi={}",
        feeds.join("debian-tracker").display(),
        feeds.join("osv-pypi").display()
    );
    let server = Server::start(&[registry.host(), gated.server.host()], &[("PORTCULLIS_FEEDS_FROM", &sources)]);

    // Feeds: configured but never synced, so the server is not ready yet.
    let run = server.cli(&["system", "feeds", "list"]).ok();
    eprintln!("FEEDS LIST\n{}", run.stdout);
    server.cli(&["system", "wait", "--timeout", "1", "--interval", "1"]).code(2).says("still waiting for feed");
    let run = server.cli(&["system", "feeds", "sync"]).ok();
    eprintln!("FEEDS SYNC\n{}", run.stdout);
    let run = server.cli(&["system", "feeds", "list"]).ok();
    eprintln!("FEEDS LIST\n{}", run.stdout);
    server.cli(&["system", "wait", "--timeout", "30", "--interval", "1"]).ok().shows(&["Server is ready"]);
    let run = server.cli(&["system", "status"]).ok();
    eprintln!("STATUS\n{}", run.stdout);

    // The gated image is analyzing until its layers are let through; with
    // one analyzer worker, the image added after it waits its turn.
    let gated_tag = gated.reference("gated/app:1");
    let run = server.cli(&["image", "add", &gated_tag]).ok();
    eprintln!("ADD\n{}", run.stdout);
    wait_image(&server, &gated_tag, "analyzing", |image| image["analysis_status"] == "analyzing");
    server.cli(&["image", "vuln", &gated_tag, "all"]).code(100).says("is being analyzed");
    let added = server.json(&["image", "add", &app, "--annotation", "team=web"]);
    let digest = added[0]["imageDigest"].as_str().unwrap().to_owned();
    server.cli(&["image", "vuln", &app, "all"]).code(101).says("not_analyzed");
    gated.open();
    let run = server.cli(&["image", "wait", &app, "--interval", "1"]).ok().shows(&["Analysis Status: analyzed"]);
    eprintln!("WAIT\n{}", run.stdout);
    for args in [
        vec!["image", "list"],
        vec!["image", "list", "--full"],
        vec!["image", "get", &digest],
        vec!["image", "vuln", &app],
        vec!["image", "vuln", &app, "os"],
        vec!["image", "vuln", &app, "non-os"],
        vec!["image", "content", &app],
        vec!["image", "content", &app, "os"],
        vec!["image", "content", &app, "python"],
        vec!["image", "content", &app, "files"],
        vec!["image", "metadata", &app],
        vec!["image", "metadata", &app, "manifest"],
        vec!["image", "metadata", &app, "docker_history"],
        vec!["image", "metadata", &app, "dockerfile"],
        vec!["evaluate", "check", &app],
        vec!["evaluate", "check", &app, "--detail"],
        vec!["subscription", "list"],
        vec!["event", "list"],
        vec!["policy", "list"],
    ] {
        let run = server.cli(&args);
        eprintln!("=== {args:?} -> {}\n{}{}", run.code, run.stdout, run.stderr);
    }
    panic!("explore");
}
