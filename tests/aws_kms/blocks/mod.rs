//! Every AWS KMS block in a flow against moto, one module per group of blocks.

mod aliases;
mod crypto;
mod keys;
mod policy;
mod replicate;
mod rotation;
mod tags;
