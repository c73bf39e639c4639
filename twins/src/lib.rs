//! keyflow's local twins: an AWS KMS twin ([`aws_kms`]) and a Qlik Cloud twin ([`qlik_cloud`]), each an
//! HTTP server on loopback that the unmodified clients (aws-sdk-kms, the AWS CLI, `@qlik/api`, keyflow's own
//! connectors) talk to, and the [`sandbox`] that starts both with the documented seed for `--sandbox` and
//! `keyflow sandbox serve`.
//!
//! Dependency direction: twins → blocks → engine. The connectors know nothing of the twins; they read the
//! twin descriptions ([`keyflow_blocks::aws_kms::sandbox::KmsTwin`],
//! [`keyflow_blocks::qlik_cloud::sandbox::QlikTwin`]) that the sandbox builds.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod aws_kms;
mod digest;
pub mod faults;
pub mod qlik_cloud;
pub mod sandbox;
mod server;
mod sync;
