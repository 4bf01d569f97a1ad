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
    use std::time::Duration;

    use hookrelay_core::retry::RetrySchedule;
    use hookrelay_store::model::NextStep;
    use tokio::time::{Instant, advance};

    use super::*;
    use crate::dispatch::classify::{Ending, decide};

    /// Milliseconds on tokio's clock since `start`: these tests' `now_ms`, so that the
    /// paused clock alone decides what is due.
    fn ms(start: Instant) -> i64 {
        start.elapsed().as_millis() as i64
    }

    /// The retry that `decide` schedules after a 500 on attempt `n` at `now`.
    fn retry_at(retries: &RetrySchedule, n: u32, now: i64) -> i64 {
        match decide(Ending::Status(500), n, None, retries, now).next {
            NextStep::RetryAt(due) => due,
            other => panic!("attempt {n} of {retries:?} is retried, not {other:?}"),
        }
    }

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

    #[tokio::test(start_paused = true)]
    async fn each_retry_of_1s_2s_4s_is_due_exactly_after_its_delay_not_before() {
        let start = Instant::now();
        let retries = RetrySchedule::parse("1s,2s,4s").unwrap();
        let delivery = DeliveryId::generate();
        let mut s = Schedule::default();
        let mut out = Vec::new();
        for (n, base) in (1..).zip([1_000, 2_000, 4_000]) {
            let failed_at = ms(start);
            let due = retry_at(&retries, n, failed_at);
            let delay = due - failed_at;
            assert!(
                (base * 8 / 10..=base * 12 / 10).contains(&delay),
                "attempt {n}: {delay} ms is not {base} ms ± 20 %"
            );
            s.push(due, Item::Load(delivery.clone()));

            advance(Duration::from_millis(delay as u64 - 1)).await;
            s.pop_due(ms(start), &mut out);
            assert!(out.is_empty(), "attempt {n}: due 1 ms early");
            assert_eq!(s.next_due(), Some(due));

            advance(Duration::from_millis(1)).await;
            s.pop_due(ms(start), &mut out);
            assert_eq!(
                out.drain(..).map(|i| id(&i).to_owned()).collect::<Vec<_>>(),
                [delivery.as_str()],
                "attempt {n}: due at {due} ms"
            );
            assert_eq!(s.len(), 0);
        }
        assert_eq!(
            decide(Ending::Status(500), 4, None, &retries, ms(start)).next,
            NextStep::Failed,
            "the fourth failure spends the schedule"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn sleeping_until_the_next_due_time_wakes_exactly_then() {
        let start = Instant::now();
        let ids: Vec<DeliveryId> = (0..3).map(|_| DeliveryId::generate()).collect();
        let mut s = Schedule::default();
        s.push(4_000, Item::Load(ids[2].clone()));
        s.push(1_000, Item::Load(ids[0].clone()));
        s.push(2_000, Item::Load(ids[1].clone()));
        let mut out = Vec::new();
        for (expected, delivery) in [1_000, 2_000, 4_000].into_iter().zip(&ids) {
            // As the dispatcher waits: a sleep for the time left until the next item.
            let next = s.next_due().expect("something is scheduled");
            tokio::time::sleep(Duration::from_millis((next - ms(start)) as u64)).await;
            assert_eq!(ms(start), expected, "woke when the item was due");
            s.pop_due(ms(start), &mut out);
            assert_eq!(
                out.drain(..).map(|i| id(&i).to_owned()).collect::<Vec<_>>(),
                [delivery.as_str()]
            );
        }
        assert_eq!(s.next_due(), None);
    }
}
