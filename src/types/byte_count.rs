//! The `ByteCount` scalar: a size in bytes. GraphQL's `Int` is 32-bit and quotas pass 2 GiB, so
//! sizes travel as JSON numbers up to 2^53 (exact in every JSON parser); input also accepts a
//! string of digits.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// A non-negative number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteCount(pub i64);

/// 2^53 - 1: beyond it a double (JavaScript's `number`) no longer holds every value exactly.
const LIMIT: i64 = (1 << 53) - 1;

/// A size in bytes: a whole number from 0 to 2^53 - 1, serialized as a JSON number (GraphQL's
/// 32-bit `Int` cannot hold quotas); input also accepts a string of digits.
#[Scalar(name = "ByteCount")]
impl ScalarType for ByteCount {
    fn parse(value: Value) -> InputValueResult<Self> {
        let bytes = match &value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match bytes {
            Some(bytes) if (0..=LIMIT).contains(&bytes) => Ok(Self(bytes)),
            _ => Err(InputValueError::custom(
                "a size in bytes is a whole number from 0 to 2^53 - 1",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::from(self.0)
    }
}

impl From<u64> for ByteCount {
    fn from(bytes: u64) -> Self {
        Self(i64::try_from(bytes).unwrap_or(LIMIT).min(LIMIT))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_past_32_bits_and_strings_parse_negative_ones_do_not() {
        let ten_gib = 10_i64 << 30;
        assert_eq!(
            <ByteCount as ScalarType>::parse(Value::from(ten_gib)).unwrap(),
            ByteCount(ten_gib)
        );
        assert_eq!(
            <ByteCount as ScalarType>::parse(Value::from("42")).unwrap(),
            ByteCount(42)
        );
        assert!(<ByteCount as ScalarType>::parse(Value::from(-1)).is_err());
        assert!(<ByteCount as ScalarType>::parse(Value::from(1.5)).is_err());
        assert_eq!(ByteCount::from(u64::MAX), ByteCount(LIMIT));
    }
}
