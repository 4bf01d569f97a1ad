use hookrelay_core::ids::TokenId;

/// An API token (its hash only).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    /// Its id.
    pub id: TokenId,
    /// A label.
    pub name: String,
    /// The scopes it may act on; `None` for an admin token.
    pub scopes: Option<Vec<String>>,
    /// Unix ms.
    pub created_at: i64,
}
