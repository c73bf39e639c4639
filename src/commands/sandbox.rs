//! `keyflow sandbox serve`: both twins on loopback until Ctrl-C or SIGTERM, for the AWS CLI, the SDKs,
//! qlik-cli or another keyflow.

use keyflow_twins::sandbox::{TENANT_API_KEY_PREFIX, Twins};

use crate::cli::{SandboxCommand, ServeArgs};
use crate::interrupt::{Interrupts, Terminations};
use crate::{sandbox, style};

pub fn run(command: &SandboxCommand, color: bool) -> anyhow::Result<u8> {
    match command {
        SandboxCommand::Serve(args) => serve(args, color),
    }
}

fn serve(args: &ServeArgs, color: bool) -> anyhow::Result<u8> {
    let options = sandbox::options(&args.settings, args.kms_port, args.qlik_port, color)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // Before the endpoints are printed: whoever reads them may press Ctrl-C at once.
        let mut interrupts = Interrupts::listen()?;
        let mut terminated = Terminations::listen()?;
        let twins = Twins::start(options).await?;
        outln!("# keyflow sandbox: AWS KMS twin at {}", twins.kms.url)?;
        outln!(
            "# Qlik Cloud twin at {}: tenant {} ({}) in {}",
            twins.qlik.url, twins.tenant.id, twins.tenant.hostname, twins.tenant.datacenter
        )?;
        outln!(
            "# Any other tenant gets a tenant of its own on first use of QLIK_API_KEY={}<its hostname>, \
             as a --sandbox run does for every other `tenant_url` or `context`",
            TENANT_API_KEY_PREFIX
        )?;
        outln!("# Point other tools at them from another shell:")?;
        for (name, value) in twins.exports() {
            outln!("export {name}={value}")?;
        }
        errln!(
            "{} serving until Ctrl-C (or SIGTERM){}",
            style::yellow(color, "sandbox:"),
            if args.settings.state.is_some() {
                "; the state is saved then"
            } else {
                ""
            }
        );
        // A service manager stops it with SIGTERM: the state is saved then too.
        tokio::select! {
            _ = interrupts.next() => {}
            _ = terminated.next() => {}
        }
        sandbox::finish(twins, color, false).await?;
        Ok(0)
    })
}
