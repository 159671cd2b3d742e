//! The `MinorUnits` scalar: an amount of money in minor units (cents). GraphQL's `Int` is 32-bit,
//! and amounts reach 10^11 minor units, so strict clients would reject them as `Int`.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};

/// An amount of money in minor units (cents for EUR): a whole number, serialized as a JSON
/// number. Amounts stay within ±10^15, where every JSON parser (IEEE-754 doubles included) reads
/// them exactly. Input also accepts a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MinorUnits(pub i64);

/// Beyond this, a double (JavaScript's `number`) could no longer hold every value exactly.
const LIMIT: i64 = 1_000_000_000_000_000;

/// An amount of money in minor units (cents for EUR): a whole number serialized as a JSON number,
/// exact in every JSON parser up to ±10^15 (GraphQL's 32-bit `Int` cannot hold amounts); input
/// also accepts a string of digits.
#[Scalar(name = "MinorUnits")]
impl ScalarType for MinorUnits {
    fn parse(value: Value) -> InputValueResult<Self> {
        let amount = match &value {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match amount {
            Some(amount) if amount.abs() <= LIMIT => Ok(Self(amount)),
            _ => Err(InputValueError::custom(
                "an amount in minor units is a whole number (e.g. 1250 for 12.50 EUR)",
            )),
        }
    }

    fn to_value(&self) -> Value {
        Value::from(self.0)
    }
}

impl std::ops::AddAssign<i64> for MinorUnits {
    fn add_assign(&mut self, amount: i64) {
        self.0 += amount;
    }
}

impl From<i64> for MinorUnits {
    fn from(amount: i64) -> Self {
        Self(amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_and_digit_strings_parse_and_the_rest_does_not() {
        let parse = |v: Value| <MinorUnits as ScalarType>::parse(v).ok();
        assert_eq!(
            parse(Value::from(100_000_000_000_i64)),
            Some(MinorUnits(100_000_000_000))
        );
        assert_eq!(parse(Value::from("1250")), Some(MinorUnits(1250)));
        assert_eq!(parse(Value::from(12.5)), None);
        assert_eq!(parse(Value::from("12.50")), None);
        assert_eq!(parse(Value::Boolean(true)), None);
        assert_eq!(parse(Value::from(LIMIT + 1)), None);
        assert_eq!(
            MinorUnits(100_000_000_000).to_value(),
            Value::from(100_000_000_000_i64)
        );
    }
}
