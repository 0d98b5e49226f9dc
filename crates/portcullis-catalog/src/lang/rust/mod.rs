//! rust packages.
