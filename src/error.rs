//! Errors and the exit codes they map to (SPEC: 1 the work failed, 2 the request is wrong).

use std::fmt;

/// The request itself is wrong: unknown version, malformed spec, bad name. Exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for returning a usage error from any `anyhow` function.
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// Exit code for an error: 2 when any cause in the chain is a usage error, else 1.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    if err.chain().any(|e| e.is::<UsageError>()) { 2 } else { 1 }
}

/// Prints the error as one line first (`{:#}` joins the context chain), the long story with LUAENV_DEBUG=1.
pub fn report(err: &anyhow::Error) {
    eprintln!("luaenv: {err:#}");
    if std::env::var_os("LUAENV_DEBUG").is_some_and(|v| v != "0") {
        eprintln!("{err:?}");
    }
}

/// A command line clap refused: its message as one `luaenv:` line first, then clap's usage
/// and tip, exit 2. Help and version requests print as clap prints them.
pub fn report_usage(err: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    if matches!(err.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand) {
        err.exit();
    }
    let text = err.render().to_string();
    let (head, rest) = text.split_once("\n\n").unwrap_or((&text, ""));
    let head: Vec<&str> = head.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let head = head.join(" ");
    eprintln!("luaenv: {}", head.strip_prefix("error: ").unwrap_or(&head));
    if !rest.is_empty() {
        eprint!("\n{rest}");
    }
    2
}
