//! Money: an amount in minor units (cents) and an ISO 4217 currency code.

use crate::error::ApiError;

/// A positive amount of money.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Money {
    amount_minor: i64,
    currency: String,
}

impl Money {
    /// Largest accepted amount (1 billion major units with two decimals).
    pub const MAX_MINOR: i64 = 100_000_000_000;

    /// Parses an amount in minor units and a three-letter currency code.
    pub fn parse(amount_minor: i64, currency: &str) -> Result<Self, ApiError> {
        if amount_minor <= 0 || amount_minor > Self::MAX_MINOR {
            return Err(ApiError::bad_field(
                "amountMinor",
                "the amount must be positive (in minor units, e.g. cents)",
            ));
        }
        let currency = currency.trim().to_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ApiError::bad_field(
                "currency",
                "the currency is a three-letter ISO 4217 code, e.g. EUR",
            ));
        }
        Ok(Self {
            amount_minor,
            currency,
        })
    }

    pub fn amount_minor(&self) -> i64 {
        self.amount_minor
    }

    pub fn currency(&self) -> &str {
        &self.currency
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalizes() {
        let m = Money::parse(12_50, " eur ").unwrap();
        assert_eq!((m.amount_minor(), m.currency()), (1250, "EUR"));
        for (amount, currency) in [
            (0, "EUR"),
            (-5, "EUR"),
            (100, "EU"),
            (100, "E1R"),
            (Money::MAX_MINOR + 1, "EUR"),
        ] {
            assert!(
                Money::parse(amount, currency).is_err(),
                "{amount} {currency}"
            );
        }
    }
}
