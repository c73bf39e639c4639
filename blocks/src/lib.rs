//! keyflow's connector blocks. `registry()` is the one table of every block and connector: one line each.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod aws_kms;
pub mod core;
mod cut;
#[cfg(test)]
mod peers;
pub mod qlik_cloud;

use keyflow_engine::block::Registry;

/// Every block and connector keyflow ships.
pub fn registry() -> Registry {
    Registry::new()
        .block(core::Log)
        .block(core::Set)
        .block(core::Render)
        .block(core::Fail)
        .block(core::Sleep)
        .block(core::Assert)
        .connector(aws_kms::AwsKms)
        .block(aws_kms::AddTag)
        .block(aws_kms::CancelKeyDeletion)
        .block(aws_kms::CreateAlias)
        .block(aws_kms::CreateKey)
        .block(aws_kms::Decrypt)
        .block(aws_kms::DeleteAlias)
        .block(aws_kms::DeleteTag)
        .block(aws_kms::DescribeKey)
        .block(aws_kms::DisableKey)
        .block(aws_kms::DisableKeyRotation)
        .block(aws_kms::EnableKey)
        .block(aws_kms::EnableKeyRotation)
        .block(aws_kms::Encrypt)
        .block(aws_kms::GenerateDataKey)
        .block(aws_kms::GetKeyPolicy)
        .block(aws_kms::GetKeyRotationStatus)
        .block(aws_kms::ListAliases)
        .block(aws_kms::ListKeys)
        .block(aws_kms::ListTags)
        .block(aws_kms::PutKeyPolicy)
        .block(aws_kms::ReplicateKey)
        .block(aws_kms::Request)
        .block(aws_kms::ScheduleKeyDeletion)
        .block(aws_kms::UpdateAlias)
        .block(aws_kms::UpdateKeyDescription)
        .connector(qlik_cloud::QlikCloud)
        .block(qlik_cloud::CheckKeyPolicy)
        .block(qlik_cloud::CreateKeyProvider)
        .block(qlik_cloud::DeleteKeyProvider)
        .block(qlik_cloud::GetKeyProvider)
        .block(qlik_cloud::GetMigrationDetails)
        .block(qlik_cloud::GetTenantInfo)
        .block(qlik_cloud::ListKeyProviders)
        .block(qlik_cloud::Request)
        .block(qlik_cloud::ResetToQlikProvider)
        .block(qlik_cloud::TriggerMigration)
        .block(qlik_cloud::UpdateKeyProvider)
        .block(qlik_cloud::ValidateKeyProvider)
        .check(aws_kms::AliasCreatedFirst)
        .check(qlik_cloud::KeyPolicyForQlik)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyflow_engine::schema::check::check;
    use keyflow_engine::source::YamlPath;

    #[test]
    fn ids_are_unique_and_well_formed() {
        let registry = registry();
        assert!(
            registry.duplicates().is_empty(),
            "registered twice: {:?}",
            registry.duplicates()
        );
        for block in registry.blocks() {
            let id = block.spec.id;
            let (connector, operation) = id.split_once('.').expect("connector.operation");
            let kebab = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            };
            assert!(
                kebab(connector) && kebab(operation),
                "{id} is not connector.operation in kebab-case"
            );
            // A block with a connection belongs to its connector; one without (a pure check such as
            // `qlik-cloud.check-key-policy`) to core or to the connector whose rules it applies.
            match block.spec.connector {
                Some(name) => assert_eq!(name, connector, "{id}: connector mismatch"),
                None => assert!(
                    connector == "core" || registry.connectors().any(|c| c.spec.id == connector),
                    "{id}: no connector `{connector}`"
                ),
            }
        }
    }

    #[test]
    fn every_block_is_documented_with_a_valid_example() {
        for block in registry().blocks() {
            let id = block.spec.id;
            assert!(
                !block.spec.title.is_empty() && !block.spec.description.is_empty(),
                "{id}: title/description"
            );
            assert!(
                block.input_schema.is_object() && block.output_schema.is_object(),
                "{id}: schemas"
            );
            let mut problems = Vec::new();
            check(
                &block.output_schema,
                &block.output_schema,
                &block.example_output,
                &YamlPath::root(),
                &mut problems,
            );
            assert!(
                problems.is_empty(),
                "{id}: example output does not match its schema: {problems:?}"
            );
        }
    }
}
