//! AWS KMS's rules, stated once: what an alias name, a tag, a region name and an ARN look like, which key
//! usages each key spec allows, and AWS's limits. Both the blocks' checks before a call
//! ([`super::checks`]) and the KMS twin call these; each words its own error (the blocks say what to
//! write, the twin answers as AWS does). Where the two used to disagree, AWS's documentation decides.

/// What every alias name starts with.
pub const ALIAS_PREFIX: &str = "alias/";
/// The alias names AWS keeps for its managed keys.
pub const RESERVED_ALIAS_PREFIX: &str = "alias/aws/";
/// The longest alias name, `alias/` included.
pub const MAX_ALIAS_NAME: usize = 256;

/// Whether `c` may appear in an alias name (AWS's pattern `^[a-zA-Z0-9:/_-]+$`).
pub fn is_alias_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_' | '-')
}

/// The most tags a key holds.
pub const MAX_TAGS: usize = 50;
/// The longest tag key, in characters.
pub const MAX_TAG_KEY: usize = 128;
/// The longest tag value, in characters.
pub const MAX_TAG_VALUE: usize = 256;

/// Whether a tag key is AWS's (`aws:…`, in any case).
pub fn is_reserved_tag_key(key: &str) -> bool {
    key.get(..4)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
}

/// The largest key policy, in bytes.
pub const MAX_POLICY_BYTES: usize = 32 * 1024;
/// The longest key description, in characters.
pub const MAX_DESCRIPTION: usize = 8192;
/// The shortest and longest waiting periods of ScheduleKeyDeletion, in days (30 when not given).
pub const DELETION_WINDOW_DAYS: (i32, i32) = (7, 30);
/// The shortest, default and longest automatic rotation periods, in days.
pub const ROTATION_PERIOD_DAYS: (i32, i32, i32) = (90, 365, 2560);

/// Whether `text` is a region name, by AWS's pattern `^([a-z]+-){2,3}\d+$` (`eu-west-1`,
/// `us-gov-west-1`).
pub fn is_region(text: &str) -> bool {
    let Some((words, number)) = text.rsplit_once('-') else {
        return false;
    };
    let words: Vec<&str> = words.split('-').collect();
    (2..=3).contains(&words.len())
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `text` is a 12-digit account id.
pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The key usages a key spec allows, as AWS's CreateKey documents them; `None` for a spec AWS does not
/// have. (SM2 exists in the China Regions only.)
pub fn usages_of(spec: &str) -> Option<&'static [&'static str]> {
    Some(match spec {
        "SYMMETRIC_DEFAULT" => &["ENCRYPT_DECRYPT"],
        "HMAC_224" | "HMAC_256" | "HMAC_384" | "HMAC_512" => &["GENERATE_VERIFY_MAC"],
        "RSA_2048" | "RSA_3072" | "RSA_4096" => &["ENCRYPT_DECRYPT", "SIGN_VERIFY"],
        "ECC_NIST_P256" | "ECC_NIST_P384" | "ECC_NIST_P521" => &["SIGN_VERIFY", "KEY_AGREEMENT"],
        "ECC_SECG_P256K1" | "ECC_NIST_EDWARDS25519" | "ML_DSA_44" | "ML_DSA_65" | "ML_DSA_87" => {
            &["SIGN_VERIFY"]
        }
        "SM2" => &["ENCRYPT_DECRYPT", "SIGN_VERIFY", "KEY_AGREEMENT"],
        _ => return None,
    })
}

/// An ARN's parts: `arn:<partition>:<service>:<region>:<account>:<resource>` (the resource may hold more
/// `:`). Parsed once here instead of by splitting strings wherever one is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-us-gov`, `aws-cn`.
    pub partition: &'a str,
    /// `kms`, `iam`, `sts`.
    pub service: &'a str,
    /// The region; empty for global services (IAM).
    pub region: &'a str,
    /// The account id.
    pub account: &'a str,
    /// `key/<id>`, `alias/<name>`, `role/<name>`…
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// The parts of `text`, or `None` when it is not six `:`-separated parts starting with `arn`.
    pub fn parse(text: &'a str) -> Option<Arn<'a>> {
        let mut parts = text.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some(service),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return None;
        };
        Some(Arn {
            partition,
            service,
            region,
            account,
            resource,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_follow_the_aws_pattern() {
        for ok in ["eu-west-1", "us-gov-west-1", "ap-southeast-4", "cn-north-1"] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "Frankfurt",
            "eu-central",
            "eu-west1-1",
            "eu--1",
            "a-b-c-d-1",
            "eu-west-",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
    }

    #[test]
    fn usages_follow_the_create_key_documentation() {
        assert_eq!(
            usages_of("RSA_2048"),
            Some(&["ENCRYPT_DECRYPT", "SIGN_VERIFY"][..])
        );
        assert!(usages_of("SM2").is_some_and(|u| u.contains(&"KEY_AGREEMENT")));
        assert_eq!(
            usages_of("ECC_NIST_EDWARDS25519"),
            Some(&["SIGN_VERIFY"][..])
        );
        assert_eq!(usages_of("AES_256"), None);
    }

    #[test]
    fn aliases_tags_and_arns() {
        assert!("alias/app:prod".chars().all(is_alias_char));
        assert!(!is_alias_char(' '));
        assert!(is_reserved_tag_key("AWS:owner") && !is_reserved_tag_key("team"));
        let arn = Arn::parse("arn:aws:kms:eu-west-1:111122223333:alias/a:b").unwrap();
        assert_eq!(
            (
                arn.partition,
                arn.service,
                arn.region,
                arn.account,
                arn.resource
            ),
            ("aws", "kms", "eu-west-1", "111122223333", "alias/a:b")
        );
        assert_eq!(
            Arn::parse("arn:aws:iam::111122223333:role/r")
                .unwrap()
                .region,
            ""
        );
        assert!(Arn::parse("not:an:arn:at:all:x").is_none());
        assert!(Arn::parse("arn:aws:kms").is_none());
    }
}
