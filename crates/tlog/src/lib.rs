//! tlog — placeholder until the transparency-log work lands.
#![forbid(unsafe_code)]
