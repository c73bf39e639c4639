//! What can keep the sandbox from starting or from keeping its state, each saying what to do.

use std::path::PathBuf;

/// A sandbox that cannot start, or a state file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// `--tenant-region` names a region without Qlik tenants.
    #[error("Qlik Cloud has no tenants in `{region}`: give `--tenant-region` one of {regions}")]
    NoTenantsIn {
        /// The region given.
        region: String,
        /// The regions that have tenants, comma-separated.
        regions: String,
    },
    /// The state file was made with another `--tenant-region`.
    #[error(
        "the state file's tenant lives in `{saved}`, not `{given}`: give `--tenant-region {saved}` or another file"
    )]
    OtherTenantRegion {
        /// The state file's region.
        saved: String,
        /// The region given.
        given: String,
    },
    /// A twin could not be started (its port is taken).
    #[error("starting the {twin} twin")]
    Start {
        /// Which twin (`AWS KMS`).
        twin: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The state file exists but cannot be read.
    #[error("reading the state file `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a sandbox state file.
    #[error("`{}` is not a keyflow sandbox state file (remove it to start afresh)", path.display())]
    NotState {
        /// The file.
        path: PathBuf,
        /// What did not parse.
        #[source]
        source: serde_json::Error,
    },
    /// The state file is of another version of the format.
    #[error(
        "`{}` is a sandbox state file of version {found}, this keyflow reads version {reads}",
        path.display()
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The version this keyflow reads.
        reads: u32,
    },
    /// The state file's folder does not exist.
    #[error(
        "the folder of the state file `{}` does not exist: create it, or give `--state` a file in a folder that does",
        path.display()
    )]
    NoFolder {
        /// The file.
        path: PathBuf,
    },
    /// The state file's lock (`FILE.lock` beside it) cannot be made or taken.
    #[error("locking the state file `{}` (through `{}.lock` beside it)", path.display(), path.display())]
    Lock {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The state file cannot be written.
    #[error("writing the state file `{}`", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A `--quota` that is not `OPERATION=RATE`.
    #[error("`--quota {given}`: write OPERATION=RATE, such as `CreateKey=2`")]
    QuotaForm {
        /// What was given.
        given: String,
    },
    /// A `--quota` naming no quota.
    #[error("`--quota {given}`: `{name}` has no quota; the quotas are {quotas}")]
    NoSuchQuota {
        /// What was given.
        given: String,
        /// The name in it.
        name: String,
        /// The quotas there are, comma-separated.
        quotas: String,
    },
}
