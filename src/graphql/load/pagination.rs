//! Relay cursor connections: `first` is required (1 to 100), cursors are opaque, every connection
//! reports `totalCount`.

use crate::error::{ApiError, ApiResult};
use async_graphql::SimpleObject;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};
use uuid::Uuid;

/// The largest page.
pub const MAX_PAGE: i32 = 100;

/// Extra fields of every connection.
#[derive(Debug, Clone, Copy, SimpleObject)]
pub struct ConnectionFields {
    /// Number of items in the whole list (all pages).
    pub total_count: u64,
}

/// Validated pagination arguments.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// How many items to return.
    pub limit: u64,
    /// Return items after this ID (in ID order).
    pub after: Option<Uuid>,
}

impl Page {
    /// Validates `first` and decodes `after`.
    pub fn new(first: i32, after: Option<&str>) -> ApiResult<Self> {
        if !(1..=MAX_PAGE).contains(&first) {
            return Err(ApiError::bad_field(
                "first",
                format!("`first` must be between 1 and {MAX_PAGE}"),
            ));
        }
        let after = after.map(decode_cursor).transpose()?;
        Ok(Self {
            limit: u64::try_from(first).unwrap_or(1),
            after,
        })
    }
}

/// One page as a connection: each node with its ID's cursor, `totalCount`, and whether a page
/// comes before (`after` was given) or after it.
pub fn connection<T: async_graphql::OutputType>(
    page: Page,
    total_count: u64,
    has_next: bool,
    nodes: impl IntoIterator<Item = (Uuid, T)>,
) -> async_graphql::connection::Connection<String, T, ConnectionFields> {
    let mut connection = async_graphql::connection::Connection::with_additional_fields(
        page.after.is_some(),
        has_next,
        ConnectionFields { total_count },
    );
    connection.edges.extend(
        nodes
            .into_iter()
            .map(|(id, node)| async_graphql::connection::Edge::new(encode_cursor(id), node)),
    );
    connection
}

/// Which way a list runs by ID (UUID v7, so by creation time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Oldest first.
    Forward,
    /// Newest first.
    Backward,
}

/// One page of `query` ordered by its `id` column: the rows after the cursor, the total of the
/// whole list, and whether more rows follow (one extra row is read to tell).
pub async fn fetch<E, C>(
    conn: &C,
    query: Select<E>,
    id: E::Column,
    direction: Direction,
    page: Page,
) -> ApiResult<(Vec<E::Model>, u64, bool)>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let total = query.clone().count(conn).await?;
    let mut query = match direction {
        Direction::Forward => query.order_by_asc(id),
        Direction::Backward => query.order_by_desc(id),
    };
    if let Some(after) = page.after {
        query = query.filter(match direction {
            Direction::Forward => id.gt(after),
            Direction::Backward => id.lt(after),
        });
    }
    let mut rows = query.limit(page.limit + 1).all(conn).await?;
    let has_next = rows.len() as u64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    Ok((rows, total, has_next))
}

/// The cursor of an item with this ID.
pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> ApiResult<Uuid> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| Uuid::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::bad_field("after", "invalid cursor"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_first_and_cursors() {
        assert!(Page::new(0, None).is_err());
        assert!(Page::new(101, None).is_err());
        assert!(Page::new(10, Some("%%%")).is_err());
        let id = Uuid::now_v7();
        let page = Page::new(100, Some(&encode_cursor(id))).unwrap();
        assert_eq!((page.limit, page.after), (100, Some(id)));
    }
}
