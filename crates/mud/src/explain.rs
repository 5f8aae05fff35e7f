//! Plain-language explanation of a policy for a household.
