//! What the comparison lets differ, field by field, each with its reason: fields of AWS's answers that
//! moto leaves out ([`ALLOWED_ASYMMETRIES`]), and values moto gets wrong in flows that are otherwise
//! compared, or fields it answers where AWS does not ([`MOTO_UNFAITHFUL`]). Fields are named inside an
//! AWS response shape ([`Shape`]), so a rule applies wherever a flow copied the answer (a `core.set`
//! report, the flow's outputs) and nowhere else.

use super::Side;

/// An AWS response shape, as the KMS API reference lists its members. An object is one when every field
/// it has (on either side) is a member and, for a shape bound to a block, when it is that block's output.
pub struct Shape {
    /// The shape's name in the API reference.
    pub name: &'static str,
    /// Its members.
    pub members: &'static [&'static str],
    /// The block whose output it is, for the answers recognized only there: those too small to be told
    /// apart from other objects (a CancelKeyDeletion answer is just a `KeyId`) and those no flow copies.
    /// `None` for the shapes recognized wherever a flow copies them (`audit-keys` reports metadata,
    /// aliases and rotation statuses).
    pub block: Option<&'static str>,
}

const DECRYPT: Shape = Shape {
    name: "DecryptResponse",
    members: &[
        "KeyId",
        "Plaintext",
        "EncryptionAlgorithm",
        "CiphertextForRecipient",
        "KeyMaterialId",
    ],
    block: Some("aws-kms.decrypt"),
};
const GENERATE_DATA_KEY: Shape = Shape {
    name: "GenerateDataKeyResponse",
    members: &[
        "CiphertextBlob",
        "Plaintext",
        "KeyId",
        "CiphertextForRecipient",
        "KeyMaterialId",
    ],
    block: Some("aws-kms.generate-data-key"),
};
const KEY_METADATA: Shape = Shape {
    name: "KeyMetadata",
    members: &[
        "AWSAccountId",
        "Arn",
        "CloudHsmClusterId",
        "CreationDate",
        "CurrentKeyMaterialId",
        "CustomerMasterKeySpec",
        "CustomKeyStoreId",
        "DeletionDate",
        "Description",
        "Enabled",
        "EncryptionAlgorithms",
        "ExpirationModel",
        "KeyAgreementAlgorithms",
        "KeyId",
        "KeyManager",
        "KeySpec",
        "KeyState",
        "KeyUsage",
        "MacAlgorithms",
        "MultiRegion",
        "MultiRegionConfiguration",
        "Origin",
        "PendingDeletionWindowInDays",
        "SigningAlgorithms",
        "ValidTo",
        "XksKeyConfiguration",
    ],
    block: None,
};
const ENCRYPT: Shape = Shape {
    name: "EncryptResponse",
    members: &["CiphertextBlob", "KeyId", "EncryptionAlgorithm"],
    block: Some("aws-kms.encrypt"),
};
const ALIAS: Shape = Shape {
    name: "AliasListEntry",
    members: &[
        "AliasName",
        "AliasArn",
        "TargetKeyId",
        "CreationDate",
        "LastUpdatedDate",
    ],
    block: None,
};
const ROTATION_STATUS: Shape = Shape {
    name: "GetKeyRotationStatusResponse",
    members: &[
        "KeyRotationEnabled",
        "KeyId",
        "RotationPeriodInDays",
        "NextRotationDate",
        "OnDemandRotationStartDate",
    ],
    block: None,
};
const SCHEDULE_DELETION: Shape = Shape {
    name: "ScheduleKeyDeletionResponse",
    members: &["KeyId", "DeletionDate", "KeyState", "PendingWindowInDays"],
    block: Some("aws-kms.schedule-key-deletion"),
};
const CANCEL_DELETION: Shape = Shape {
    name: "CancelKeyDeletionResponse",
    members: &["KeyId"],
    block: Some("aws-kms.cancel-key-deletion"),
};
const REPLICATE: Shape = Shape {
    name: "ReplicateKeyResponse",
    members: &["ReplicaKeyMetadata", "ReplicaPolicy", "ReplicaTags"],
    block: Some("aws-kms.replicate-key"),
};

/// A field, or a value, the comparison lets differ.
pub struct Rule {
    /// The response shape the field belongs to.
    pub shape: Shape,
    /// The field: a path inside the shape (`ReplicaKeyMetadata.Description`).
    pub field: &'static str,
    /// For an asymmetry, the peer that answers the field; `None` for a value moto gets wrong.
    pub only_on: Option<Side>,
    /// What AWS does (its API reference), and what moto does instead.
    pub reason: &'static str,
}

/// Fields AWS documents in its answer that moto leaves out and the twin answers.
pub const ALLOWED_ASYMMETRIES: &[Rule] = &[
    Rule {
        shape: DECRYPT,
        field: "EncryptionAlgorithm",
        only_on: Some(Side::Twin),
        reason: "AWS answers the algorithm Decrypt used; moto leaves it out",
    },
    Rule {
        shape: DECRYPT,
        field: "KeyMaterialId",
        only_on: Some(Side::Twin),
        reason: "AWS answers the key material a symmetric key decrypted with; moto leaves it out",
    },
    Rule {
        shape: GENERATE_DATA_KEY,
        field: "KeyMaterialId",
        only_on: Some(Side::Twin),
        reason: "AWS answers the key material that encrypted the data key; moto leaves it out",
    },
    Rule {
        shape: KEY_METADATA,
        field: "CurrentKeyMaterialId",
        only_on: Some(Side::Twin),
        reason: "AWS answers it for symmetric keys of AWS_KMS origin; moto leaves it out",
    },
    Rule {
        shape: ENCRYPT,
        field: "EncryptionAlgorithm",
        only_on: Some(Side::Twin),
        reason: "AWS answers the algorithm Encrypt used; moto leaves it out",
    },
    Rule {
        shape: ALIAS,
        field: "CreationDate",
        only_on: Some(Side::Twin),
        reason: "AWS answers when the alias was created; moto leaves it out",
    },
    Rule {
        shape: ALIAS,
        field: "LastUpdatedDate",
        only_on: Some(Side::Twin),
        reason: "AWS answers when the alias was last associated with a key; moto leaves it out",
    },
    Rule {
        shape: ROTATION_STATUS,
        field: "KeyId",
        only_on: Some(Side::Twin),
        reason: "AWS answers the key's ARN; moto answers KeyRotationEnabled only",
    },
    Rule {
        shape: ROTATION_STATUS,
        field: "RotationPeriodInDays",
        only_on: Some(Side::Twin),
        reason: "AWS answers the period of an enabled rotation; moto answers KeyRotationEnabled only",
    },
    Rule {
        shape: ROTATION_STATUS,
        field: "NextRotationDate",
        only_on: Some(Side::Twin),
        reason: "AWS answers the next rotation of an enabled rotation; moto answers KeyRotationEnabled only",
    },
    Rule {
        shape: SCHEDULE_DELETION,
        field: "KeyState",
        only_on: Some(Side::Twin),
        reason: "AWS answers the key's new state; moto answers KeyId and DeletionDate only",
    },
    Rule {
        shape: SCHEDULE_DELETION,
        field: "PendingWindowInDays",
        only_on: Some(Side::Twin),
        reason: "AWS answers the waiting period; moto answers KeyId and DeletionDate only",
    },
];

/// Values moto gets wrong in the compared flows (their presence is compared, not what they hold), and a
/// field it answers where AWS does not. The tests hold the twin to AWS's answer for each: ReplicateKey's
/// in `super::divergences`, ScheduleKeyDeletion's of a primary key in `super::flows`.
pub const MOTO_UNFAITHFUL: &[Rule] = &[
    Rule {
        shape: SCHEDULE_DELETION,
        field: "KeyId",
        only_on: None,
        reason: "AWS answers the key ARN of the key scheduled for deletion; moto its key id",
    },
    Rule {
        shape: SCHEDULE_DELETION,
        field: "DeletionDate",
        only_on: Some(Side::Moto),
        reason: "AWS leaves it out for a multi-Region primary key with replicas (not known until the last \
                 replica is deleted); moto answers one",
    },
    Rule {
        shape: CANCEL_DELETION,
        field: "KeyId",
        only_on: None,
        reason: "AWS answers the key ARN of the key whose deletion is cancelled; moto its key id",
    },
    Rule {
        shape: REPLICATE,
        field: "ReplicaKeyMetadata.Description",
        only_on: None,
        reason: "AWS gives the replica the description asked for; moto ignores it",
    },
    Rule {
        shape: REPLICATE,
        field: "ReplicaKeyMetadata.MultiRegionConfiguration.MultiRegionKeyType",
        only_on: None,
        reason: "AWS describes the new replica as a REPLICA key; moto as PRIMARY",
    },
    Rule {
        shape: REPLICATE,
        field: "ReplicaPolicy",
        only_on: None,
        reason: "AWS applies the policy asked for to the replica; moto ignores it and answers the default",
    },
];
