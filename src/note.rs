//! Private notes: one staff-only note per project and per member, guarded by `note:private`.
//! They appear only as guarded fields (`Project.privateNote`, `Member.privateNote`), are hidden
//! from the introspection of others, and leave staff-only timeline entries.

mod resolvers;
pub mod service;

pub use resolvers::{NoteMutation, NoteSubject};
