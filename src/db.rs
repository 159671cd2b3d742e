//! Database access: the connection, transactions, and the only two doors to the tables:
//! [`Scoped`] for tenant-owned rows and [`Global`] for users, sessions and workspaces.
//!
//! Raw `Entity::find()` and friends are denied by clippy (`clippy.toml`, `disallowed-methods`)
//! everywhere but `db/scope.rs`, so code outside this module cannot express an unscoped query.

mod across;
pub mod audit;
mod audit_frame;
pub mod audit_read;
pub mod audit_retain;
pub mod audit_seal;
mod connect;
mod global;
pub mod idempotency;
pub mod jobs;
pub mod outbox;
mod scope;

pub use across::AcrossTenants;
pub use connect::{Db, Tx};
pub use global::Global;
pub use scope::Scoped;

use sea_orm::sea_query::{Expr, ExprTrait, Func, SimpleExpr};
use sea_orm::{ColumnTrait, IntoSimpleExpr};

/// `lower(column) LIKE '%text%'` with LIKE wildcards in `text` escaped: a case-insensitive
/// "contains" that behaves the same on PostgreSQL and SQLite.
pub fn contains_ci<C: ColumnTrait>(column: C, text: &str) -> SimpleExpr {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Expr::expr(Func::lower(column.into_simple_expr()))
        .like(sea_orm::sea_query::LikeExpr::new(pattern).escape('\\'))
}
