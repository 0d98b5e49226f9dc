//! Software inside binaries: build metadata and classifiers.
pub mod classifiers;
