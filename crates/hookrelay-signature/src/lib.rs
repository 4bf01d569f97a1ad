//! Signing and verifying webhooks.
//!
//! # Layout
//! - [`secret`]: `whsec_` signing secrets: parsing and generation.
//! - [`standard`]: Standard Webhooks `v1` signatures (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature`), what Hookrelay puts on every delivery and what a receiver checks.
//!
//! The crate does no I/O and has no async code, so receivers can use it as it is.

#![forbid(unsafe_code)]

pub mod secret;
pub mod standard;

pub use secret::{Secret, SecretError};
pub use standard::{VerifyError, sign, verify};
