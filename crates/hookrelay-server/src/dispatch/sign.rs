//! Where a delivery is signed: the exact headers and body of one attempt
//! (Standard Webhooks wire format).

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hookrelay_core::REDACTED;
use hookrelay_core::clock::to_rfc3339;
use hookrelay_core::endpoint::OutboundAuth;
use hookrelay_core::envelope;
use hookrelay_signature::{Signer, SignerError};
use hookrelay_store::model::{DeliveryJob, EndpointTarget};

/// One attempt's request, ready to send.
#[derive(Clone)]
pub(crate) struct SignedRequest {
    pub body: bytes::Bytes,
    /// Headers to send, in order.
    pub headers: Vec<(String, String)>,
    /// The same headers with credentials redacted, for the attempt record.
    pub recorded: BTreeMap<String, String>,
}

/// Builds the body and headers of an attempt made at `timestamp` (unix seconds).
pub(crate) fn build(
    job: &DeliveryJob,
    endpoint: &EndpointTarget,
    timestamp: i64,
) -> Result<SignedRequest, SignerError> {
    let signer = Signer::parse(&endpoint.secret)?;
    let body = envelope::render(
        job.event_id.as_str(),
        &job.event_type,
        &to_rfc3339(job.event_created_at),
        &job.scope,
        &job.data,
    );
    // `v1,…` for a `whsec_` secret, `v1a,…` for a `whsk_` ed25519 key.
    let mut signature = signer.sign(job.event_id.as_str(), timestamp, &body);
    // During a rotation's grace period the old secret signs too, so receivers that
    // still hold it keep verifying: `v1,<new> v1,<old>`.
    if let Some((previous, until)) = &endpoint.previous_secret
        && *until > timestamp * 1000
        && let Ok(previous) = Signer::parse(previous)
    {
        signature.push(' ');
        signature.push_str(&previous.sign(job.event_id.as_str(), timestamp, &body));
    }

    let mut headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("user-agent".to_owned(), crate::USER_AGENT.to_owned()),
        ("webhook-id".to_owned(), job.event_id.to_string()),
        ("webhook-timestamp".to_owned(), timestamp.to_string()),
        ("webhook-signature".to_owned(), signature),
    ];
    let mut recorded: BTreeMap<String, String> = headers.iter().cloned().collect();
    for (name, value) in &endpoint.headers {
        headers.push((name.to_ascii_lowercase(), value.clone()));
        recorded.insert(name.to_ascii_lowercase(), REDACTED.to_owned());
    }
    if let Some(auth) = &endpoint.auth {
        headers.push(("authorization".to_owned(), auth_header(auth)));
        recorded.insert("authorization".to_owned(), REDACTED.to_owned());
    }
    Ok(SignedRequest {
        body: body.into(),
        headers,
        recorded,
    })
}

/// The `Authorization` value of an endpoint's outbound auth.
pub(crate) fn auth_header(auth: &OutboundAuth) -> String {
    match auth {
        OutboundAuth::Bearer { token } => format!("Bearer {token}"),
        OutboundAuth::Basic { username, password } => format!(
            "Basic {}",
            STANDARD.encode(format!("{username}:{password}"))
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use hookrelay_core::ids::{DeliveryId, EndpointId, EventId};
    use hookrelay_signature::{Secret, verify};

    use super::*;

    fn fixture() -> (DeliveryJob, EndpointTarget) {
        let endpoint = EndpointTarget {
            id: EndpointId::generate(),
            code: "webhook1".into(),
            url: "https://example.com/hook".into(),
            targets: None,
            secret: Secret::generate().to_text(),
            headers: [("X-Team".to_owned(), "blue-secret".to_owned())].into(),
            auth: Some(OutboundAuth::Bearer {
                token: "tok-123".into(),
            }),
            timeout_ms: None,
            rate_limit: None,
            enabled: true,
            previous_secret: None,
            failure_streak: 0,
            failing_since: None,
        };
        let job = DeliveryJob {
            delivery_id: DeliveryId::generate(),
            attempts_made: 0,
            due_at: 0,
            event_id: EventId::generate(),
            event_type: "template_update".into(),
            event_created_at: 1_795_000_000_000,
            data: Arc::from("{\"id\": 7}"),
            scope: "biz:biz1".into(),
            endpoint: None,
            inbound: None,
        };
        (job, endpoint)
    }

    #[test]
    fn signs_the_exact_body_and_redacts_credentials() {
        let (job, endpoint) = fixture();
        let req = build(&job, &endpoint, 1_795_000_001).unwrap();
        let h: BTreeMap<_, _> = req.headers.iter().cloned().collect();
        assert_eq!(h["webhook-id"], job.event_id.as_str());
        assert_eq!(h["authorization"], "Bearer tok-123");
        assert_eq!(h["x-team"], "blue-secret");
        let secret = Secret::parse(&endpoint.secret).unwrap();
        verify(
            &[secret],
            job.event_id.as_str(),
            1_795_000_001,
            &req.body,
            &h["webhook-signature"],
            1_795_000_001,
            300,
        )
        .unwrap();
        assert_eq!(req.recorded["authorization"], REDACTED);
        assert_eq!(req.recorded["x-team"], REDACTED);
        assert_eq!(req.recorded["webhook-id"], job.event_id.as_str());
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["scope"], "biz:biz1");
        assert_eq!(body["data"]["id"], 7);
        assert_eq!(body["timestamp"], "2026-11-18T11:06:40Z");
    }

    #[test]
    fn a_rotated_secret_signs_until_its_grace_period_ends() {
        let (job, mut endpoint) = fixture();
        let old = Secret::generate();
        let ts = 1_795_000_001;
        endpoint.previous_secret = Some((old.to_text(), ts * 1000 + 1));
        let req = build(&job, &endpoint, ts).unwrap();
        let header = &req
            .headers
            .iter()
            .find(|(n, _)| n == "webhook-signature")
            .unwrap()
            .1;
        assert_eq!(header.split(' ').count(), 2, "{header}");
        let new = Secret::parse(&endpoint.secret).unwrap();
        for secret in [new, old.clone()] {
            verify(
                &[secret],
                job.event_id.as_str(),
                ts,
                &req.body,
                header,
                ts,
                300,
            )
            .unwrap();
        }
        endpoint.previous_secret = Some((old.to_text(), ts * 1000));
        let req = build(&job, &endpoint, ts).unwrap();
        let header = &req
            .headers
            .iter()
            .find(|(n, _)| n == "webhook-signature")
            .unwrap()
            .1;
        assert_eq!(header.split(' ').count(), 1, "expired: {header}");
    }
}
