//! Qlik Cloud: the key-policy rules Qlik Cloud applies to a customer-managed key, its region table, and a
//! local twin of its Encryption API to run flows and tests against.

pub mod emulator;
pub mod policy;
pub mod regions;
