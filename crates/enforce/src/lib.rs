//! enforce
#![forbid(unsafe_code)]
