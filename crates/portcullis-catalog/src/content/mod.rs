//! File analysis, secret and content search, retrieved files, Dockerfile.
