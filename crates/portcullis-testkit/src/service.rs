//! `portcullis serve` as a real process, for tests that need what only a
//! process gives: being killed mid-work, several processes sharing one
//! database, a client in another language.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The admin password every [`ServiceProcess`] is started with.
pub const ADMIN_PASSWORD: &str = "admin-test-password";

/// A running `portcullis serve`; killed on drop.
pub struct ServiceProcess {
    child: Child,
    /// `http://127.0.0.1:PORT/v1` (when the process has the api role).
    pub url: String,
    pub log: PathBuf,
}

/// A free loopback port (bound, then released for the child to take).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding a loopback port");
    listener.local_addr().expect("local address").port()
}

impl ServiceProcess {
    /// Starts `binary serve --data-dir DATA_DIR --listen 127.0.0.1:PORT ARGS...`
    /// with `env`, and waits until `/health` answers (or, without the api
    /// role, until the log says the process started).
    pub fn start(binary: &Path, data_dir: &Path, args: &[&str], env: &[(&str, &str)]) -> ServiceProcess {
        let port = free_port();
        let log = data_dir.join(format!("serve-{port}.log"));
        std::fs::create_dir_all(data_dir).expect("creating the data directory");
        let log_file = std::fs::File::create(&log).expect("creating the service log");
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(args)
            .env("PORTCULLIS_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdout(Stdio::null())
            .stderr(log_file);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let process = ServiceProcess { child, url: format!("http://127.0.0.1:{port}/v1"), log };
        let api = !args.windows(2).any(|w| w[0] == "--roles" && !w[1].contains("api"));
        process.wait_ready(api);
        process
    }

    fn wait_ready(&self, api: bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let ready = if api {
                std::net::TcpStream::connect(self.url.trim_start_matches("http://").trim_end_matches("/v1")).is_ok()
            } else {
                self.log_text().contains("started")
            };
            if ready {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("portcullis serve did not start within 60 s; its log:\n{}", self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
