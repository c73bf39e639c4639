//! `qlik-cloud.get-tenant-info`: Get Tenant Info (`GET /api/v1/tenants/me`, following its redirect).

use keyflow_engine::block::{Block, BlockContext, BlockError, BlockSpec, Effect, Recovery};
use reqwest::Method;

use super::shapes::{NoInput, Tenant, decode};
use super::{CONNECTOR, client};

/// Reads the connection's tenant.
pub struct GetTenantInfo;

impl Block for GetTenantInfo {
    type Input = NoInput;
    type Output = Tenant;

    fn spec(&self) -> BlockSpec {
        BlockSpec {
            id: "qlik-cloud.get-tenant-info",
            title: "Get Tenant Info",
            connector: Some(CONNECTOR),
            description: "Reads the connection's tenant: its `id` (what a key policy's TenantId condition names) and \
                          its `datacenter` (the AWS region its key must be in).",
            effect: Effect::Read,
            secret_outputs: &[],
            secret_inputs: &[],
            output_mirrors_input: false,
            destructive_when: None,
            recovery: Recovery::Repeat,
        }
    }

    fn example_output(&self) -> Tenant {
        Tenant {
            id: "ImTRa-bkJTD-NZRYjNBa_rDhwSVA6Qo8".into(),
            name: "acme".into(),
            hostnames: vec!["acme.eu.qlikcloud.com".into()],
            region: Some("eu".into()),
            datacenter: Some("eu-west-1".into()),
            status: Some("active".into()),
            created: Some("2026-01-05T10:00:00Z".into()),
            last_updated: Some("2026-11-23T09:00:00Z".into()),
            created_by_user: None,
        }
    }

    async fn run(&self, ctx: &BlockContext, _input: NoInput) -> Result<Tenant, BlockError> {
        let answer = client(ctx)?
            .call("Get Tenant Info", Method::GET, "/api/v1/tenants/me", None)
            .await?;
        decode("Get Tenant Info", answer.body)
    }
}
