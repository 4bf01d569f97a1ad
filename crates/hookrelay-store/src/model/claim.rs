use std::collections::HashMap;

use hookrelay_core::ids::EndpointId;

/// What a worker asks for when it claims due deliveries from a shared store.
///
/// Per-endpoint room keeps one endpoint from filling a worker's whole claim: a worker
/// that holds as many deliveries of an endpoint as that endpoint may have in flight
/// gets none of its rows, so a slow or dead endpoint's backlog never stands in front
/// of other endpoints' due rows.
#[derive(Debug, Clone, Default)]
pub struct ClaimRequest {
    /// The most rows to claim.
    pub limit: usize,
    /// How long each claimed row is leased, ms.
    pub lease_ms: i64,
    /// Unix ms: rows due by then are claimable.
    pub now: i64,
    /// The most rows of one endpoint this claim may take, for endpoints not in `room`.
    pub per_endpoint: usize,
    /// Endpoints the worker already holds rows of, with how many more it may take (0:
    /// none).
    pub room: HashMap<EndpointId, usize>,
}

impl ClaimRequest {
    /// How many rows of `endpoint` this claim may take.
    pub fn room_for(&self, endpoint: &EndpointId) -> usize {
        self.room
            .get(endpoint)
            .copied()
            .unwrap_or(self.per_endpoint)
    }

    /// The endpoints this claim must skip entirely.
    pub fn full_endpoints(&self) -> Vec<&str> {
        self.room
            .iter()
            .filter(|(_, room)| **room == 0)
            .map(|(id, _)| id.as_str())
            .collect()
    }
}
