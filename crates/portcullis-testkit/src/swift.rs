//! A real single-node OpenStack Swift for tests, from Debian's packages
//! (swift-proxy, swift-account, swift-container, swift-object 2.30, plus
//! memcached, which tempauth keeps its tokens in). Rings with one device in a
//! temporary directory under the workspace's `target/` (`mount_check = false`;
//! the object server needs user xattrs, which ext4 has but an older tmpfs
//! /tmp may not), every server on a free loopback port, tempauth
//! with one user. The system's /etc/swift/swift.conf (hash path settings,
//! storage policy 0) is used as the package installs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::s3::{Service, free_port, http_request};

const INSTALL_HINT: &str =
    "install Debian's swift-proxy swift-account swift-container swift-object memcached (scripts/test.sh does)";

/// tempauth's user (`account:user`), its key, and the account it owns.
pub const USER: &str = "test:tester";
pub const KEY: &str = "testing";

/// A running Swift (proxy, account, container and object servers, memcached), stopped on drop.
pub struct SwiftServer {
    // Dropped first: the servers stop before their directory goes.
    _services: Vec<Service>,
    proxy_port: u16,
    _dir: tempfile::TempDir,
}

impl SwiftServer {
    pub fn start() -> Self {
        for binary in ["swift-ring-builder", "swift-proxy-server", "swift-object-server", "memcached"] {
            assert!(which(binary).is_some(), "{binary} not found: {INSTALL_HINT}");
        }
        let dir = device_parent();
        // The servers switch to `user` at start; only root may name another.
        let user = current_user();
        let etc = dir.path().join("etc");
        std::fs::create_dir_all(dir.path().join("devices/d1")).expect("device directory");
        std::fs::create_dir_all(&etc).expect("etc directory");
        let [memcached, object, container, account, proxy] = std::array::from_fn(|_| free_port());
        for (ring, port) in [("account", account), ("container", container), ("object", object)] {
            let builder = etc.join(format!("{ring}.builder"));
            ring_builder(&builder, &["create", "0", "1", "1"]);
            ring_builder(&builder, &["add", &format!("r1z1-127.0.0.1:{port}/d1"), "1"]);
            ring_builder(&builder, &["rebalance"]);
        }
        let mut services = Vec::new();
        let mut memcached_command = Command::new(which("memcached").unwrap_or_default());
        memcached_command.args(["-l", "127.0.0.1", "-p", &memcached.to_string(), "-U", "0", "-u", "root"]);
        services.push(Service::spawn("memcached", memcached_command, memcached));
        for (server, port) in [("object", object), ("container", container), ("account", account)] {
            let conf = etc.join(format!("{server}-server.conf"));
            std::fs::write(
                &conf,
                format!(
                    "[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {port}\ndevices = {devices}\nmount_check = false\n\
                     swift_dir = {etc}\nuser = {user}\nworkers = 0\n\
                     [pipeline:main]\npipeline = {server}-server\n\
                     [app:{server}-server]\nuse = egg:swift#{server}\n",
                    devices = dir.path().join("devices").display(),
                    etc = etc.display(),
                ),
            )
            .expect("server configuration");
            services.push(server_process(server, &conf, port));
        }
        let conf = etc.join("proxy-server.conf");
        std::fs::write(
            &conf,
            format!(
                "[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {proxy}\nswift_dir = {etc}\nuser = {user}\nworkers = 0\n\
                 [pipeline:main]\npipeline = catch_errors proxy-logging cache tempauth proxy-logging proxy-server\n\
                 [app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n\
                 [filter:tempauth]\nuse = egg:swift#tempauth\nuser_test_tester = {KEY} .admin\n\
                 [filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:{memcached}\n\
                 [filter:catch_errors]\nuse = egg:swift#catch_errors\n\
                 [filter:proxy-logging]\nuse = egg:swift#proxy_logging\n",
                etc = etc.display(),
            ),
        )
        .expect("proxy configuration");
        services.push(server_process("proxy", &conf, proxy));
        let server = Self { _services: services, proxy_port: proxy, _dir: dir };
        server.wait_for_auth();
        server
    }

    /// The v1 auth URL: `http://127.0.0.1:<port>/auth/v1.0`.
    pub fn auth_url(&self) -> String {
        format!("http://127.0.0.1:{}/auth/v1.0", self.proxy_port)
    }

    /// The proxy answers before the account server does; a first
    /// authenticated request proves the whole chain is up.
    fn wait_for_auth(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let request =
            format!("GET /auth/v1.0 HTTP/1.0\r\nHost: 127.0.0.1\r\nX-Auth-User: {USER}\r\nX-Auth-Key: {KEY}\r\n\r\n");
        loop {
            let (status, head) = http_request(self.proxy_port, &request);
            if status == 200 {
                return;
            }
            assert!(Instant::now() < deadline, "Swift's tempauth never answered 200: {head}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A temporary directory for the rings and the device, under the
/// workspace's `target/` rather than /tmp: the object server stores its
/// metadata in user xattrs, which a tmpfs /tmp may refuse. Checked up front
/// so that such a file system is named instead of failing every PUT.
fn device_parent() -> tempfile::TempDir {
    let target = crate::schema::workspace_root().join("target");
    std::fs::create_dir_all(&target).expect("the workspace's target directory");
    let dir = tempfile::Builder::new().prefix("swift-").tempdir_in(&target).expect("temporary directory");
    let probe = Command::new("python3")
        .args(["-c", "import os, sys; os.setxattr(sys.argv[1], 'user.portcullis-probe', b'1')"])
        .arg(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 (Swift needs it anyway): {e}"));
    assert!(
        probe.status.success(),
        "{} does not take user xattrs, which Swift's object server needs: {}",
        dir.path().display(),
        String::from_utf8_lossy(&probe.stderr)
    );
    dir
}

fn current_user() -> String {
    let output = Command::new("id").arg("-un").output().expect("running id -un");
    assert!(output.status.success(), "id -un failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn server_process(server: &str, conf: &Path, port: u16) -> Service {
    let binary = which(&format!("swift-{server}-server"))
        .unwrap_or_else(|| panic!("swift-{server}-server not found: {INSTALL_HINT}"));
    let mut command = Command::new(binary);
    command.arg(conf);
    Service::spawn(&format!("swift-{server}-server"), command, port)
}

fn ring_builder(builder: &Path, args: &[&str]) {
    let output = Command::new("swift-ring-builder")
        .arg(builder)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run swift-ring-builder: {e}; {INSTALL_HINT}"));
    // `rebalance` exits 1 with a warning on a one-device ring; 2 is an error.
    assert!(
        output.status.code().is_some_and(|code| code < 2),
        "swift-ring-builder {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn which(binary: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join(binary))
        .find(|candidate| candidate.is_file())
}
