//! A short-lived cache of which event types are publishable, so a publish does not read
//! the registry table every time. Changes made through this process clear it at once;
//! changes made by another process (a shared database) are seen within [`TTL`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hookrelay_core::schema::DataSchema;
use hookrelay_store::{Store, StoreResult};

/// How long an entry is trusted.
pub const TTL: Duration = Duration::from_secs(2);

/// What a publish needs to know about a type.
#[derive(Debug, Clone)]
pub enum TypeState {
    /// Registered and publishable, with its compiled data schema if it has one.
    Live(Option<DataSchema>),
    /// Registered, archived.
    Archived,
    /// Not registered.
    Unknown,
}

/// Event code → state, with the time it was read.
#[derive(Default)]
pub struct RegistryCache {
    entries: Mutex<HashMap<String, (TypeState, Instant)>>,
}

impl RegistryCache {
    /// The state of `code`, from the cache or the store.
    pub async fn state(&self, store: &dyn Store, code: &str) -> StoreResult<TypeState> {
        if let Some((state, at)) = self.lock().get(code).cloned()
            && at.elapsed() < TTL
        {
            return Ok(state);
        }
        let state = match store.get_event_type(code).await? {
            Some(t) if t.archived => TypeState::Archived,
            // A stored schema was compiled when it was registered; one that no longer
            // compiles (a newer library) is not enforced rather than blocking publishes.
            Some(t) => TypeState::Live(t.schema.as_ref().and_then(|s| DataSchema::compile(s).ok())),
            None => TypeState::Unknown,
        };
        let mut entries = self.lock();
        if entries.len() > 10_000 {
            entries.clear();
        }
        entries.insert(code.to_owned(), (state.clone(), Instant::now()));
        Ok(state)
    }

    /// Forgets everything (after a registry change).
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (TypeState, Instant)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
