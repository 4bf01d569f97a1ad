//! The in-memory schedule: deliveries waiting for their time, soonest first.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use hookrelay_core::ids::DeliveryId;
use hookrelay_store::model::DeliveryJob;

/// What is scheduled: a job ready to send, or a delivery to load when due (a retry, or
/// one recovered from the table at start-up). A claimed job (leased until the given
/// unix ms) never waits in the schedule; it only shares the task entry point.
#[derive(Debug)]
pub(crate) enum Item {
    Job(Box<DeliveryJob>),
    Load(DeliveryId),
    Claimed(Box<DeliveryJob>, i64),
}

#[derive(Debug)]
struct Entry {
    due: i64,
    seq: u64,
    item: Item,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so the max-heap yields the earliest entry (first in, first out on ties).
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

/// A timer queue keyed by due time (unix ms).
#[derive(Debug, Default)]
pub(crate) struct Schedule {
    heap: BinaryHeap<Entry>,
    seq: u64,
}

impl Schedule {
    pub(crate) fn push(&mut self, due: i64, item: Item) {
        self.seq += 1;
        self.heap.push(Entry {
            due,
            seq: self.seq,
            item,
        });
    }

    /// Removes and returns every item due at `now`.
    pub(crate) fn pop_due(&mut self, now: i64, out: &mut Vec<Item>) {
        while self.heap.peek().is_some_and(|e| e.due <= now) {
            if let Some(e) = self.heap.pop() {
                out.push(e.item);
            }
        }
    }

    /// When the next item is due.
    pub(crate) fn next_due(&self) -> Option<i64> {
        self.heap.peek().map(|e| e.due)
    }

    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(item: &Item) -> &str {
        match item {
            Item::Load(id) => id.as_str(),
            Item::Job(j) | Item::Claimed(j, _) => j.delivery_id.as_str(),
        }
    }

    #[test]
    fn yields_due_items_in_time_order() {
        let ids: Vec<DeliveryId> = (0..3).map(|_| DeliveryId::generate()).collect();
        let mut s = Schedule::default();
        s.push(300, Item::Load(ids[2].clone()));
        s.push(100, Item::Load(ids[0].clone()));
        s.push(200, Item::Load(ids[1].clone()));
        let mut out = Vec::new();
        s.pop_due(50, &mut out);
        assert!(out.is_empty());
        assert_eq!(s.next_due(), Some(100));
        s.pop_due(200, &mut out);
        assert_eq!(
            out.iter().map(id).collect::<Vec<_>>(),
            vec![ids[0].as_str(), ids[1].as_str()]
        );
        assert_eq!(s.len(), 1);
        assert_eq!(s.next_due(), Some(300));
    }
}
