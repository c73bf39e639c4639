//! Every AWS KMS block in a flow against moto, one module per group of blocks.
