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
//!
//! # Checking a webhook from Hookrelay
//!
//! Verify the raw body as received, with the three `webhook-*` headers:
//!
//! ```
//! use hookrelay_signature::{Secret, sign, verify};
//!
//! let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
//! let body = br#"{"id":"evt_1","type":"order.paid","data":{}}"#;
//! let header = sign(&secret, "evt_1", 1_700_000_000, body); // what Hookrelay sends
//! assert!(verify(&[secret.clone()], "evt_1", 1_700_000_000, body, &header, 1_700_000_010, 300).is_ok());
//! // A changed body, or a timestamp outside the window, is refused.
//! assert!(verify(&[secret.clone()], "evt_1", 1_700_000_000, b"{}", &header, 1_700_000_010, 300).is_err());
//! assert!(verify(&[secret], "evt_1", 1_700_000_000, body, &header, 1_700_001_000, 300).is_err());
//! ```
//!
//! # Checking a provider's webhook
//!
//! ```
//! use hookrelay_signature::providers::{github, stripe};
//!
//! let body = b"Hello, World!";
//! let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
//! assert!(github::verify(&["It's a Secret to Everybody"], body, Some(sig)).is_ok());
//!
//! let header = stripe::sign(b"whsec_test", 1_700_000_000, b"{}");
//! assert!(stripe::verify(&["whsec_test"], b"{}", Some(&header), 1_700_000_100, 300).is_ok());
//! ```
//!
//! `examples/axum_receiver.rs` is a complete axum handler.

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
