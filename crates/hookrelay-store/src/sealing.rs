//! Which stored values are sealed and how each is bound to its row, for every backend,
//! and the `meta.master_key_check` value that lets a start with the wrong key fail at
//! once. Each backend reads and writes the columns; the formats are decided here, so a
//! value sealed by one backend opens the same way in the other.

use crate::crypto::{self, Cipher};
use crate::error::{StoreError, StoreResult};

/// The endpoint columns that hold credentials, with the kind their seal is bound to.
/// `previous_secret` shares the kind `secret` because a rotation moves the sealed value
/// from one column to the other without opening it.
pub(crate) const ENDPOINT_SEALED: [(&str, &str); 4] = [
    ("secret", "secret"),
    ("previous_secret", "secret"),
    ("headers", "headers"),
    ("auth", "auth"),
];

/// The `meta` key of the master key check.
pub(crate) const CHECK_KEY: &str = "master_key_check";
const CHECK_TEXT: &str = "hookrelay master key check";
const CHECK_AAD: &str = "meta:master_key_check";

/// Seals one credential of endpoint `id`.
pub(crate) fn seal_endpoint_value(cipher: &Cipher, id: &str, kind: &str, plain: &str) -> String {
    cipher.seal(plain, &crypto::aad("endpoint", id, kind))
}

/// Opens one credential of endpoint `id`.
pub(crate) fn open_endpoint_value(
    cipher: &Cipher,
    id: &str,
    kind: &str,
    sealed: &str,
) -> StoreResult<String> {
    cipher
        .open(sealed, &crypto::aad("endpoint", id, kind))
        .map_err(|_| StoreError::WrongMasterKey("an endpoint credential"))
}

/// The seal binding of a source's verify settings.
pub(crate) fn verify_aad(name: &str) -> String {
    crypto::aad("source", name, "verify")
}

/// A fresh master key check value for `cipher`'s key.
pub(crate) fn new_check(cipher: &Cipher) -> String {
    cipher.seal(CHECK_TEXT, CHECK_AAD)
}

/// Whether a stored check value opens with `cipher` (`WrongMasterKey` if not).
pub(crate) fn verify_check(cipher: &Cipher, sealed: &str) -> StoreResult<()> {
    cipher
        .open(sealed, CHECK_AAD)
        .map(drop)
        .map_err(|_| StoreError::WrongMasterKey("this database"))
}
