//! Small builders the migrations share.

use sea_orm_migration::prelude::*;

/// An index named `name` on `cols` of `table`.
pub fn index(name: &str, table: impl IntoIden, cols: &[&str]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for col in cols {
        index.col(Alias::new(*col));
    }
    index.to_owned()
}
