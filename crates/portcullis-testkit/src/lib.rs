//! Test helpers for Portcullis (dev-only, never published).
//!
//! * [`registry::TestRegistry`]: a real distribution registry (Debian's
//!   `docker-registry`) with no auth, htpasswd Basic auth or bearer-token
//!   auth, and [`registry::push_oci_layout`] to fill it with the real `skopeo`.
//! * [`layout`]: writes OCI image layouts from layer and config descriptions.
//! * [`rawtar`]: hand-made tar headers for hostile entries (`../` names,
//!   absolute paths, escaping hard links, absurd sizes).
//! * [`schema`]: the official CycloneDX and SPDX validators, from PyPI.
//! * [`s3`]: moto's S3 server (from `scripts/moto-venv.sh`), optionally
//!   with IAM credential checks; [`swift`]: a single-node OpenStack Swift
//!   (Debian's packages) with tempauth.
//! * [`http`]: a tiny loopback HTTP server for fakes a real registry cannot
//!   play (redirects to another host, tampered answers).
//! * [`service`]: `portcullis serve` as a child process on a free port.
//! * [`anchore_cli`]: the real `anchore-cli` 0.9.3 (from
//!   `scripts/anchore-cli-venv.sh`) pointed at a server.
//! * [`data`]: where the shared fixtures and the lab images are
//!   (`PORTCULLIS_FIXTURES`, `PORTCULLIS_LAB`), the fixture directories of one
//!   kind, a root filesystem's regular files, and reading files and JSON with
//!   panics that name the path.
//!
//! Everything here panics on failure: it is meant for tests, where a panic
//! with a good message is the right report.

pub mod anchore_cli;
pub mod data;
pub mod http;
pub mod layout;
pub mod postgres;
pub mod rawtar;
pub mod registry;
pub mod s3;
pub mod schema;
pub mod service;
pub mod swift;
pub mod token;

pub use layout::{Compression, Image, Layer, OciLayout};
pub use registry::{ManifestFormat, PushOptions, RegistryAuth, TestRegistry, push_oci_layout};
