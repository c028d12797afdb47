//! Passwords of source mirrors (`luaenv mirror set http://user:pass@host/`). The mirror file
//! keeps the URL with the user only; the password lives beside the rocks credentials in
//! `<root>/credentials/mirror-auth` (mode 0600, folder 0700), one `scheme://user:pass@host:port`
//! line per mirror, and is added to a request only for that scheme, host, port and user.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use url::Url;

use crate::context::Context;

pub fn path(root: &Path) -> PathBuf {
    root.join("credentials").join("mirror-auth")
}

/// The same server and user: what a stored password is good for.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default() && a.username() == b.username()
}

fn load(root: &Path) -> Result<Vec<Url>> {
    let file = path(root);
    if !file.exists() {
        return Ok(Vec::new());
    }
    let text = crate::fs::read_text_capped(&file, crate::limits::MAX_TEXT)?;
    let mut entries = Vec::new();
    for (n, line) in text.lines().enumerate().map(|(n, l)| (n + 1, l.trim())) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match Url::parse(line) {
            Ok(u) if !u.username().is_empty() && u.password().is_some() => entries.push(u),
            _ => bail!("{} line {n} is damaged (expected scheme://user:password@host:port); fix or delete that line, then run `luaenv mirror set` again", file.display()),
        }
    }
    Ok(entries)
}

/// The stored password for a URL that names a user but no password.
pub fn password_for(root: &Path, url: &Url) -> Result<Option<String>> {
    if url.username().is_empty() || url.password().is_some() {
        return Ok(None);
    }
    Ok(load(root)?.into_iter().find(|e| same_origin(e, url)).and_then(|e| e.password().map(String::from)))
}

/// Keeps the password of `url` (replacing an older one for the same server and user).
pub fn store(ctx: &Context, url: &Url) -> Result<()> {
    let _lock = crate::lock::acquire(ctx, "mirror-auth")?;
    let mut entries = load(&ctx.root)?;
    entries.retain(|e| !same_origin(e, url));
    let mut origin = url.clone();
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    entries.push(origin);
    save(&ctx.root, &entries)
}

/// Forgets the password kept for the server and user of `url`; true when there was one.
pub fn forget(ctx: &Context, url: &Url) -> Result<bool> {
    let _lock = crate::lock::acquire(ctx, "mirror-auth")?;
    let mut entries = load(&ctx.root)?;
    let before = entries.len();
    entries.retain(|e| !same_origin(e, url));
    if entries.len() == before {
        return Ok(false);
    }
    save(&ctx.root, &entries)?;
    Ok(true)
}

fn save(root: &Path, entries: &[Url]) -> Result<()> {
    let file = path(root);
    let dir = file.parent().unwrap();
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let mut text = String::from("# written by luaenv (luaenv mirror set); mode 0600\n");
    for e in entries {
        text.push_str(&format!("{e}\n"));
    }
    // tempfile makes its files 0600 from the start: the secret is never readable by others.
    let mut tmp = tempfile::Builder::new().prefix(".mirror-auth-").tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    tmp.persist(&file).with_context(|| format!("cannot write {}", file.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_finds_by_server_and_user() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context { root: dir.path().to_path_buf(), cache: dir.path().join("c") };
        store(&ctx, &Url::parse("http://u:p%20w@h:81/m/").unwrap()).unwrap();
        let mode = std::fs::metadata(path(&ctx.root)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let find = |u: &str| password_for(&ctx.root, &Url::parse(u).unwrap()).unwrap();
        assert_eq!(find("http://u@h:81/m/lua.tar.gz").as_deref(), Some("p%20w"));
        assert_eq!(find("http://u@h:82/m/"), None);
        assert_eq!(find("http://v@h:81/m/"), None);
        assert_eq!(find("https://u@h:81/m/"), None);
        std::fs::write(path(&ctx.root), "garbage\n").unwrap();
        assert!(password_for(&ctx.root, &Url::parse("http://u@h:81/").unwrap()).unwrap_err().to_string().contains("damaged"));
    }
}
