//! One integration-test binary: a module per area, one shared test environment.

mod conformance;
mod embed;
mod first_hour;
mod hostile;
mod install;
mod project;
mod rehash;
mod rocks;
mod shims;
mod sources;
mod support;
mod transaction;
mod targets;
