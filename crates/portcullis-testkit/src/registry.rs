//! A real registry for tests: Debian's `docker-registry` (distribution 2.8)
//! on 127.0.0.1 with a free port and storage in a temporary directory, plus
//! pushes with the real `skopeo`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::get_status;
use crate::token::{self, TokenServer};

const REGISTRY_BINARY: &str = "/usr/bin/docker-registry";
const INSTALL_HINT: &str = "the registry tests need Debian's docker-registry, skopeo, apache2-utils (htpasswd) and openssl; \
     run ./scripts/test.sh (the README's test command), which installs them, \
     or apt-get install -y docker-registry skopeo apache2-utils openssl";

/// How the registry authenticates clients.
#[derive(Debug, Clone)]
pub enum RegistryAuth {
    /// Anonymous pull and push.
    None,
    /// htpasswd (bcrypt) Basic auth.
    Basic { user: String, password: String },
    /// `auth: token`: a token server run by the kit hands out JWTs; it wants
    /// `user`/`password` as Basic credentials, and with `anonymous_pull`
    /// grants pull-only tokens to anonymous clients (as Docker Hub does).
    Token { user: String, password: String, anonymous_pull: bool },
}

impl RegistryAuth {
    pub fn basic(user: &str, password: &str) -> RegistryAuth {
        RegistryAuth::Basic { user: user.to_owned(), password: password.to_owned() }
    }

    pub fn token(user: &str, password: &str, anonymous_pull: bool) -> RegistryAuth {
        RegistryAuth::Token { user: user.to_owned(), password: password.to_owned(), anonymous_pull }
    }
}

/// A running registry; the process is killed (by its PID) on drop.
pub struct TestRegistry {
    child: Child,
    port: u16,
    auth: RegistryAuth,
    token_server: Option<TokenServer>,
    dir: tempfile::TempDir,
}

impl TestRegistry {
    /// Starts a registry and waits until `/v2/` answers. Panics (with the
    /// registry's log) if it cannot; never skips.
    pub fn start(auth: RegistryAuth) -> TestRegistry {
        let binary = registry_binary();
        let mut dir =
            tempfile::Builder::new().prefix("portcullis-registry-").tempdir().expect("creating a temporary directory");
        let token_server = match &auth {
            RegistryAuth::Token { user, password, anonymous_pull } => {
                Some(TokenServer::start(dir.path(), user, password, *anonymous_pull))
            }
            _ => None,
        };
        if let RegistryAuth::Basic { user, password } = &auth {
            write_htpasswd(&dir.path().join("htpasswd"), user, password);
        }
        // Binding port 0 and releasing it leaves a small window for another
        // process to grab the port; a registry that then fails to bind is
        // retried with a fresh port.
        for _attempt in 0..5 {
            let port = free_port();
            let config = dir.path().join("config.yml");
            std::fs::write(&config, config_yaml(dir.path(), port, &auth, token_server.as_ref()))
                .expect("writing config.yml");
            let log_path = dir.path().join("registry.log");
            let log = std::fs::File::create(&log_path).expect("creating registry.log");
            let child = Command::new(&binary)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("cloning the log handle"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}; {INSTALL_HINT}", binary.display()));
            let mut registry = TestRegistry { child, port, auth: auth.clone(), token_server: None, dir };
            match registry.wait_ready() {
                Ok(()) => {
                    registry.token_server = token_server;
                    return registry;
                }
                Err(log) if log.contains("address already in use") => {
                    // Dropping kills the dead/dying process; reclaim the directory.
                    dir = registry.take_dir();
                }
                Err(log) => panic!("docker-registry did not come up on 127.0.0.1:{port}:\n{log}"),
            }
        }
        panic!("docker-registry could not find a free port after 5 attempts");
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}:\n{}", self.log()));
            }
            if let Some(200 | 401) = get_status(&self.host(), "/v2/") {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        Err(format!("no answer on /v2/ within 15 s:\n{}", self.log()))
    }

    /// Moves the directory out (for a retry), leaving an empty one behind.
    fn take_dir(&mut self) -> tempfile::TempDir {
        let placeholder = tempfile::tempdir().expect("creating a temporary directory");
        std::mem::replace(&mut self.dir, placeholder)
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT/REPO:TAG` for `repo_and_tag`.
    pub fn image(&self, repo_and_tag: &str) -> String {
        format!("{}/{repo_and_tag}", self.host())
    }

    pub fn auth(&self) -> &RegistryAuth {
        &self.auth
    }

    /// The user and password clients must send, if any.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        match &self.auth {
            RegistryAuth::None => None,
            RegistryAuth::Basic { user, password } | RegistryAuth::Token { user, password, .. } => {
                Some((user.as_str(), password.as_str()))
            }
        }
    }

    pub fn token_server(&self) -> Option<&TokenServer> {
        self.token_server.as_ref()
    }

    /// Tokens the kit's token server has issued (0 without token auth).
    pub fn tokens_issued(&self) -> usize {
        self.token_server.as_ref().map_or(0, TokenServer::issued)
    }

    /// The registry's storage root.
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Where the registry keeps the bytes of blob `digest`.
    pub fn blob_data_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        self.storage_dir().join("docker/registry/v2/blobs/sha256").join(&hex[..2]).join(hex).join("data")
    }

    /// Flips one byte in the middle of a stored blob, keeping its length, so
    /// the registry serves it as before but its digest no longer matches.
    pub fn corrupt_blob(&self, digest: &str) {
        let path = self.blob_data_path(digest);
        let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        assert!(!bytes.is_empty(), "blob {digest} is empty");
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// Replaces the stored bytes of blob `digest` (manifests are blobs too)
    /// with `rewrite(old bytes)`, behind the registry's back.
    pub fn rewrite_blob(&self, digest: &str, rewrite: impl FnOnce(Vec<u8>) -> Vec<u8>) {
        let path = self.blob_data_path(digest);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        std::fs::write(&path, rewrite(bytes)).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// The registry's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn registry_binary() -> PathBuf {
    let fixed = PathBuf::from(REGISTRY_BINARY);
    if fixed.is_file() {
        return fixed;
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("docker-registry"))
        .find(|candidate| candidate.is_file());
    on_path.unwrap_or_else(|| panic!("{REGISTRY_BINARY} not found; {INSTALL_HINT}"))
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

fn write_htpasswd(path: &Path, user: &str, password: &str) {
    // distribution accepts only bcrypt entries (-B).
    let output = Command::new("htpasswd")
        .args(["-Bbn", user, password])
        .output()
        .unwrap_or_else(|e| panic!("running htpasswd: {e}; {INSTALL_HINT}"));
    assert!(output.status.success(), "htpasswd failed: {}", String::from_utf8_lossy(&output.stderr));
    std::fs::write(path, output.stdout).expect("writing htpasswd");
}

fn config_yaml(dir: &Path, port: u16, auth: &RegistryAuth, token_server: Option<&TokenServer>) -> String {
    let mut yaml = format!(
        "version: 0.1\n\
         log:\n  level: info\n  accesslog:\n    disabled: false\n\
         storage:\n  filesystem:\n    rootdirectory: {data}\n  delete:\n    enabled: true\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: portcullis-testkit\n",
        data = dir.join("data").display()
    );
    match (auth, token_server) {
        (RegistryAuth::None, _) => {}
        (RegistryAuth::Basic { .. }, _) => {
            yaml.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: portcullis-test\n    path: {}\n",
                dir.join("htpasswd").display()
            ));
        }
        (RegistryAuth::Token { .. }, Some(server)) => {
            yaml.push_str(&format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                server.realm(),
                token::SERVICE,
                token::ISSUER,
                server.cert_path().display()
            ));
        }
        (RegistryAuth::Token { .. }, None) => unreachable!("token auth always has a token server"),
    }
    yaml
}

/// The manifest format skopeo writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    /// OCI image manifest / index.
    Oci,
    /// Docker schema 2 manifest / manifest list.
    V2s2,
}

/// How to push.
#[derive(Debug, Clone, Copy, Default)]
pub struct PushOptions {
    /// `--format`; `None` keeps what the layout has.
    pub format: Option<ManifestFormat>,
    /// `--all`: push the whole index instead of the host's platform only.
    pub all: bool,
}

impl PushOptions {
    pub fn oci() -> PushOptions {
        PushOptions { format: Some(ManifestFormat::Oci), all: false }
    }

    pub fn v2s2() -> PushOptions {
        PushOptions { format: Some(ManifestFormat::V2s2), all: false }
    }

    /// Every platform of an index, format kept.
    pub fn all() -> PushOptions {
        PushOptions { format: None, all: true }
    }

    pub fn with_format(mut self, format: ManifestFormat) -> PushOptions {
        self.format = Some(format);
        self
    }
}

/// Pushes `layout_dir:layout_ref` to `registry` as `dest` (`repo:tag`) with
/// the real `skopeo copy`, sending the registry's credentials if it has
/// any. Returns `HOST/dest`.
pub fn push_oci_layout(
    layout_dir: &Path,
    layout_ref: &str,
    registry: &TestRegistry,
    dest: &str,
    options: PushOptions,
) -> String {
    let target = registry.image(dest);
    let mut command = Command::new("skopeo");
    // --insecure-policy: do not depend on the machine's /etc/containers/policy.json.
    command.args(["--insecure-policy", "copy", "--dest-tls-verify=false", "--retry-times", "2"]);
    if let Some((user, password)) = registry.credentials() {
        command.arg("--dest-creds").arg(format!("{user}:{password}"));
    }
    match options.format {
        Some(ManifestFormat::Oci) => {
            command.args(["--format", "oci"]);
        }
        Some(ManifestFormat::V2s2) => {
            command.args(["--format", "v2s2"]);
        }
        None => {}
    }
    if options.all {
        command.arg("--all");
    }
    command.arg(format!("oci:{}:{layout_ref}", layout_dir.display())).arg(format!("docker://{target}"));
    let output =
        command.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("running skopeo: {e}; {INSTALL_HINT}"));
    assert!(
        output.status.success(),
        "skopeo copy to {target} failed ({}):\n{}\n{}\nregistry log:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        registry.log()
    );
    target
}
