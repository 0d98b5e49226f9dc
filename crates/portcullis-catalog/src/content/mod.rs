//! File analysis, secret and content search, retrieved files, Dockerfile.
pub mod dockerfile;
pub mod files;
pub mod retrieve;
pub mod secrets;
