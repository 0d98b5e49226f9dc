//! A small blocking client for the Anchore Engine v1 API.
//!
//! It speaks to `portcullis serve` (or to Anchore Engine itself) with the
//! request and response types of [`portcullis_api`]: one method per route,
//! HTTP basic auth or a bearer token, the optional `x-anchore-account`
//! header, and timeouts. Errors say which URL failed and what the server
//! answered.
//!
//! ```no_run
//! use portcullis_client::{Auth, Client, ClientConfig};
//!
//! let client = Client::new(ClientConfig::new("http://127.0.0.1:8228/v1", Auth::basic("admin", "foobar")))?;
//! for image in client.list_images(&Default::default())? {
//!     println!("{} {}", image.image_digest, image.analysis_status);
//! }
//! # Ok::<(), portcullis_client::ClientError>(())
//! ```

mod client;
mod error;

pub use client::{Auth, Client, ClientConfig};
pub use error::ClientError;
