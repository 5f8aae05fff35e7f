//! Parsing MUD JSON into the policy IR (strict and lenient modes).
