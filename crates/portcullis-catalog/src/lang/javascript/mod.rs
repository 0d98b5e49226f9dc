//! javascript packages.
