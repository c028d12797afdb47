//! One integration-test binary: a module per area, one shared test environment.

mod buildcache;
mod conformance;
mod embed;
mod first_hour;
mod hostile;
mod install;
mod lock_rocks;
mod offline;
mod project;
mod rehash;
mod rocks;
mod shims;
mod sources;
mod support;
mod transaction;
mod registry;
mod targets;
