//! Upstream vulnerability feeds: one parser per format in [`formats`], and the
//! sync that fills a store from directories, archives and URLs.

pub mod formats;
