//! Differential tests: the same flows against moto's KMS server (an independent implementation of AWS
//! KMS) and against keyflow's KMS twin, each with a Qlik twin whose KMS peer is that side, through the
//! CLI with `--output json`. Where moto is faithful the two run reports must agree by shape (see
//! [`compare`]); where it is not, the case is a documented divergence (see [`divergences`]): the test
//! asserts that the twin does what AWS does and records what moto does, without holding moto to it.
//!
//! Documented divergences of moto 5.2.5 from AWS, one test each in [`divergences`] (DESIGN §6):
//! - **key state**: Encrypt and GenerateDataKey with a disabled key succeed (AWS: `DisabledException`);
//! - **deletion window**: ScheduleKeyDeletion accepts a 3-day window (AWS: 7 to 30 days,
//!   `ValidationException`);
//! - **policy validation**: PutKeyPolicy accepts a statement whose `Effect` is neither `Allow` nor
//!   `Deny` (AWS: `MalformedPolicyDocumentException`);
//! - **pagination**: ListKeys ignores `Limit` and never truncates (AWS: at most `Limit` keys a page);
//! - **replication**: ReplicateKey of a single-Region key is an HTTP 500 (AWS:
//!   `UnsupportedOperationException`), and ReplicateKey ignores the Description and Policy asked for and
//!   answers the new replica as `PRIMARY` (AWS: a `REPLICA` with that description and policy);
//! - **request constraints** ([`validation`]): an alias name over 256 characters, a deletion window over
//!   365 days and a tag key over 128 characters are accepted (AWS, from its API model:
//!   `ValidationException`); the pattern of an alias name, an unknown `KeySpec` and an empty plaintext
//!   are refused as AWS does.
//!
//! Fields moto leaves out of its answers, and the values it gets wrong inside flows that are otherwise
//! compared, are listed field by field in [`allowed`].
//!
//! The twin runs with the published quotas, as `--sandbox` does by default: the flows stay far below
//! them, each test has a twin of its own, and a flow that passes here passes as users rehearse it.

mod allowed;
mod compare;
mod comparison;
mod divergences;
mod flows;
mod validation;

use keyflow_twins::aws_kms::{
    self as kms, DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, KmsTwinConfig, Quotas,
};
use keyflow_twins::qlik_cloud::KmsPeer;
use serde_json::Value;

use crate::aws_kms::{Moto, moto, point_at_moto};
use crate::harness::{flow_file, path_str, run_file};
use crate::qlik_cloud::{Twin, config, twin};

pub use compare::Side;

/// The two peers, each with a Qlik twin that checks keys in it. moto is held (and was reset) for as long
/// as this lives.
pub struct Peers {
    moto: Moto,
    moto_qlik: Twin,
    kms: kms::Running,
    twin_qlik: Twin,
    // Serves `kms` (dropped after it) and runs the divergence tests' own SDK calls.
    runtime: tokio::runtime::Runtime,
}

/// The reports of one flow run against both peers.
pub struct Reports {
    /// The exit code and report against moto.
    pub moto: (i32, Value),
    /// The exit code and report against the twin.
    pub twin: (i32, Value),
}

/// Both peers, or `None` when moto is not running (see `aws_kms::moto`, which says so).
pub fn peers() -> Option<Peers> {
    let moto = moto()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let kms = runtime
        .block_on(kms::start(KmsTwinConfig {
            quotas: Quotas::Published,
            ..KmsTwinConfig::default()
        }))
        .expect("start the KMS twin");
    let mut moto_qlik = config();
    moto_qlik.kms = Some(KmsPeer::at(moto.url.clone()));
    let mut twin_qlik = config();
    let mut peer = KmsPeer::at(kms.url.clone());
    peer.credentials = Some((
        DEFAULT_ACCESS_KEY_ID.into(),
        DEFAULT_SECRET_ACCESS_KEY.into(),
    ));
    twin_qlik.kms = Some(peer);
    Some(Peers {
        moto_qlik: twin(moto_qlik),
        twin_qlik: twin(twin_qlik),
        moto,
        kms,
        runtime,
    })
}

impl Peers {
    /// `keyflow` with AWS pointed at one peer and Qlik at that peer's Qlik twin.
    pub fn command(&self, side: Side) -> assert_cmd::Command {
        match side {
            Side::Moto => {
                let mut command = self.moto_qlik.command(&[]);
                point_at_moto(&mut command, &self.moto.url);
                command
            }
            Side::Twin => {
                let mut command = self.twin_qlik.command(&[]);
                // The same isolation from the machine's AWS set-up, with the twin's URL and its
                // default principal's credentials (the twin checks signatures).
                point_at_moto(&mut command, &self.kms.url);
                command
                    .env("AWS_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY_ID)
                    .env("AWS_SECRET_ACCESS_KEY", DEFAULT_SECRET_ACCESS_KEY);
                command
            }
        }
    }

    /// Runs `future` on the runtime that serves the KMS twin.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Runs the flow at `path` (relative to the project) against `side` with `--output json -q` and
    /// `extra`: the exit code and the report.
    pub fn run_on(&self, side: Side, path: &str, extra: &[&str]) -> (i32, Value) {
        let (code, report, _) = run_file(self.command(side), path, extra);
        (code, report)
    }

    /// Runs the flow at `path` against both peers at once.
    pub fn run(&self, path: &str, extra: &[&str]) -> Reports {
        std::thread::scope(|scope| {
            let moto = scope.spawn(|| self.run_on(Side::Moto, path, extra));
            let twin = self.run_on(Side::Twin, path, extra);
            Reports {
                moto: moto.join().expect("the run against moto"),
                twin,
            }
        })
    }

    /// Runs a flow given as YAML against both peers at once.
    pub fn run_yaml(&self, yaml: &str, extra: &[&str]) -> Reports {
        let (_dir, path) = flow_file(yaml);
        self.run(path_str(&path), extra)
    }

    /// Runs `flows/<name>.yaml` against both peers; both runs must succeed and agree.
    pub fn agree(&self, name: &str, extra: &[&str]) -> Reports {
        let path = format!("flows/{name}.yaml");
        assert!(crate::harness::root().join(&path).exists(), "{path}");
        let reports = self.run(&path, extra);
        reports.assert_agree(name);
        reports
    }
}

impl Reports {
    /// Both runs succeeded and their reports agree (see [`compare::compare`]).
    pub fn assert_agree(&self, flow: &str) {
        compare::assert_same(flow, &self.moto.1, &self.twin.1);
        self.assert_both_succeeded(flow);
    }

    /// Both runs succeeded.
    pub fn assert_both_succeeded(&self, flow: &str) {
        assert_eq!(
            (self.moto.0, self.twin.0),
            (0, 0),
            "{flow}: exit codes (moto, twin); moto: {:#}\ntwin: {:#}",
            self.moto.1,
            self.twin.1
        );
    }
}
