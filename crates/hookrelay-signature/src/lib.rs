//! Signing and verifying webhooks.
//!
//! # Layout
//! - [`secret`]: `whsec_` signing secrets: parsing and generation.
//! - [`asymmetric`]: ed25519 keys: `whsk_` signing keys (the sender's) and `whpk_` public
//!   keys (the receiver's): parsing, generation, derivation.
//! - [`signer`]: an endpoint's signing material, `whsec_` or `whsk_`, by its prefix.
//! - [`standard`]: Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature`): `v1` (HMAC) and `v1a` (ed25519) signing, what Hookrelay puts on
//!   every delivery; `standard/verify.rs` checks a header against secrets and public keys.
//! - [`providers`]: the inbound schemes of other senders, one file each: [`providers::github`],
//!   [`providers::stripe`], [`providers::shopify`], [`providers::slack`], and a configurable
//!   [`providers::hmac`].
//! - `mac`, `hex`, `window` (private): the HMACs and their constant-time comparison, hex
//!   text, and the replay window every timestamped scheme shares.
//!
//! The crate does no I/O and has no async code, so receivers can use it as it is.

#![forbid(unsafe_code)]

pub mod asymmetric;
mod hex;
mod mac;
pub mod providers;
pub mod secret;
pub mod signer;
pub mod standard;
mod window;

pub use asymmetric::{KeyError, PublicKey, SigningKey};
pub use providers::ProviderError;
pub use secret::{Secret, SecretError};
pub use signer::{Signer, SignerError, SignerKind};
pub use standard::{Keys, VerifyError, sign, sign_v1a, verify, verify_with};
