//! Hostile servers: absurd token lifetimes, huge error bodies.
