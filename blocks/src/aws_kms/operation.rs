//! The AWS KMS operations keyflow calls and the request quotas they count against, as enums: the
//! published quota table, the blocks' client-side limits and error messages, the twin's router and
//! throttling, and `--quota` all name them through these, never through loose strings.

use std::fmt;

/// Declares a fieldless enum with the AWS name of each variant (its identifier).
macro_rules! named {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name AWS uses (`CreateKey`).
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => stringify!($variant)),+
                }
            }

            /// The value AWS calls `name`, if there is one.
            pub fn from_name(name: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|value| value.name() == name)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named!(
    /// An AWS KMS API operation keyflow calls (and the twin serves).
    Operation {
        CreateKey,
        DescribeKey,
        ListKeys,
        EnableKey,
        DisableKey,
        ScheduleKeyDeletion,
        CancelKeyDeletion,
        PutKeyPolicy,
        GetKeyPolicy,
        UpdateKeyDescription,
        EnableKeyRotation,
        DisableKeyRotation,
        GetKeyRotationStatus,
        CreateAlias,
        UpdateAlias,
        DeleteAlias,
        ListAliases,
        TagResource,
        UntagResource,
        ListResourceTags,
        Encrypt,
        Decrypt,
        GenerateDataKey,
        ReplicateKey,
    }
);

named!(
    /// A request quota AWS KMS publishes, per account and region: one per operation, except that
    /// Encrypt, Decrypt and GenerateDataKey share `Cryptographic`, and each replica made by ReplicateKey
    /// also counts against `ReplicaCreateKey` in the replica's region.
    Quota {
        CreateKey,
        CreateAlias,
        UpdateAlias,
        UntagResource,
        EnableKey,
        DisableKey,
        CancelKeyDeletion,
        UpdateKeyDescription,
        TagResource,
        PutKeyPolicy,
        ScheduleKeyDeletion,
        DeleteAlias,
        EnableKeyRotation,
        DisableKeyRotation,
        ListKeys,
        ListAliases,
        GetKeyPolicy,
        GetKeyRotationStatus,
        DescribeKey,
        ListResourceTags,
        /// Encrypt, Decrypt and GenerateDataKey.
        Cryptographic,
        ReplicateKey,
        /// The CreateKey a replica costs in its own region.
        ReplicaCreateKey,
    }
);

impl Operation {
    /// The quota a call of this operation counts against.
    pub fn quota(self) -> Quota {
        match self {
            Operation::Encrypt | Operation::Decrypt | Operation::GenerateDataKey => {
                Quota::Cryptographic
            }
            // Every other operation has a quota of its own name.
            other => Quota::from_name(other.name()).unwrap_or(Quota::Cryptographic),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_every_operation_has_its_quota() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(*op));
            let quota = op.quota();
            let shared = matches!(
                op,
                Operation::Encrypt | Operation::Decrypt | Operation::GenerateDataKey
            );
            assert_eq!(quota == Quota::Cryptographic, shared, "{op}");
            if !shared {
                assert_eq!(quota.name(), op.name());
            }
        }
        assert_eq!(
            Quota::from_name("Cryptographic"),
            Some(Quota::Cryptographic)
        );
        assert_eq!(Operation::from_name("Sign"), None);
    }
}
