//! trustgate — the command-line front end. Holds no logic beyond argument handling and output.
#![forbid(unsafe_code)]
fn main() {}
