//! Named string schemas: the forms the validators in `hookrelay-core` and the handlers
//! accept, written as JSON Schema patterns, so every field and parameter that takes one
//! says exactly what is accepted (a client generated from the document, or a fuzzer,
//! finds out before sending). Patterns are ECMA-262 and anchored; the tests in
//! `tests/api/openapi.rs` hold each against the validator it restates.

use std::borrow::Cow;

use hookrelay_core::endpoint::RESERVED_HEADERS;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, SchemaType, Type,
};
use utoipa::{PartialSchema, ToSchema};

/// A scope, e.g. `biz:biz1`: 1 to 128 of `A-Z a-z 0-9 . _ : -`.
#[derive(ToSchema)]
#[schema(pattern = r"^[A-Za-z0-9._:-]{1,128}$", example = "biz:biz1")]
pub struct Scope(pub String);

/// An endpoint's code, unique in its scope: 1 to 128 of `A-Z a-z 0-9 . _ : -`.
#[derive(ToSchema)]
#[schema(pattern = r"^[A-Za-z0-9._:-]{1,128}$", example = "webhook1")]
pub struct EndpointCode(pub String);

/// An event type's code, e.g. `order.paid`: 1 to 128 of `A-Z a-z 0-9 . _ : -`, not
/// starting with a dot.
#[derive(ToSchema)]
#[schema(
    pattern = r"^[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}$",
    example = "order.paid"
)]
pub struct EventTypeCode(pub String);

/// An event type pattern of a subscription: `*` (everything), an exact code, or a code
/// prefix ending in `.*` (`order.*`).
#[derive(ToSchema)]
#[schema(
    pattern = r"^(?:\*|[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,127}|[A-Za-z0-9_:-](?:[A-Za-z0-9._:-]{0,126}[A-Za-z0-9_:-])?\.+\*)$",
    example = "order.*"
)]
pub struct EventPattern(pub String);

/// An inbound source's name: 1 to 64 of `A-Z a-z 0-9 . _ -`.
#[derive(ToSchema)]
#[schema(pattern = r"^[A-Za-z0-9._-]{1,64}$", example = "github")]
pub struct SourceName(pub String);

/// Where deliveries (or forwards) go: an `http` or `https` URL with a host and no
/// credentials. The pattern describes the usual form (a lower-case host name, an
/// optional port, a plain path); the server accepts any URL of those schemes with a host
/// (IP literals, upper case, queries too), and refuses hosts in loopback, private and
/// other reserved networks unless `HOOKRELAY_ALLOW_NETWORKS` exempts them.
#[derive(ToSchema)]
#[schema(
    pattern = r"^https?://(?:[a-z][a-z0-9]*(?:-[a-z0-9]+)*\.)*[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?::[1-9][0-9]{0,3})?(?:/(?:[A-Za-z0-9_~-]+/?)*)?$",
    example = "https://example.com/hooks"
)]
pub struct EndpointUrl(pub String);

/// A signing secret: `whsec_` and the base64 of a 24 to 64 byte HMAC key, or `whsk_`
/// and the base64 of a 32 byte ed25519 seed (padding optional, the unused bits of the
/// last character zero).
#[derive(ToSchema)]
#[schema(
    pattern = r"^(?:whsec_(?:(?:[A-Za-z0-9+/]{4}){8,20}(?:[A-Za-z0-9+/][AQgw](?:==)?|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=?)?|(?:[A-Za-z0-9+/]{4}){21}(?:[A-Za-z0-9+/][AQgw](?:==)?)?)|whsk_(?:[A-Za-z0-9+/]{4}){10}[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=?)$",
    example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)]
pub struct SigningSecret(pub String);

/// The format of a `whpk_` key: the base64 of 32 bytes that are a valid, strong
/// ed25519 public key (a point of the curve outside its small subgroup), which no
/// pattern can say.
pub const ED25519_PUBLIC_KEY_FORMAT: &str = "ed25519-public-key";

/// A Standard Webhooks source's key: a `whsec_` secret (`v1` signatures) or a `whpk_`
/// ed25519 public key (`v1a`).
pub struct StandardKey;

impl PartialSchema for StandardKey {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some("A `whsec_` secret (`v1` signatures)"))
                    .pattern(Some(r"^whsec_(?:(?:[A-Za-z0-9+/]{4}){8,20}(?:[A-Za-z0-9+/][AQgw](?:==)?|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=?)?|(?:[A-Za-z0-9+/]{4}){21}(?:[A-Za-z0-9+/][AQgw](?:==)?)?)$")),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(
                        "A `whpk_` ed25519 public key (`v1a` signatures): the base64 of 32 \
                         bytes that are a valid, strong key (format `ed25519-public-key`)",
                    ))
                    .format(Some(SchemaFormat::Custom(ED25519_PUBLIC_KEY_FORMAT.to_owned())))
                    .pattern(Some(
                        r"^whpk_(?:[A-Za-z0-9+/]{4}){10}[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=?$",
                    )),
            )
            .description(Some(
                "A Standard Webhooks source's key: a `whsec_` secret or a `whpk_` public key",
            ))
            .into()
    }
}

impl ToSchema for StandardKey {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("StandardKey")
    }
}

/// Text with at least one character that is not white space.
#[derive(ToSchema)]
#[schema(pattern = r"[^\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")]
pub struct NonBlank(pub String);

/// A credential sent in the `Authorization` header: not blank, and no line breaks or
/// other control characters (a tab is allowed).
#[derive(ToSchema)]
#[schema(
    pattern = r"^[^\x00-\x08\n-\x1f\x7f]*[^\x00-\x20\x7f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x08\n-\x1f\x7f]*$"
)]
pub struct Credential(pub String);

/// A Basic auth user name: no `:`, no line breaks or other control characters.
#[derive(ToSchema)]
#[schema(pattern = r"^[^:\x00-\x08\n-\x1f\x7f]*$")]
pub struct BasicUsername(pub String);

/// A Basic auth password: no line breaks or other control characters.
#[derive(ToSchema)]
#[schema(pattern = r"^[^\x00-\x08\n-\x1f\x7f]*$")]
pub struct BasicPassword(pub String);

/// A custom header's value: no control characters but the tab.
#[derive(ToSchema)]
#[schema(pattern = r"^[^\x00-\x08\n-\x1f\x7f]*$")]
pub struct HeaderValue(pub String);

/// An IP address or a CIDR block: IPv4 (`10.0.0.0/8`, `203.0.113.7`) or IPv6 (the
/// document describes the full eight-group form; the server also takes `::` forms).
#[derive(ToSchema)]
#[schema(
    pattern = r"^(?:(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:/(?:3[0-2]|[12]?[0-9]))?|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){7}(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$",
    example = "10.0.0.0/8"
)]
pub struct IpOrCidr(pub String);

/// Since when: an RFC 3339 time, or a duration ago: a number and a unit (`ns`, `us`,
/// `ms`, `s`, `m`, `h`, `d`, `w`), e.g. `2h`. (The server reads any `humantime`
/// duration, such as `1h 30m`; the document describes the simple form.)
pub struct Since;

impl PartialSchema for Since {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
            )
            .item(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"^[0-9]{1,9}(?:ns|us|ms|s|m|h|d|w)$")),
            )
            .description(Some(
                "An RFC 3339 time, or a duration ago such as `2h` (a number and one of \
                 ns, us, ms, s, m, h, d, w).",
            ))
            .into()
    }
}

impl ToSchema for Since {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Since")
    }
}

/// A custom header's name: an HTTP token, not one Hookrelay sets itself
/// (`content-type`, `webhook-signature`, …, in any case).
pub struct HeaderName;

impl HeaderName {
    /// The pattern: a token that is not one of [`RESERVED_HEADERS`] in any case.
    pub fn pattern() -> String {
        let reserved: Vec<String> = RESERVED_HEADERS
            .iter()
            .map(|name| {
                name.chars()
                    .map(|c| {
                        // Header names hold letters, digits and `-`: none is special
                        // outside a class.
                        if c.is_ascii_alphabetic() {
                            format!("[{}{}]", c.to_ascii_uppercase(), c.to_ascii_lowercase())
                        } else {
                            c.to_string()
                        }
                    })
                    .collect()
            })
            .collect();
        format!(
            "^(?!(?:{})$)[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
            reserved.join("|")
        )
    }
}

impl PartialSchema for HeaderName {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A header name (an HTTP token) that Hookrelay does not set itself: not \
                 content-type, content-length, host, user-agent, webhook-id, \
                 webhook-timestamp, webhook-signature, authorization, connection or \
                 transfer-encoding, in any case.",
            ))
            .pattern(Some(Self::pattern()))
            .into()
    }
}

impl ToSchema for HeaderName {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("HeaderName")
    }
}

/// A non-empty string (a secret, an API key value).
#[derive(ToSchema)]
#[schema(min_length = 1)]
pub struct NonEmpty(pub String);

/// An event type's JSON Schema (draft 2020-12) for `data`: an object or a boolean,
/// compiled at registration (a schema that does not compile is a 422 on `schema`).
pub struct EventSchema;

impl PartialSchema for EventSchema {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Object, Type::Boolean]))
            .description(Some(
                "A JSON Schema (draft 2020-12) for the event's `data`: an object or a boolean. \
                 Remote `$ref`s are never fetched, and `pattern`s that need backtracking \
                 (lookaround, backreferences) are refused.",
            ))
            .into()
    }
}

impl ToSchema for EventSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("EventSchema")
    }
}

/// A payload filter. Its full, recursive schema is written by
/// [`super::rules`] (it needs `patternProperties` and `not`, which the schema model of
/// utoipa lacks); this names it.
pub struct Filter;

impl PartialSchema for Filter {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::Object).into()
    }
}

impl ToSchema for Filter {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Filter")
    }
}
