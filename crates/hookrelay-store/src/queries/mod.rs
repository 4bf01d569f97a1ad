//! What both backends do with the same statements: the configuration (event types,
//! endpoints, subscriptions, sources, tokens), the event log and the dashboard's
//! counters. Written once over the
//! small query layer in [`sql`]; each backend passes its own pool (SQLite: the reader
//! pool for reads, the writer connection for writes).

pub(crate) mod deliveries;
pub(crate) mod endpoints;
pub(crate) mod event_types;
pub(crate) mod events;
pub(crate) mod inbound_log;
pub(crate) mod retention;
pub(crate) mod sources;
pub(crate) mod sql;
pub(crate) mod stats;
pub(crate) mod subscriptions;
pub(crate) mod tokens;
