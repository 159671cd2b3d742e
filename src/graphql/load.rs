//! Loading relations without N+1: per-request loaders found by type and owned by their domains
//! (`loaders`), deterministic batches for the relations of a list (`batch`), the single-pass
//! resolver for objects that come by the thousand (`flat`), and cursor pagination
//! (`pagination`). `loaders` says when to use which.

pub mod batch;
pub mod flat;
pub mod loaders;
pub mod pagination;
