//! One integration-test binary: a module per area, one shared test environment.

mod hostile;
mod install;
mod project;
mod rocks;
mod shims;
mod support;
