//! Fetch: get a source file into the content-addressed download cache, hashing while streaming.
//! Every location is parsed as a URL (`url::Url`); a password in one is sent as Basic auth and
//! shown nowhere.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};
use url::Url;

use crate::context::Context;
use crate::error::usage;
use crate::limits;
use crate::install::verify::{self, Expected};

/// Where one file comes from: an `http(s)://` URL (kept as the URL's own serialization, password
/// included, for the request only) or a local path (`file://` URLs become paths).
#[derive(Debug, Clone)]
pub enum Location {
    Url(String),
    Path(PathBuf),
}

impl Location {
    /// A location from a trusted place (a catalogue, a receipt); anything that is not a valid
    /// http(s) or file URL is taken as a path. User input goes through [`Location::from_arg`].
    pub fn parse(s: &str) -> Location {
        Location::from_arg(s, "location").unwrap_or_else(|_| Location::Path(PathBuf::from(s)))
    }

    /// A location a user typed (`--from`, `--mirror`, a lock file): a clear usage error for an
    /// empty value, an unknown scheme, a URL that does not parse (its password masked) or a
    /// `file://` URL without a path. A relative path is made absolute.
    pub fn from_arg(s: &str, what: &str) -> Result<Location> {
        if s.trim().is_empty() {
            return Err(usage(format!("{what} is empty: give a file, a folder or an http(s):// or file:// URL")));
        }
        if !s.contains("://") {
            return Ok(Location::Path(absolute(Path::new(s))));
        }
        let url = Url::parse(s).map_err(|e| usage(format!("{what} '{}' is not a valid URL: {e}", mask_unparsed(s))))?;
        match url.scheme() {
            "http" | "https" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(Location::Url(url.to_string())),
            "file" => {
                let rest = &s[s.find("://").unwrap() + 3..];
                let path = url.to_file_path().ok().filter(|_| !rest.is_empty() && rest != "localhost");
                path.map(Location::Path).ok_or_else(|| {
                    usage(format!("{what} '{s}' names no local path: write file:///absolute/path (or file://localhost/absolute/path)"))
                })
            }
            scheme => Err(usage(format!(
                "{what} '{}' is not a mirror URL nor a source luaenv fetches: {scheme}:// is not supported; give an http://, https:// or file:// URL, or a path",
                shown(&url)
            ))),
        }
    }

    /// A file inside a mirror (a flat folder behind a URL, a `file://` URL or a path).
    /// The name becomes one URL path segment (percent-encoded); a query string stays.
    pub fn in_mirror(mirror: &str, file_name: &str) -> Location {
        match Location::parse(mirror) {
            Location::Url(base) => {
                let mut url = Url::parse(&base).expect("a parsed URL");
                if let Ok(mut segments) = url.path_segments_mut() {
                    segments.pop_if_empty().push(file_name);
                }
                Location::Url(url.to_string())
            }
            Location::Path(dir) => Location::Path(dir.join(file_name)),
        }
    }

    /// The location as shown to people and written in receipts: never a password.
    pub fn display(&self) -> String {
        match self {
            Location::Url(u) => Url::parse(u).map(|u| shown(&u)).unwrap_or_else(|_| mask_unparsed(u)),
            Location::Path(p) => p.display().to_string(),
        }
    }

    /// The file name: a URL's last path segment (decoded), a path's last component.
    pub fn file_name(&self) -> String {
        match self {
            Location::Url(u) => Url::parse(u)
                .ok()
                .and_then(|u| u.path_segments().and_then(|s| s.rev().find(|s| !s.is_empty()).map(decode)))
                .unwrap_or_default(),
            Location::Path(p) => p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// A URL as people may see it: without its password (the user name stays, it says which account).
pub fn shown(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_password(None);
    url.to_string()
}

/// A string that did not parse as a URL, with anything that could be a password masked:
/// `http://alice:***@host:99999/`.
pub fn mask_unparsed(s: &str) -> String {
    let Some(start) = s.find("://").map(|i| i + 3) else { return s.to_string() };
    let authority_end = s[start..].find(['/', '?', '#']).map_or(s.len(), |i| start + i);
    match s[start..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &s[start..start + at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:{}{}", &s[..start], crate::credentials::MASK, &s[start + at..])
        }
        None => s.to_string(),
    }
}

/// A verified file on disk.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub path: PathBuf,
    pub sha256: String,
    /// Where it came from, as shown (no password).
    pub location: String,
}

/// Where a file with a known sum lives in the cache.
pub fn cached_path(ctx: &Context, sha256: &str, file_name: &str) -> PathBuf {
    ctx.downloads_dir().join(sha256).join(file_name)
}

/// Fetches `file_name` from `location` and checks it against `expected`.
/// A cached file with the expected sum is used without any request.
pub fn fetch(ctx: &Context, location: &Location, file_name: &str, expected: &Expected) -> Result<Fetched> {
    if let Some(sum) = expected.sum() {
        let cached = cached_path(ctx, sum, file_name);
        if cached.is_file() && verify::sha256_file(&cached)? == sum {
            return Ok(Fetched { path: cached, sha256: sum.to_string(), location: location.display() });
        }
    }
    match location {
        // A local file is read where it is; it is never moved or deleted, even when it is wrong.
        Location::Path(path) => {
            match std::fs::metadata(path) {
                Err(_) => bail!("{} does not exist: check the mirror folder, or the path given to --from or --rocks-from", path.display()),
                // Opening a FIFO would block for ever; a device has no end.
                Ok(m) if !m.is_file() => bail!("{} is not a regular file: give a tarball or a source folder", path.display()),
                Ok(_) => {}
            }
            let sha256 = verify::sha256_file(path)?;
            check(&location.display(), expected, &sha256)?;
            Ok(Fetched { path: path.clone(), sha256, location: location.display() })
        }
        Location::Url(url) => download(ctx, url, file_name, expected),
    }
}

fn check(url: &str, expected: &Expected, actual: &str) -> Result<()> {
    match expected.sum() {
        Some(sum) if sum != actual => Err(verify::mismatch(url, expected, actual)),
        _ => Ok(()),
    }
}

fn download(ctx: &Context, url: &str, file_name: &str, expected: &Expected) -> Result<Fetched> {
    let shown = Location::Url(url.to_string()).display();
    let dir = ctx.downloads_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let cap = limits::max_download();
    let mut response = get(&ctx.root, url)?;
    let total = response.content_length();
    if total.is_some_and(|t| t > cap) {
        bail!("{shown} is {} long, more than the {} a source may be; check the mirror (or raise LUAENV_MAX_DOWNLOAD_BYTES)", limits::show_bytes(total.unwrap()), limits::show_bytes(cap));
    }
    // A uniquely named partial file: two installs at once never write the same one; any
    // error below drops it, which deletes it.
    let mut partial = tempfile::Builder::new().prefix(&crate::install::cleanup::tagged(".partial-")).tempfile_in(&dir)?;
    let _registered = crate::install::cleanup::register(partial.path());
    let progress = progress_bar(&shown, total);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut received: u64 = 0;
    loop {
        let n = response.read(&mut buf).map_err(|e| {
            if is_timeout(&e) {
                anyhow::anyhow!("download of {shown} stalled: no data for {} s; try again, or check the mirror (LUAENV_HTTP_TIMEOUT sets the wait)", limits::http_timeout().as_secs())
            } else {
                anyhow::anyhow!("download of {shown} broke off: {}; try again", root_cause(&e))
            }
        })?;
        if n == 0 {
            break;
        }
        received += n as u64;
        if received > cap {
            bail!("download of {shown} stopped at {}: no source is that large; check the mirror (or raise LUAENV_MAX_DOWNLOAD_BYTES)", limits::show_bytes(cap));
        }
        hasher.update(&buf[..n]);
        partial.write_all(&buf[..n]).with_context(|| format!("cannot write the download to {}", dir.display()))?;
        progress.inc(n as u64);
    }
    progress.finish_and_clear();
    let sha256 = verify::hex(&hasher.finalize());
    check(&shown, expected, &sha256)?;
    let target = cached_path(ctx, &sha256, file_name);
    std::fs::create_dir_all(target.parent().unwrap())?;
    partial.persist(&target).with_context(|| format!("cannot write {}", target.display()))?;
    Ok(Fetched { path: target, sha256, location: shown })
}

/// Reads a small text file (a mirror's SHA256SUMS) from a URL or path, at most 1 MiB;
/// `None` when it is not there.
pub fn read_text(location: &Location) -> Result<Option<String>> {
    let cap = limits::MAX_TEXT;
    let bytes = match location {
        Location::Path(p) if !p.exists() => return Ok(None),
        Location::Path(p) => crate::fs::read_capped(p, cap)?,
        Location::Url(url) => match get(&crate::context::root_dir(), url) {
            Ok(r) => {
                let mut bytes = Vec::new();
                r.take(cap + 1).read_to_end(&mut bytes).map_err(|e| anyhow::anyhow!("cannot read {}: {}", location.display(), root_cause(&e)))?;
                if bytes.len() as u64 > cap {
                    bail!("{} is larger than {}: not a list of sums; check the mirror", location.display(), limits::show_bytes(cap));
                }
                bytes
            }
            Err(e) if e.downcast_ref::<NotFound>().is_some() => return Ok(None),
            Err(e) => return Err(e),
        },
    };
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Offline mode (`--offline`, `LUAENV_OFFLINE=1`): set once per process by the command that
/// fetches, with the one mirror that may still be reached (`None`: no server at all; a mirror
/// folder needs no network). Checked in [`get`], the one place luaenv makes a request, so
/// series resolution, Lua, LuaRocks and rock downloads all obey it.
static OFFLINE: OnceLock<Option<String>> = OnceLock::new();

/// Whether the user asked for offline mode: the flag, or `LUAENV_OFFLINE=1`.
pub fn offline_requested(flag: bool) -> bool {
    flag || matches!(std::env::var("LUAENV_OFFLINE").as_deref(), Ok("1" | "true" | "yes"))
}

/// Goes offline for the rest of the process: only `mirror` (and local files and the caches)
/// may be read from now on.
pub fn go_offline(mirror: Option<&str>) {
    let _ = OFFLINE.set(mirror.map(String::from));
}

/// Whether this process is offline: a command went offline, or `LUAENV_OFFLINE=1`. Work that
/// would reach a server by other means (LuaRocks resolving rocks) checks it first.
pub fn is_offline() -> bool {
    OFFLINE.get().is_some() || offline_requested(false)
}

/// In offline mode, a request to anything but the mirror is refused before any connection:
/// one line saying what was wanted, that luaenv is offline, and what to do.
fn check_offline(url: &Url) -> Result<()> {
    let allowed = match OFFLINE.get() {
        Some(mirror) => mirror.clone(),
        // A command that did not set it up still obeys the variable: its mirror from the
        // environment, else no server.
        None if offline_requested(false) => std::env::var("LUAENV_MIRROR").ok().filter(|m| !m.is_empty()),
        None => return Ok(()),
    };
    if allowed.as_deref().is_some_and(|mirror| is_under(url, mirror)) {
        return Ok(());
    }
    let file = url.path_segments().and_then(|mut s| s.next_back().map(decode)).unwrap_or_default();
    let shown_mirror = allowed.map(|m| format!(" and the mirror {} does not hold it", Location::parse(&m).display())).unwrap_or_default();
    Err(usage(format!(
        "luaenv is offline (--offline or LUAENV_OFFLINE=1), so it does not download {file} from {}: it is not in the caches{shown_mirror}; give a mirror or offline kit that holds it with `--mirror <kit>` (`luaenv bundle <kit>` writes one where there is a network)",
        shown(url)
    )))
}

/// Whether `url` is a file of the http(s) mirror `mirror`: same scheme, host and port, and
/// under its path.
fn is_under(url: &Url, mirror: &str) -> bool {
    let Location::Url(base) = Location::parse(mirror) else { return false };
    let Ok(base) = Url::parse(&base) else { return false };
    let folder = base.path().trim_end_matches('/');
    url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default()
        && url.path().strip_prefix(folder).is_some_and(|rest| rest.starts_with('/'))
}

/// The server answered 404: no point in retrying.
#[derive(Debug, thiserror::Error)]
#[error("{0} answered 404 Not Found: the server does not have that file; check the mirror or server (`luaenv install` can also take a local file with --from)")]
pub struct NotFound(String);

const TRIES: u32 = 3;

/// GET with a few retries and backoff for connection failures, silence and server errors.
/// Credentials in the URL (or stored for it by `luaenv mirror set`) go in a Basic auth header,
/// never in the URL reqwest sees, so no error message can carry them.
pub(crate) fn get(root: &Path, url: &str) -> Result<reqwest::blocking::Response> {
    let mut bare = Url::parse(url).with_context(|| format!("'{}' is not a valid URL", mask_unparsed(url)))?;
    check_offline(&bare)?;
    let shown = shown(&bare);
    let user = decode(bare.username());
    let password = match bare.password() {
        Some(p) => Some(p.to_string()),
        None => crate::credentials::mirror::password_for(root, &bare)?,
    }
    .map(|p| decode(&p));
    let _ = bare.set_username("");
    let _ = bare.set_password(None);
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(limits::connect_timeout())
        // In the blocking client this bounds the wait for the answer and for each read of the body.
        .timeout(limits::http_timeout())
        .user_agent(concat!("luaenv/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let mut last = String::new();
    for attempt in 0..TRIES {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(250 << attempt));
        }
        let mut request = client.get(bare.clone());
        if !user.is_empty() {
            request = request.basic_auth(&user, password.as_ref());
        }
        match request.send() {
            Ok(r) if r.status().is_success() => return Ok(r),
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => return Err(NotFound(shown).into()),
            Ok(r) if r.status().is_server_error() => last = format!("the server answered {}", r.status()),
            Ok(r) => bail!("{shown} answered {}; check the URL and any credentials", r.status()),
            Err(e) if is_certificate_problem(&e) => bail!(
                "cannot download {shown}: the server's TLS certificate is not trusted ({}); if the mirror uses a private CA, point SSL_CERT_FILE (or SSL_CERT_DIR) at its certificates",
                root_cause(&e)
            ),
            Err(e) if e.is_timeout() => last = format!("no answer within {} s", limits::http_timeout().as_secs()),
            Err(e) => last = root_cause(&e),
        }
    }
    bail!("cannot download {shown}: {last} (tried {TRIES} times); check the mirror URL, your network or proxy settings (LUAENV_HTTP_TIMEOUT sets the wait)")
}

fn is_certificate_problem(e: &reqwest::Error) -> bool {
    let text = format!("{:?}", e);
    text.contains("certificate") || text.contains("UnknownIssuer") || text.contains("InvalidCertificate")
}

fn is_timeout(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref().and_then(|inner| inner.downcast_ref::<reqwest::Error>()).is_some_and(|r| r.is_timeout())
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn progress_bar(shown: &str, total: Option<u64>) -> indicatif::ProgressBar {
    if crate::install::progress::quiet() {
        return indicatif::ProgressBar::hidden();
    }
    if !std::io::stderr().is_terminal() {
        eprintln!("downloading {shown}");
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total.unwrap_or(0));
    let style = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
        .unwrap()
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(shown.rsplit('/').next().unwrap_or(shown).to_string());
    crate::install::progress::attach(bar)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::exit_code;

    #[test]
    fn file_urls_become_paths() {
        let p = |s: &str| match Location::from_arg(s, "--from").unwrap() {
            Location::Path(p) => p,
            other => panic!("{other:?}"),
        };
        assert_eq!(p("file:///tmp/a%20b/lua-5.4.7.tar.gz"), PathBuf::from("/tmp/a b/lua-5.4.7.tar.gz"));
        assert_eq!(p("file://localhost/tmp/m"), PathBuf::from("/tmp/m"));
        assert!(p("some/rel").is_absolute());
    }

    #[test]
    fn bad_locations_are_usage_errors() {
        for bad in ["", "file://", "file://localhost", "ftp://x", "http://alice:S3cret@127.0.0.1:99999/"] {
            let err = Location::from_arg(bad, "--mirror").unwrap_err();
            assert_eq!(exit_code(&err), 2, "{bad}");
            assert!(!err.to_string().contains("S3cret"), "{err}");
        }
        let err = Location::from_arg("http://alice:S3cret@127.0.0.1:99999/", "--mirror").unwrap_err().to_string();
        assert!(err.contains("invalid port"), "{err}");
    }

    #[test]
    fn mirror_files_are_url_segments() {
        let l = Location::in_mirror("http://u:pw@h:8/m?token=t", "lua-5.4.7.tar.gz");
        assert_eq!(l.display(), "http://u@h:8/m/lua-5.4.7.tar.gz?token=t");
        assert_eq!(l.file_name(), "lua-5.4.7.tar.gz");
        let l = Location::in_mirror("http://h/m/", "a b.tar.gz");
        assert_eq!(l.display(), "http://h/m/a%20b.tar.gz");
        assert_eq!(l.file_name(), "a b.tar.gz");
        assert!(matches!(Location::in_mirror("file:///tmp/my%20mirror", "x"), Location::Path(p) if p == Path::new("/tmp/my mirror/x")));
        assert_eq!(mask_unparsed("http://alice:S3cret@h:99999/x"), "http://alice:***@h:99999/x");
    }

    #[test]
    fn offline_reaches_the_mirror_only() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(is_under(&url("http://127.0.0.1:8080/kit/lua-5.4.7.tar.gz"), "http://u:pw@127.0.0.1:8080/kit/"));
        assert!(is_under(&url("https://m.example/SHA256SUMS"), "https://m.example"));
        for other in ["http://127.0.0.1:8081/kit/x", "http://127.0.0.1:8080/kitx/x", "https://127.0.0.1:8080/kit/x", "https://www.lua.org/ftp/lua-5.4.7.tar.gz"] {
            assert!(!is_under(&url(other), "http://127.0.0.1:8080/kit"), "{other}");
        }
        assert!(!is_under(&url("http://h/x"), "/srv/kit"), "a folder mirror needs no server");
    }
}
