//! The AWS regions Qlik Cloud tenants live in, the region code a tenant's hostname carries for each
//! (`acme.eu.qlikcloud.com`), and the disaster-recovery (backup) region each one needs a replica key in,
//! from Qlik's "Configuring tenant encryption" help page.

/// Every Qlik Cloud region as (AWS region, Qlik region code, backup region when it has one). Sweden keeps
/// its data in-country and the Government regions need no replica, so they have none. Both Government
/// regions share the code `us-gov`; it reads back as the first, `us-gov-west-1`.
const REGIONS: &[(&str, &str, Option<&str>)] = &[
    ("us-east-1", "us", Some("us-east-2")),
    ("eu-west-1", "eu", Some("eu-west-3")),
    ("eu-west-2", "uk", Some("eu-south-2")),
    ("eu-central-1", "de", Some("eu-south-1")),
    ("eu-north-1", "se", None),
    ("ap-southeast-1", "sg", Some("ap-northeast-2")),
    ("ap-southeast-2", "ap", Some("ap-southeast-4")),
    ("ap-northeast-1", "jp", Some("ap-northeast-3")),
    ("ap-south-1", "in", Some("ap-south-2")),
    ("us-gov-west-1", "us-gov", None),
    ("us-gov-east-1", "us-gov", None),
];

/// The backup region where a key of a tenant in `aws_region` needs its multi-Region replica, or `None` when
/// the region has no backup (eu-north-1, the Government regions) or is not a Qlik Cloud region.
pub fn dr_region(aws_region: &str) -> Option<&'static str> {
    REGIONS
        .iter()
        .find(|(region, _, _)| *region == aws_region)
        .and_then(|(_, _, dr)| *dr)
}

/// Every AWS region Qlik Cloud hosts tenants in.
pub fn all() -> Vec<&'static str> {
    REGIONS.iter().map(|(region, _, _)| *region).collect()
}

/// Whether Qlik Cloud hosts tenants in `aws_region` (commercial or Government).
pub fn is_qlik_region(aws_region: &str) -> bool {
    REGIONS.iter().any(|(region, _, _)| *region == aws_region)
}

/// Whether `aws_region` is a Qlik Cloud Government region (in the `aws-us-gov` partition).
pub fn is_gov_region(aws_region: &str) -> bool {
    is_qlik_region(aws_region) && aws_region.starts_with("us-gov-")
}

/// The Qlik region code of tenants whose data lives in `aws_region` (`eu` for `eu-west-1`), or `None` when
/// it is not a Qlik Cloud region.
pub fn code(aws_region: &str) -> Option<&'static str> {
    REGIONS
        .iter()
        .find(|(region, _, _)| *region == aws_region)
        .map(|(_, code, _)| *code)
}

/// The AWS region of the tenants of Qlik region code `code` (`us-east-1` for `us`), or `None` when it is
/// not one.
pub fn by_code(code: &str) -> Option<&'static str> {
    REGIONS
        .iter()
        .find(|(_, known, _)| *known == code)
        .map(|(region, _, _)| *region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_commercial_region_has_its_documented_backup() {
        let expected = [
            ("us-east-1", "us-east-2"),
            ("eu-west-1", "eu-west-3"),
            ("eu-west-2", "eu-south-2"),
            ("eu-central-1", "eu-south-1"),
            ("ap-southeast-1", "ap-northeast-2"),
            ("ap-southeast-2", "ap-southeast-4"),
            ("ap-northeast-1", "ap-northeast-3"),
            ("ap-south-1", "ap-south-2"),
        ];
        for (region, dr) in expected {
            assert_eq!(dr_region(region), Some(dr), "{region}");
            assert!(is_qlik_region(region), "{region}");
            assert!(!is_gov_region(region), "{region}");
        }
    }

    #[test]
    fn sweden_and_gov_have_no_backup_region() {
        for region in ["eu-north-1", "us-gov-west-1", "us-gov-east-1"] {
            assert_eq!(dr_region(region), None, "{region}");
            assert!(is_qlik_region(region), "{region}");
        }
        assert!(is_gov_region("us-gov-west-1"));
        assert!(!is_gov_region("eu-north-1"));
    }

    #[test]
    fn other_regions_are_not_qlik_regions() {
        for region in ["us-west-2", "eu-west-3", "ca-central-1", "", "US-EAST-1"] {
            assert!(!is_qlik_region(region), "{region}");
            assert_eq!(dr_region(region), None, "{region}");
        }
    }

    #[test]
    fn region_codes_read_both_ways() {
        for region in all() {
            let qlik = code(region).unwrap_or_else(|| panic!("{region} has a code"));
            if region != "us-gov-east-1" {
                assert_eq!(by_code(qlik), Some(region), "{qlik}");
            }
        }
        assert_eq!(code("eu-west-1"), Some("eu"));
        assert_eq!(by_code("us"), Some("us-east-1"));
        assert_eq!(by_code("us-gov"), Some("us-gov-west-1"));
        assert_eq!(code("us-west-2"), None);
        assert_eq!(by_code("qlikcloud"), None);
        assert_eq!(by_code("EU"), None);
    }
}
