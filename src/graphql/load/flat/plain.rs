//! Stored values as GraphQL sends them, for the single-pass resolver: the [`Plain`] conversions,
//! the `plain_fields!` macro that implements [`PlainFields`](super::PlainFields), and
//! [`Preloaded`] objects (loaded with their parent).

use super::PlainObject;
use async_graphql::{EnumType, ID, Name, ScalarType, Value};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

/// A stored value as GraphQL sends it: the same conversions as async-graphql's own resolvers.
pub trait Plain {
    fn plain(&self) -> Value;
}

macro_rules! plain_scalars {
    ($($ty:ty),*) => {
        $(impl Plain for $ty {
            fn plain(&self) -> Value {
                ScalarType::to_value(self)
            }
        })*
    };
}

plain_scalars!(
    String,
    ID,
    bool,
    i32,
    i64,
    u64,
    f64,
    DateTime<Utc>,
    NaiveDate
);

impl<T: Plain> Plain for Option<T> {
    fn plain(&self) -> Value {
        self.as_ref().map_or(Value::Null, Plain::plain)
    }
}

/// The value of a GraphQL enum.
pub fn plain_enum<E: EnumType>(value: E) -> Value {
    E::items()
        .iter()
        .find(|item| item.value == value)
        .map_or(Value::Null, |item| Value::Enum(Name::new(item.name)))
}

/// Implements [`PlainFields`]: `plain_fields!(Task { "id" => id, "title" => title; enums "column" => column })`.
#[macro_export]
/// `objects` names fields of type [`Preloaded<T>`]: `objects "assignee" => assignee_loaded: User`.
macro_rules! plain_fields {
    ($ty:ty {
        $($name:literal => $field:ident),* $(,)?
        $(; enums $($ename:literal => $efield:ident),* $(,)?)?
        $(; objects $($oname:literal => $ofield:ident : $oty:ty),* $(,)?)?
    }) => {
        impl $crate::graphql::flat::PlainFields for $ty {
            fn plain_field(&self, name: &str) -> Option<async_graphql::Value> {
                use $crate::graphql::flat::Plain;
                match name {
                    $($name => Some(self.$field.plain()),)*
                    $($($ename => Some($crate::graphql::flat::plain_enum(self.$efield)),)*)?
                    _ => None,
                }
            }

            $(
            fn object_plan<'a>(
                name: &str,
                cx: $crate::graphql::flat::PlanContext<'a>,
                set: &'a async_graphql::parser::types::SelectionSet,
            ) -> Option<$crate::graphql::flat::Plan<'a>> {
                match name {
                    $($oname => $crate::graphql::flat::plan_of::<$oty>(cx, set),)*
                    _ => None,
                }
            }

            fn plain_object(
                &self,
                name: &str,
            ) -> Option<Option<&dyn $crate::graphql::flat::PlainObject>> {
                match name {
                    $($oname => self.$ofield.as_plain(),)*
                    _ => None,
                }
            }
            )?
        }
    };
}

/// An object field loaded together with its parent (a card's assignee), or not loaded, in which
/// case the field's resolver loads it.
#[derive(Debug, Clone, Default)]
pub enum Preloaded<T> {
    /// Not loaded: the resolver loads it.
    #[default]
    No,
    /// Loaded, and null.
    Null,
    /// Loaded.
    Object(Arc<T>),
}

impl<T: PlainObject> Preloaded<T> {
    /// As [`PlainFields::plain_object`] answers it.
    pub fn as_plain(&self) -> Option<Option<&dyn PlainObject>> {
        match self {
            Preloaded::No => None,
            Preloaded::Null => Some(None),
            Preloaded::Object(object) => Some(Some(&**object as &dyn PlainObject)),
        }
    }
}
