//! Pagination as Anchore does it.
//!
//! Anchore paginates two ways: the `/query/...` routes wrap their list in
//! [`PaginationProperties`] (page and next page as strings), and `/events`
//! uses [`crate::EventsList`] (a numeric page and a boolean next page).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The `page` and `limit` query parameters of a paginated route.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// The 1-based page to return; the first page when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// Items per page; the route's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

impl Page {
    /// The requested page, 1 when absent or 0.
    pub fn number(&self) -> u32 {
        self.page.unwrap_or(1).max(1)
    }

    /// The page size: the requested limit, or `default` when absent or 0.
    pub fn size(&self, default: u32) -> u32 {
        self.limit.filter(|&limit| limit > 0).unwrap_or(default)
    }

    /// How many items come before this page.
    pub fn offset(&self, default_limit: u32) -> u64 {
        u64::from(self.number() - 1) * u64::from(self.size(default_limit))
    }
}

/// Anchore's `PaginationProperties`, flattened into paginated query results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PaginationProperties {
    /// The page returned, as a string (it echoes the `page` parameter).
    #[serde(default)]
    pub page: String,
    /// `"true"` when a further page exists, `"false"` on the last page.
    #[serde(default)]
    pub next_page: String,
    /// How many items this page holds.
    #[serde(default)]
    pub returned_count: u64,
}

impl PaginationProperties {
    /// The properties of page `page` holding `returned_count` items.
    pub fn new(page: u32, has_next: bool, returned_count: u64) -> Self {
        PaginationProperties { page: page.to_string(), next_page: has_next.to_string(), returned_count }
    }

    /// Whether a further page exists (accepting Python's `True` as well).
    pub fn has_next(&self) -> bool {
        crate::query_bool::parse(&self.next_page).unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_defaults() {
        let page = Page::default();
        assert_eq!((page.number(), page.size(100), page.offset(100)), (1, 100, 0));
        let page = Page { page: Some(3), limit: Some(10) };
        assert_eq!((page.number(), page.size(100), page.offset(100)), (3, 10, 20));
        let page = Page { page: Some(0), limit: Some(0) };
        assert_eq!((page.number(), page.size(25)), (1, 25));
    }

    #[test]
    fn pagination_strings() {
        let props = PaginationProperties::new(2, true, 5);
        assert_eq!(
            serde_json::to_value(&props).unwrap(),
            serde_json::json!({"page":"2","next_page":"true","returned_count":5})
        );
        assert!(props.has_next());
        assert!(!PaginationProperties::new(1, false, 0).has_next());
    }
}
