//! Authorization, down to single fields: the directives a field names its rule with
//! (`directives`), the policy read back from the exported SDL (`policy`), the extension that
//! applies it before every field resolver (`extension`: deny by default), what introspection
//! shows to whom (`visibility`), the spec shape of field errors (`shape`), and the audit frame
//! every root field runs in (`audit`).

pub mod audit;
pub mod directives;
mod extension;
pub mod policy;
mod shape;
pub mod visibility;

pub use extension::Authz;
pub(crate) use extension::check;
