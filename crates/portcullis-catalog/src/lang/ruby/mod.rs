//! ruby packages.
