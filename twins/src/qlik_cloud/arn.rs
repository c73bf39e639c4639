//! The ARN structure Qlik validates on create (417 otherwise):
//! `arn:aws|aws-us-gov:kms:<region>:<12-digit account>:key/<id>` or `…:alias/<name>`.

use keyflow_blocks::aws_kms::facts::{self, Arn};
use keyflow_blocks::qlik_cloud::policy::Partition;

/// A well-formed KMS key or alias ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyArn<'a> {
    /// Its partition.
    pub partition: Partition,
    /// Its region.
    pub region: &'a str,
}

/// Reads `arn`, or says what is wrong with it.
pub fn parse(arn: &str) -> Result<KeyArn<'_>, String> {
    let expected =
        "expected `arn:aws:kms:<region>:<account id>:key/<key id>` or `…:alias/<alias name>`";
    let Some(Arn {
        partition,
        service,
        region,
        account,
        resource,
    }) = Arn::parse(arn)
    else {
        return Err(format!(
            "`{arn}` does not have the six parts of an ARN: {expected}"
        ));
    };
    let partition = match partition {
        "aws" => Partition::Aws,
        "aws-us-gov" => Partition::AwsUsGov,
        _ => {
            return Err(format!(
                "`{arn}` is not in partition `aws` or `aws-us-gov`: {expected}"
            ));
        }
    };
    if service != "kms" {
        return Err(format!("`{arn}` is not a KMS ARN: {expected}"));
    }
    if !facts::is_region(region) {
        return Err(format!("`{region}` is not an AWS region: {expected}"));
    }
    if region.starts_with("us-gov-") != (partition == Partition::AwsUsGov) {
        return Err(format!(
            "region `{region}` is not in partition `{partition}`: GovCloud regions are `arn:aws-us-gov:`"
        ));
    }
    if !facts::is_account_id(account) {
        return Err(format!(
            "`{account}` is not a 12-digit AWS account id: {expected}"
        ));
    }
    let resource_ok = match resource.split_once('/') {
        Some(("key", id)) => {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }
        Some(("alias", name)) => !name.is_empty() && name.chars().all(facts::is_alias_char),
        _ => false,
    };
    if !resource_ok {
        return Err(format!(
            "`{resource}` is neither `key/<key id>` nor `alias/<alias name>`: {expected}"
        ));
    }
    Ok(KeyArn { partition, region })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_and_alias_arns_of_both_partitions_parse() {
        let key =
            parse("arn:aws:kms:eu-west-1:111222334455:key/mrk-1237c011a37erft67ei987c7612q456");
        assert_eq!(
            key,
            Ok(KeyArn {
                partition: Partition::Aws,
                region: "eu-west-1"
            })
        );
        assert!(parse("arn:aws:kms:us-east-1:111122223333:alias/CMK-Example-Alias").is_ok());
        let gov = parse("arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/1234abcd-12ab");
        assert_eq!(gov.map(|k| k.partition), Ok(Partition::AwsUsGov));
    }

    #[test]
    fn malformed_arns_say_what_is_wrong() {
        for (arn, says) in [
            ("not-an-arn", "six parts"),
            ("arn:aws-cn:kms:cn-north-1:111122223333:key/1", "partition"),
            ("arn:aws:s3:eu-west-1:111122223333:key/1", "not a KMS ARN"),
            ("arn:aws:kms:europe:111122223333:key/1", "not an AWS region"),
            (
                "arn:aws:kms:us-gov-west-1:111122223333:key/1",
                "not in partition",
            ),
            ("arn:aws:kms:eu-west-1:1111:key/1", "12-digit"),
            ("arn:aws:kms:eu-west-1:111122223333:secret/1", "neither"),
            ("arn:aws:kms:eu-west-1:111122223333:key/", "neither"),
        ] {
            let error = parse(arn).unwrap_err();
            assert!(error.contains(says), "{arn}: {error}");
        }
    }
}
