//! Secrets a connection reads, from whatever source, never printed.
