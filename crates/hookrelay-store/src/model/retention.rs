/// One round of pruning: what is old enough to go, and how much to take at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneRequest {
    /// Unix ms: events and inbound requests created before this go, with their
    /// deliveries and attempts, unless a delivery of theirs is still pending.
    pub history_before: i64,
    /// Unix ms: payloads (event data, attempts' response bodies, inbound bodies) of
    /// history older than this are dropped while the rows stay; `None` keeps them for
    /// the whole history.
    pub payload_before: Option<i64>,
    /// Unix ms: payloads older than this were dropped by an earlier round, so this one
    /// starts here (the pruner's watermark; 0 at first).
    pub payload_after: i64,
    /// The most events (and, separately, inbound requests) one round touches, so no
    /// transaction holds the writer long.
    pub batch: usize,
}

/// What one round removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Events removed.
    pub events: u64,
    /// Deliveries removed (with the events and inbound requests).
    pub deliveries: u64,
    /// Attempts removed.
    pub attempts: u64,
    /// Inbound requests removed.
    pub inbound: u64,
    /// Events whose payloads were dropped.
    pub payloads: u64,
    /// Where the next payload round starts (the newest event time this one reached).
    pub payload_watermark: i64,
}

impl PruneReport {
    /// Whether the round found a full batch of anything, so another should follow soon.
    pub fn more(&self, batch: usize) -> bool {
        let batch = batch as u64;
        self.events >= batch || self.inbound >= batch || self.payloads >= batch
    }
}
