//! `keyflow sandbox serve`: both twins on loopback until Ctrl-C, for the AWS CLI, the SDKs, qlik-cli or
//! another keyflow.

use crate::cli::{SandboxCommand, ServeArgs};
use crate::interrupt::Interrupts;
use crate::{sandbox, style};

pub fn run(command: &SandboxCommand, color: bool) -> anyhow::Result<u8> {
    match command {
        SandboxCommand::Serve(args) => serve(args, color),
    }
}

fn serve(args: &ServeArgs, color: bool) -> anyhow::Result<u8> {
    let options = sandbox::Options::from_settings(&args.settings, args.kms_port, args.qlik_port)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // Before the endpoints are printed: whoever reads them may press Ctrl-C at once.
        let mut interrupts = Interrupts::listen()?;
        let twins = sandbox::Twins::start(options).await?;
        outln!("# keyflow sandbox: AWS KMS twin at {}", twins.kms.url)?;
        outln!(
            "# Qlik Cloud twin at {}: tenant {} ({}) in {}",
            twins.qlik.url, twins.tenant.id, twins.tenant.hostname, twins.tenant.datacenter
        )?;
        outln!(
            "# Any other tenant gets a tenant of its own on first use of QLIK_API_KEY={}<its hostname>, \
             as a --sandbox run does for every other `tenant_url` or `context`",
            sandbox::TENANT_API_KEY_PREFIX
        )?;
        outln!("# Point other tools at them from another shell:")?;
        for (name, value) in twins.exports() {
            outln!("export {name}={value}")?;
        }
        errln!(
            "{} serving until Ctrl-C{}",
            style::yellow(color, "sandbox:"),
            if args.settings.state.is_some() {
                "; the state is saved then"
            } else {
                ""
            }
        );
        interrupts.next().await;
        let created = twins.created();
        for line in created.lines() {
            errln!("  {line}");
        }
        if let Some(path) = twins.save()? {
            errln!(
                "{} state saved to {}",
                style::dim(color, "sandbox:"),
                path.display()
            );
        }
        twins.shutdown().await;
        Ok(0)
    })
}
