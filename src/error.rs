//! Errors and the exit codes they map to (SPEC: 1 the work failed, 2 the request is wrong).

/// What went wrong, by kind. Each kind carries its exit code, so a failure has the same code
/// whichever command or file led to it (volta's `ErrorKind::exit_code`). Messages end with
/// what to do; most failures are plain `anyhow` errors with context, which exit 1.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request itself is wrong: unknown version, malformed spec, bad flag or name.
    #[error("{0}")]
    Usage(String),
    /// A version someone asked for (an argument, `LUAENV_VERSION`, a version file or a lock)
    /// is not installed: a request luaenv cannot act on.
    #[error("{0}")]
    NotInstalled(String),
    /// What a command needs is not set up yet (a project's sandbox before `luaenv sync`).
    #[error("{0}")]
    NotReady(String),
    /// Bytes that are not what they claim to be. Never a request problem: the source is wrong.
    #[error("checksum mismatch for {location}: {detail}; nothing was installed{hint}")]
    ChecksumMismatch { location: String, detail: String, hint: String },
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::NotInstalled(_) => 2,
            Error::NotReady(_) | Error::ChecksumMismatch { .. } => 1,
        }
    }
}

/// Shorthand for returning a usage error from any `anyhow` function.
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    Error::Usage(msg.into()).into()
}

/// Exit code for an error: the code of the first typed cause in the chain, else 1.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    err.chain().find_map(|e| e.downcast_ref::<Error>()).map_or(1, Error::exit_code)
}

/// Prints the error as one line first (`{:#}` joins the context chain), the long story with LUAENV_DEBUG=1.
pub fn report(err: &anyhow::Error) {
    eprintln!("luaenv: {}", first_line(err));
    if std::env::var_os("LUAENV_DEBUG").is_some_and(|v| v != "0") {
        eprintln!("{err:?}");
    }
}

/// The error as its one line; a full disk is named as the cause first, with what to do (the
/// I/O error alone names a temporary file and no fix).
fn first_line(err: &anyhow::Error) -> String {
    let text = format!("{err:#}");
    let full = err.chain().filter_map(|e| e.downcast_ref::<std::io::Error>()).any(|io| io.kind() == std::io::ErrorKind::StorageFull || io.raw_os_error() == Some(libc::ENOSPC));
    if full && !text.contains("disk is full") {
        format!("the disk is full ({text}); free some space there and run the command again")
    } else {
        text
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_carries_its_exit_code_through_context() {
        use anyhow::Context as _;
        let wrapped = |e: Error| Err::<(), _>(anyhow::Error::from(e)).context("while installing 5.4.7").unwrap_err();
        assert_eq!(exit_code(&wrapped(Error::Usage("bad".into()))), 2);
        assert_eq!(exit_code(&wrapped(Error::NotInstalled("5.9.9 is not installed".into()))), 2);
        let mismatch = Error::ChecksumMismatch { location: "x".into(), detail: "expected a, got b".into(), hint: String::new() };
        assert_eq!(exit_code(&wrapped(mismatch)), 1);
        assert_eq!(exit_code(&anyhow::anyhow!("disk full")), 1);
    }

    #[test]
    fn a_full_disk_is_named_first_with_the_fix() {
        use anyhow::Context as _;
        let full = Err::<(), _>(std::io::Error::from_raw_os_error(libc::ENOSPC)).context("cannot write /p/.luaenv/.luaenv-Q3uCRH").unwrap_err();
        let line = first_line(&full);
        assert!(line.starts_with("the disk is full (cannot write /p/.luaenv/") && line.ends_with("run the command again"), "{line}");
        assert_eq!(first_line(&anyhow::anyhow!("other")), "other");
    }
}
