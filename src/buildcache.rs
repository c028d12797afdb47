//! A build cache shared between machines (the `Store` trait and folder caches come from h12a).

pub mod sign;
