//! A real S3 server for tests: moto's `moto_server`, from the venv that
//! `scripts/moto-venv.sh` makes (`target/moto-venv`, or
//! `PORTCULLIS_MOTO_VENV`). The venv is not created here: scripts/test.sh
//! prepares it, and a missing venv fails the test with instructions.
//!
//! moto accepts any credentials unless IAM checks are on;
//! [`S3Server::start_with_auth`] turns them on and creates a user, so that
//! wrong keys are refused as real S3 refuses them.

use std::io::{Read, Seek};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::schema::workspace_root;

/// Credentials moto accepts when IAM checks are off.
pub const ACCESS_KEY: &str = "portcullis-test";
pub const SECRET_KEY: &str = "portcullis-test-secret";

/// A running `moto_server`, stopped on drop.
pub struct S3Server {
    process: Service,
    port: u16,
    access_key: String,
    secret_key: String,
}

impl S3Server {
    /// Starts moto on a free loopback port, accepting any credentials.
    pub fn start() -> Self {
        let port = free_port();
        let process = Service::spawn("moto_server", moto_command(port, false), port);
        Self { process, port, access_key: ACCESS_KEY.to_owned(), secret_key: SECRET_KEY.to_owned() }
    }

    /// Starts moto with IAM checks on and a user allowed every S3 action;
    /// [`Self::access_key`] and [`Self::secret_key`] are that user's. Other
    /// keys are refused (`InvalidAccessKeyId`, `SignatureDoesNotMatch`).
    pub fn start_with_auth() -> Self {
        let port = free_port();
        let process = Service::spawn("moto_server", moto_command(port, true), port);
        // moto lets the first INITIAL_NO_AUTH_ACTION_COUNT requests through
        // unchecked: just enough to create the user, its policy and its key.
        let script = format!(
            "import boto3, json\n\
             iam = boto3.client('iam', endpoint_url='http://127.0.0.1:{port}', region_name='us-east-1',\n\
                                aws_access_key_id='x', aws_secret_access_key='x')\n\
             iam.create_user(UserName='portcullis')\n\
             iam.put_user_policy(UserName='portcullis', PolicyName='s3', PolicyDocument=json.dumps(\n\
                 {{'Version': '2012-10-17', 'Statement': [{{'Effect': 'Allow', 'Action': 's3:*', 'Resource': '*'}}]}}))\n\
             key = iam.create_access_key(UserName='portcullis')['AccessKey']\n\
             print(key['AccessKeyId'], key['SecretAccessKey'])\n"
        );
        let output = Command::new(venv().join("bin/python"))
            .args(["-c", &script])
            .output()
            .unwrap_or_else(|e| panic!("cannot run the moto venv's python: {e}"));
        assert!(
            output.status.success(),
            "creating a moto IAM user failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut words = stdout.split_whitespace();
        let (Some(access_key), Some(secret_key)) = (words.next(), words.next()) else {
            panic!("unexpected answer from the IAM setup: {stdout}");
        };
        Self { process, port, access_key: access_key.to_owned(), secret_key: secret_key.to_owned() }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn access_key(&self) -> &str {
        &self.access_key
    }

    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }

    /// Creates a bucket (moto takes an unsigned `PUT /{bucket}` while IAM checks are off).
    pub fn create_bucket(&self, name: &str) {
        let status = http_status("PUT", self.port, &format!("/{name}"));
        assert!(status == 200, "moto refused to create bucket {name}: HTTP {status}");
    }

    /// The process id, to stop the server in the middle of a test.
    pub fn pid(&self) -> u32 {
        self.process.child.id()
    }
}

fn venv() -> PathBuf {
    std::env::var_os("PORTCULLIS_MOTO_VENV").map_or_else(|| workspace_root().join("target/moto-venv"), PathBuf::from)
}

fn moto_command(port: u16, auth: bool) -> Command {
    let binary = venv().join("bin/moto_server");
    assert!(
        binary.is_file(),
        "moto is not installed: {} is missing. Run scripts/moto-venv.sh (scripts/test.sh does) to create the venv",
        binary.display()
    );
    let mut command = Command::new(binary);
    command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
    if auth {
        command.env("INITIAL_NO_AUTH_ACTION_COUNT", "3");
    }
    command
}

/// A child process serving on `port`, killed on drop.
pub(crate) struct Service {
    pub(crate) child: Child,
}

impl Service {
    /// Spawns `command` (stdout and stderr kept in a temporary file for the
    /// panic message) and waits up to a minute for `port` to accept connections.
    pub(crate) fn spawn(name: &str, mut command: Command, port: u16) -> Self {
        let log = tempfile::tempfile().expect("temporary log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log.try_clone().expect("log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let mut service = Self { child };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = service.child.try_wait().ok().flatten();
            if exited.is_some() || Instant::now() > deadline {
                let mut text = Vec::new();
                let mut log = log;
                let _ = log.rewind();
                let _ = log.read_to_end(&mut text);
                let text = String::from_utf8_lossy(&text);
                panic!("{name} did not start listening on 127.0.0.1:{port} ({exited:?}):\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        service
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// The status of a bodiless HTTP/1.0 request to the loopback `port`.
pub(crate) fn http_status(method: &str, port: u16, path: &str) -> u16 {
    http_request(port, &format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n")).0
}

/// Sends a raw HTTP/1.0 request; returns the status and the raw head.
pub(crate) fn http_request(port: u16, request: &str) -> (u16, String) {
    use std::io::Write;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting to the test server");
    stream.write_all(request.as_bytes()).expect("sending the request");
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let answer = String::from_utf8_lossy(&bytes);
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let head = answer.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    (status, head)
}
