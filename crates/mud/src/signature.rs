//! Detached CMS signatures over MUD files (RFC 8520 §13).
