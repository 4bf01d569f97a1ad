//! Schemas of an inbound source as `PUT /sources/{name}` takes it
//! (`hookrelay_core::source::SourceSpec`), restated for the document like
//! [`super::models`].

use utoipa::ToSchema;

/// How a source's requests are verified; `secrets` may hold several (rotation).
#[derive(ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Verify {
    /// `X-Hub-Signature-256: sha256=<hex>`; `legacy_sha1` also accepts `X-Hub-Signature`.
    Github {
        /// Webhook secrets.
        secrets: Vec<String>,
        /// Accept the legacy SHA-1 header when the SHA-256 one is absent.
        #[schema(default = false)]
        legacy_sha1: Option<bool>,
    },
    /// `Stripe-Signature: t=…,v1=…` over `{t}.{body}`.
    Stripe {
        /// `whsec_…` signing secrets.
        secrets: Vec<String>,
        /// Replay window, seconds.
        #[schema(default = 300)]
        tolerance_s: Option<i64>,
    },
    /// `X-Shopify-Hmac-Sha256: <base64>`.
    Shopify {
        /// App secrets.
        secrets: Vec<String>,
    },
    /// `X-Slack-Signature: v0=<hex>` over `v0:{timestamp}:{body}`.
    Slack {
        /// Signing secrets.
        secrets: Vec<String>,
        /// Replay window, seconds.
        #[schema(default = 300)]
        tolerance_s: Option<i64>,
    },
    /// Standard Webhooks: `whsec_` secrets (`v1`) and `whpk_` public keys (`v1a`).
    Standard {
        /// `whsec_…` and/or `whpk_…`.
        secrets: Vec<String>,
        /// Replay window, seconds.
        #[schema(default = 300)]
        tolerance_s: Option<i64>,
    },
    /// A configurable HMAC header.
    Hmac {
        /// The header carrying the signature.
        header: String,
        /// `sha256` or `sha512`.
        #[schema(default = "sha256")]
        algorithm: Option<String>,
        /// `hex` or `base64`.
        #[schema(default = "hex")]
        encoding: Option<String>,
        /// Text before the MAC, e.g. `sha256=`.
        prefix: Option<String>,
        /// Secrets.
        secrets: Vec<String>,
    },
    /// HTTP basic auth.
    Basic {
        /// Expected user name.
        username: String,
        /// Expected password.
        password: String,
    },
    /// A fixed key in a header.
    ApiKey {
        /// The header, e.g. `x-api-key`.
        header: String,
        /// Accepted values (several during a rotation).
        values: Vec<String>,
    },
    /// Accept everything (combine with `allowed_ips`).
    None,
}

/// Where a request's deduplication key comes from.
#[derive(ToSchema)]
pub struct Dedupe {
    /// A request header.
    pub header: Option<String>,
    /// A dot path into the JSON body.
    pub json_path: Option<String>,
    /// How long a key is remembered, seconds.
    #[schema(default = 604800)]
    pub window_s: Option<i64>,
}

/// `dedupe`: `false` turns deduplication off, or a key definition.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum DedupeSetting {
    /// `false` (off); `true` is the provider's default key.
    Switch(bool),
    /// A header or JSON path.
    Key(Dedupe),
}

/// Turning each request into a Hookrelay event.
#[derive(ToSchema)]
pub struct Publish {
    /// The event type from this header (e.g. `X-GitHub-Event`)…
    pub type_header: Option<String>,
    /// …or from this dot path into the JSON body (e.g. `type`).
    pub type_path: Option<String>,
    /// Put before the type, e.g. `github.` → `github.push`.
    pub type_prefix: Option<String>,
    /// The scopes the event is published into.
    pub scopes: Vec<String>,
}

/// A fixed answer for accepted requests instead of `202 {"id":…}`.
#[derive(ToSchema)]
pub struct FixedResponse {
    /// Status of accepted requests.
    pub status: u16,
    /// Body of accepted requests.
    pub body: Option<String>,
    /// Its content type.
    #[schema(default = "text/plain")]
    pub content_type: Option<String>,
}

/// A source as `PUT /sources/{name}` takes it.
#[derive(ToSchema)]
pub struct SourceSpec {
    /// How requests are checked.
    pub verify: Verify,
    /// Deduplication: absent → the provider's id; `false` → off.
    pub dedupe: Option<DedupeSetting>,
    /// Internal URLs every accepted request is forwarded to.
    pub forward_to: Option<Vec<String>>,
    /// Publish accepted requests as events.
    pub publish: Option<Publish>,
    /// Only these CIDRs may call (empty: anyone).
    pub allowed_ips: Option<Vec<String>>,
    /// A fixed answer for accepted requests.
    pub response: Option<FixedResponse>,
    /// Requests to a disabled source are 404.
    #[schema(default = true)]
    pub enabled: Option<bool>,
    /// Largest request body.
    #[schema(default = 1048576)]
    pub max_body_bytes: Option<usize>,
}
