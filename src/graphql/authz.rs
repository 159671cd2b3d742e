//! Authorization, down to single fields: the directives a field names its rule with
//! (`directives`), the policy read back from the exported SDL (`policy`), the extension that
//! applies it before every field resolver (`extension`: deny by default), what introspection
//! shows to whom (`visibility`), and the spec shape of field errors (`shape`).

pub mod directives;
mod extension;
pub mod policy;
mod shape;
pub mod visibility;

pub use extension::Authz;
pub(crate) use extension::check;
