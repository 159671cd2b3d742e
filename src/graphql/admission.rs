//! Admission: what a document must pass before any of it runs. Token, alias, root-field and depth
//! limits (`limits`, `depth`), a NUL character in any string (`input`), Apollo's persisted
//! queries (`apq`), mutations never over GET (`safe_methods`), and cost budgets (`cost`). Every
//! refusal is BAD_USER_INPUT (or RATE_LIMITED) naming what was exceeded.

pub mod apq;
pub mod cost;
mod depth;
pub mod input;
pub mod limits;
pub mod safe_methods;
