//! Integration tests: a real server on port 0, a real receiver, a temporary SQLite file.

mod support;

mod balance;
mod circuit;
mod delivery;
mod encryption;
mod endpoints;
mod errors;
mod events;
mod filters;
mod inbound;
mod isolation;
mod retries;
mod rotation;
mod schemas;
mod scopes;
mod shutdown;
mod ssrf;
mod subscriptions;
mod throttle;
mod tls;
