//! Integration tests: a real server on port 0, a real receiver, and a fresh database —
//! a temporary SQLite file, or a PostgreSQL schema with `HOOKRELAY_TEST_BACKEND=postgres`.

mod support;

mod balance;
mod circuit;
mod contract;
mod delivery;
mod encryption;
mod endpoints;
mod errors;
mod events;
mod filters;
mod inbound;
mod isolation;
mod metrics;
mod openapi;
mod outage;
mod retention;
mod retries;
mod rotation;
mod schemas;
mod scopes;
mod shutdown;
mod slow_clients;
mod ssrf;
mod storage;
mod subscriptions;
mod tenancy;
mod throttle;
mod tls;
mod ui;
