//! Shims, selection and shell integration.
