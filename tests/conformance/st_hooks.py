"""Strategies for Portico's custom scalars, for schemathesis (tests/api/conformance.rs)."""

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

# Money in minor units: a JSON number up to 10^15, or a string of digits; anything else is
# refused with BAD_USER_INPUT. Both forms, in and far out of range.
schemathesis.graphql.scalar(
    "MinorUnits",
    st.one_of(
        st.integers(min_value=-(10**16), max_value=10**16).map(nodes.Int),
        st.text(max_size=24).map(nodes.String),
    ),
)

# Sizes in bytes: a JSON number from 0 to 2^53 - 1, or a string of digits; negative, fractional
# and larger ones are refused with BAD_USER_INPUT.
schemathesis.graphql.scalar(
    "ByteCount",
    st.one_of(
        st.integers(min_value=-(2**54), max_value=2**54).map(nodes.Int),
        st.text(max_size=24).map(nodes.String),
    ),
)
