//! Schemas of an inbound source as `PUT /sources/{name}` takes it
//! (`hookrelay_core::source::SourceSpec`, [`SourceInput`]) and as the API shows it
//! ([`SourceSpec`], secrets redacted), restated for the document like
//! [`super::models`].

use utoipa::ToSchema;

use super::text;

/// How a source's requests are verified, as the API shows it (secret values
/// redacted); `secrets` may hold several (rotation).
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

/// How a source's requests are verified, as `PUT /sources/{name}` takes it; `secrets`
/// may hold several (rotation).
#[derive(ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum VerifyInput {
    /// `X-Hub-Signature-256: sha256=<hex>`; `legacy_sha1` also accepts `X-Hub-Signature`.
    Github {
        /// Webhook secrets.
        #[schema(value_type = Vec<text::NonEmpty>, min_items = 1)]
        secrets: Vec<String>,
        /// Accept the legacy SHA-1 header when the SHA-256 one is absent.
        #[schema(default = false, required = false)]
        legacy_sha1: bool,
    },
    /// `Stripe-Signature: t=…,v1=…` over `{t}.{body}`.
    Stripe {
        /// `whsec_…` signing secrets.
        #[schema(value_type = Vec<text::NonEmpty>, min_items = 1)]
        secrets: Vec<String>,
        /// Replay window, seconds.
        #[schema(default = 300, minimum = 1, maximum = 86400, required = false)]
        tolerance_s: i64,
    },
    /// `X-Shopify-Hmac-Sha256: <base64>`.
    Shopify {
        /// App secrets.
        #[schema(value_type = Vec<text::NonEmpty>, min_items = 1)]
        secrets: Vec<String>,
    },
    /// `X-Slack-Signature: v0=<hex>` over `v0:{timestamp}:{body}`.
    Slack {
        /// Signing secrets.
        #[schema(value_type = Vec<text::NonEmpty>, min_items = 1)]
        secrets: Vec<String>,
        /// Replay window, seconds.
        #[schema(default = 300, minimum = 1, maximum = 86400, required = false)]
        tolerance_s: i64,
    },
    /// Standard Webhooks: `whsec_` secrets (`v1`) and `whpk_` public keys (`v1a`).
    Standard {
        /// `whsec_…` and/or `whpk_…`.
        #[schema(value_type = Vec<text::StandardKey>, min_items = 1)]
        secrets: Vec<String>,
        /// Replay window, seconds.
        #[schema(default = 300, minimum = 1, maximum = 86400, required = false)]
        tolerance_s: i64,
    },
    /// A configurable HMAC header.
    Hmac {
        /// The header carrying the signature.
        #[schema(value_type = text::NonBlank)]
        header: String,
        /// The hash.
        #[schema(value_type = HmacAlgorithm, default = "sha256", required = false)]
        algorithm: String,
        /// How the MAC is written.
        #[schema(value_type = HmacEncoding, default = "hex", required = false)]
        encoding: String,
        /// Text before the MAC, e.g. `sha256=`.
        #[schema(default = "", required = false)]
        prefix: String,
        /// Secrets.
        #[schema(value_type = Vec<text::NonEmpty>, min_items = 1)]
        secrets: Vec<String>,
    },
    /// HTTP basic auth.
    Basic {
        /// Expected user name.
        #[schema(min_length = 1)]
        username: String,
        /// Expected password.
        #[schema(min_length = 1)]
        password: String,
    },
    /// A fixed key in a header.
    ApiKey {
        /// The header, e.g. `x-api-key`.
        #[schema(value_type = text::NonBlank)]
        header: String,
        /// Accepted values (several during a rotation).
        #[schema(value_type = Vec<text::NonEmpty>, min_items = 1)]
        values: Vec<String>,
    },
    /// Accept everything (combine with `allowed_ips`).
    None,
}

/// The hash of an `hmac` source.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HmacAlgorithm {
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

/// How an `hmac` source's MAC is written.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HmacEncoding {
    /// Lower- or upper-case hex.
    Hex,
    /// Standard base64.
    Base64,
}

/// Where a request's deduplication key comes from: a header or a JSON path (one of
/// the two).
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Dedupe {
    /// A request header.
    pub header: Option<String>,
    /// A dot path into the JSON body.
    pub json_path: Option<String>,
    /// How long a key is remembered, seconds.
    #[schema(default = 604800, minimum = 1, required = false)]
    pub window_s: i64,
}

/// `dedupe`: `false` turns deduplication off, or a key definition.
#[derive(ToSchema)]
#[serde(untagged)]
pub enum DedupeSetting {
    /// `false` (off); `true` is the provider's default key (only `github`, `stripe`,
    /// `shopify` and `standard` sources have one).
    Switch(bool),
    /// A header or JSON path.
    Key(Dedupe),
}

/// Turning each request into a Hookrelay event.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publish {
    /// The event type from this header (e.g. `X-GitHub-Event`)…
    pub type_header: Option<String>,
    /// …or from this dot path into the JSON body (e.g. `type`); give one of the two.
    pub type_path: Option<String>,
    /// Put before the type, e.g. `github.` → `github.push`.
    #[schema(default = "", required = false)]
    pub type_prefix: String,
    /// The scopes the event is published into.
    #[schema(value_type = Vec<text::Scope>, min_items = 1)]
    pub scopes: Vec<String>,
}

/// A fixed answer for accepted requests instead of `202 {"id":…}`.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixedResponse {
    /// Status of accepted requests: a 2xx.
    #[schema(minimum = 200, maximum = 299)]
    pub status: u16,
    /// Body of accepted requests.
    #[schema(default = "", required = false)]
    pub body: String,
    /// Its content type.
    #[schema(default = "text/plain", required = false)]
    pub content_type: String,
}

/// A source as `PUT /sources/{name}` takes it. It must send its requests somewhere:
/// `forward_to` URLs, `publish`, or both.
#[derive(ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceInput {
    /// How requests are checked.
    pub verify: VerifyInput,
    /// Deduplication: absent → the provider's id; `false` → off.
    pub dedupe: Option<DedupeSetting>,
    /// Internal URLs every accepted request is forwarded to (at most 16).
    #[schema(value_type = Vec<text::EndpointUrl>, max_items = 16, required = false)]
    pub forward_to: Vec<String>,
    /// Publish accepted requests as events.
    pub publish: Option<Publish>,
    /// Only these addresses or CIDRs may call (empty: anyone).
    #[schema(value_type = Vec<text::IpOrCidr>, required = false)]
    pub allowed_ips: Vec<String>,
    /// A fixed answer for accepted requests.
    pub response: Option<FixedResponse>,
    /// Requests to a disabled source are 404.
    #[schema(default = true, required = false)]
    pub enabled: bool,
    /// Largest request body, 1 to 67108864.
    #[schema(default = 1048576, minimum = 1, maximum = 67108864, required = false)]
    pub max_body_bytes: u64,
}

/// A source's settings as the API shows them (`verify` with its secrets redacted,
/// `dedupe` as in effect).
#[derive(ToSchema)]
pub struct SourceSpec {
    /// How requests are checked.
    pub verify: Verify,
    /// Deduplication in effect: `null` → none.
    pub dedupe: Option<Dedupe>,
    /// Internal URLs every accepted request is forwarded to.
    pub forward_to: Vec<String>,
    /// Publish accepted requests as events.
    pub publish: Option<Publish>,
    /// Only these CIDRs may call (empty: anyone).
    pub allowed_ips: Vec<String>,
    /// A fixed answer for accepted requests.
    pub response: Option<FixedResponse>,
    /// Requests to a disabled source are 404.
    pub enabled: bool,
    /// Largest request body.
    pub max_body_bytes: u64,
}
