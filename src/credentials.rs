//! Rocks-server credentials. LuaRocks only knows `user:pass@` in a URL (which would put the
//! secret in the config, in its messages and on command lines) or `~/.netrc` through wget.
//! So luaenv keeps one netrc-style file in the root (mode 0600, in a 0700 folder) whose
//! `machine` is a server's `host:port`, and points LuaRocks' `variables.WGET`/`variables.CURL`
//! at two small wrappers. A netrc matches by host alone, so for each download a wrapper
//! copies the one entry of the URL's own `host:port` into a private temporary netrc for
//! wget or curl, deleted when the download ends: credentials go only to the server they were
//! given for, and only when it asks (no `--auth-no-challenge`).

/// Mirror passwords (`http://user:pass@mirror/`), kept apart from the rocks netrc.
pub mod mirror;

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::PathBuf;

use anyhow::{Context as _, Result};

use crate::context::Context;
use crate::error::usage;
use crate::shell::{Shell, Value, render};

/// One `machine` line of the credentials file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The server's `host:port` (the port always written, the scheme's default if not given).
    pub host: String,
    pub login: String,
    pub password: String,
}

/// What stands in for a secret in every output.
pub const MASK: &str = "***";

pub fn dir(ctx: &Context) -> PathBuf {
    ctx.root.join("credentials")
}

/// The netrc file: wget reads `$HOME/.netrc`, so its wrapper runs with HOME set to `dir`.
pub fn netrc_path(ctx: &Context) -> PathBuf {
    dir(ctx).join(".netrc")
}

/// The wrappers LuaRocks runs instead of wget and curl, as (wget, curl).
pub fn wrapper_paths(ctx: &Context) -> (PathBuf, PathBuf) {
    (dir(ctx).join("wget"), dir(ctx).join("curl"))
}

/// The stored entries, or nothing when there is no file or it cannot be read (for listings).
pub fn load(ctx: &Context) -> Vec<Entry> {
    read_entries(ctx).unwrap_or_default()
}

/// The stored entries; an error when the file exists but is not text luaenv wrote, so that a
/// rewrite never drops the lines it could not read.
fn read_entries(ctx: &Context) -> Result<Vec<Entry>> {
    let path = netrc_path(ctx);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot read {}", path.display()))),
    };
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!("{} holds bytes that are not UTF-8; luaenv will not rewrite it and lose them: fix or remove that line by hand, then run the command again", path.display())
    })?;
    Ok(parse(&text))
}

/// Fails when the credentials file exists but cannot be rewritten without losing lines.
pub fn check_file(ctx: &Context) -> Result<()> {
    read_entries(ctx).map(drop)
}

/// The login stored for a server's `host:port`, if any (never the password).
pub fn login_for(ctx: &Context, host: &str) -> Option<String> {
    load(ctx).into_iter().find(|e| e.host == host).map(|e| e.login)
}

/// Checks that a login and password can be written to a netrc file as plain tokens.
pub fn check(login: &str, password: &str) -> Result<()> {
    let plain = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c == '"' || c == '\\' || c.is_control());
    if !plain(login) {
        return Err(usage("--user: a user name must be non-empty, without spaces, quotes or backslashes"));
    }
    if !plain(password) {
        return Err(usage("the password read from stdin is empty or holds spaces, quotes or backslashes, which wget and curl cannot read from a netrc file"));
    }
    Ok(())
}

/// Stores (or replaces) the credentials for a server's `host:port` and writes the wrappers.
pub fn store(ctx: &Context, entry: Entry) -> Result<()> {
    let _lock = crate::lock::acquire(ctx, "credentials")?;
    let mut entries = read_entries(ctx)?;
    entries.retain(|e| e.host != entry.host);
    entries.push(entry);
    save(ctx, &entries)?;
    write_wrappers(ctx)
}

/// Forgets the credentials of a server's `host:port`; true when there were some.
pub fn forget(ctx: &Context, host: &str) -> Result<bool> {
    let _lock = crate::lock::acquire(ctx, "credentials")?;
    let mut entries = read_entries(ctx)?;
    let before = entries.len();
    entries.retain(|e| e.host != host);
    if entries.len() == before {
        return Ok(false);
    }
    save(ctx, &entries)?;
    Ok(true)
}

fn save(ctx: &Context, entries: &[Entry]) -> Result<()> {
    let dir = dir(ctx);
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    let mut text = String::from("# written by luaenv (luaenv rocks add-server --user); mode 0600\n");
    for e in entries {
        text.push_str(&format!("machine {} login {} password {}\n", e.host, e.login, e.password));
    }
    // tempfile creates its files with mode 0600, so the secret is never readable by others.
    let mut tmp = tempfile::Builder::new().prefix(".netrc-").tempfile_in(&dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    let path = netrc_path(ctx);
    tmp.persist(&path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn parse(text: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut tokens = text.lines().filter(|l| !l.trim_start().starts_with('#')).flat_map(str::split_whitespace);
    let mut current: Option<Entry> = None;
    while let Some(token) = tokens.next() {
        match token {
            "machine" => {
                entries.extend(current.take());
                current = tokens.next().map(|h| Entry { host: h.to_string(), login: String::new(), password: String::new() });
            }
            "login" => {
                if let (Some(e), Some(v)) = (current.as_mut(), tokens.next()) {
                    e.login = v.to_string();
                }
            }
            "password" => {
                if let (Some(e), Some(v)) = (current.as_mut(), tokens.next()) {
                    e.password = v.to_string();
                }
            }
            _ => {}
        }
    }
    entries.extend(current);
    entries
}

/// The wrappers: wget reads only `$HOME/.netrc`, curl takes the file by name.
fn write_wrappers(ctx: &Context) -> Result<()> {
    for (path, script) in wrapper_scripts(ctx) {
        crate::fs::write_atomic(&path, script.as_bytes())?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

const WGET_WRAPPER: &str = include_str!("../shims/credentials-wget.sh");
const CURL_WRAPPER: &str = include_str!("../shims/credentials-curl.sh");

/// Shell code shared by the wrappers: the URL's `host:port` (the scheme's port when none is
/// given), and that one entry of the credentials file copied into a private temporary netrc
/// (`$netrc`, in `$dir`, removed at exit), with the plain host as its `machine`.
const PICK_ENTRY: &str = include_str!("../shims/credentials-pick-entry.sh");

fn wrapper_scripts(ctx: &Context) -> [(PathBuf, String); 2] {
    let (wget, curl) = wrapper_paths(ctx);
    let netrc = netrc_path(ctx);
    let script = |template| render(template, Shell::Bash, &[("NETRC", Value::path(&netrc)), ("PICK_ENTRY", Value::Include(PICK_ENTRY))]);
    [(wget, script(WGET_WRAPPER)), (curl, script(CURL_WRAPPER))]
}

/// A server's key in the credentials file: `host:port`, the scheme's port when none is given.
pub fn host_of(url: &reqwest::Url) -> Option<String> {
    Some(format!("{}:{}", url.host_str()?, url.port_or_known_default()?))
}

/// A URL as shown to people: any password in it replaced by `***`, even in a URL that does
/// not parse (a bad port, say), where the user part is cut out of the text itself.
pub fn masked(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some(MASK));
            u.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => mask_unparsed(url),
    }
}

/// `scheme://user:secret@rest` as `scheme://user:***@rest`, without parsing: for messages
/// about URLs the parser refused.
fn mask_unparsed(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..end].rfind('@') else { return url.to_string() };
    let user = rest[..at].split(':').next().unwrap_or("");
    format!("{scheme}://{user}:{MASK}@{}", &rest[at + 1..])
}

/// A URL with `login:***@` in it, for listing a server that has stored credentials.
pub fn with_masked_login(url: &str, login: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username(login);
            let _ = u.set_password(Some(MASK));
            let shown = u.to_string();
            // Url adds a `/` after a bare host; show the URL as it was given.
            if url.ends_with('/') { shown } else { shown.trim_end_matches('/').to_string() }
        }
        Err(_) => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netrc_round_trip_and_masking() {
        let text = "# c\nmachine a.example login u password p1\nmachine b.example\n  login v\n  password p2\n";
        let entries = parse(text);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1], Entry { host: "b.example".into(), login: "v".into(), password: "p2".into() });
        assert_eq!(masked("http://u:secret@h:8080/x"), "http://u:***@h:8080/x");
        assert_eq!(masked("http://alice:S3cret@127.0.0.1:99999/"), "http://alice:***@127.0.0.1:99999/");
        assert_eq!(masked("http://a@b:S3cret@h:99999/"), "http://a@b:***@h:99999/");
        let key = |u: &str| host_of(&reqwest::Url::parse(u).unwrap()).unwrap();
        assert_eq!((key("http://h/x"), key("https://h/x"), key("http://h:8080")), ("h:80".into(), "h:443".into(), "h:8080".into()));
        assert_eq!(with_masked_login("http://h:8080/x", "u"), "http://u:***@h:8080/x");
        assert_eq!(with_masked_login("http://h:8080", "u"), "http://u:***@h:8080");
        assert!(check("u", "has space").is_err() && check("u", "").is_err() && check("u", "s3cr3t!").is_ok());
    }

    #[test]
    fn wrappers_quote_a_hostile_root() {
        let ctx = Context { root: PathBuf::from("/tmp/it's a \"root\" $HOME\\x"), cache: PathBuf::from("/c") };
        let [(_, wget), (_, curl)] = wrapper_scripts(&ctx);
        insta::assert_snapshot!("wget_wrapper", wget);
        insta::assert_snapshot!("curl_wrapper", curl);
    }
}
