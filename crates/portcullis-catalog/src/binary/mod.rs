//! Software inside binaries: build metadata and classifiers.
