//! End-to-end tests of the `keyflow` command. One binary; modules mirror the commands.

mod harness;
mod qlik_cloud;
mod qlik_policy;
mod recovery;

mod aws_kms;
mod browser;
mod cli;
mod clients;
mod crash;
mod crash_raw;
mod diagnostics;
mod differential;
mod exit_codes;
mod flows;
mod inputs;
mod libraries;
mod machine;
mod onboard;
mod operator_flows;
mod plugins;
mod raw_requests;
mod render;
mod resume;
mod robustness;
mod run;
mod runs;
mod runs_canary;
mod runs_postgres;
mod sandbox;
mod sandbox_proxy;
mod schedule;
mod schemas;
mod serve;
mod validate;
mod warnings;
