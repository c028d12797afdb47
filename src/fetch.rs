//! Fetch: get a source file into the content-addressed download cache, hashing while streaming.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use sha2::{Digest, Sha256};

use crate::context::Context;
use crate::verify::{self, Expected};

/// Where one file comes from.
#[derive(Debug, Clone)]
pub enum Location {
    Url(String),
    Path(PathBuf),
}

impl Location {
    /// `http(s)://…` and `file://…` URLs, or a plain path.
    pub fn parse(s: &str) -> Location {
        if let Some(path) = s.strip_prefix("file://") {
            Location::Path(PathBuf::from(path))
        } else if s.starts_with("http://") || s.starts_with("https://") {
            Location::Url(s.to_string())
        } else {
            Location::Path(PathBuf::from(s))
        }
    }

    /// A file inside a mirror (a flat folder behind a URL, a `file://` URL or a path).
    pub fn in_mirror(mirror: &str, file_name: &str) -> Location {
        match Location::parse(mirror) {
            Location::Url(base) => Location::Url(format!("{}/{file_name}", base.trim_end_matches('/'))),
            Location::Path(dir) => Location::Path(dir.join(file_name)),
        }
    }

    pub fn display(&self) -> String {
        match self {
            Location::Url(u) => u.clone(),
            Location::Path(p) => p.display().to_string(),
        }
    }
}

/// A verified file on disk.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub path: PathBuf,
    pub sha256: String,
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
            if !path.is_file() {
                bail!("{} does not exist: the mirror folder has no {file_name}; check the mirror path or use --from", path.display());
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
    let dir = ctx.downloads_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // A uniquely named partial file: two installs at once never write the same one.
    let mut partial = tempfile::Builder::new().prefix(&crate::install::cleanup::tagged(".partial-")).tempfile_in(&dir)?;
    let _registered = crate::install::cleanup::register(partial.path());
    let mut response = get(url)?;
    let total = response.content_length();
    let progress = progress_bar(url, total);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = response.read(&mut buf).map_err(|e| {
            anyhow::anyhow!("download of {url} broke off: {}; try again", root_cause(&e))
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        partial.write_all(&buf[..n])?;
        progress.inc(n as u64);
    }
    progress.finish_and_clear();
    let sha256 = verify::hex(&hasher.finalize());
    // On a mismatch `partial` is dropped here, which deletes the bad file.
    check(url, expected, &sha256)?;
    let target = cached_path(ctx, &sha256, file_name);
    std::fs::create_dir_all(target.parent().unwrap())?;
    partial.persist(&target).with_context(|| format!("cannot write {}", target.display()))?;
    Ok(Fetched { path: target, sha256, location: url.to_string() })
}

/// Reads a small text file (a mirror's SHA256SUMS) from a URL or path; `None` when it is not there.
pub fn read_text(location: &Location) -> Result<Option<String>> {
    match location {
        Location::Path(p) => Ok(std::fs::read_to_string(p).ok()),
        Location::Url(url) => match get(url) {
            Ok(mut r) => {
                let mut text = String::new();
                r.read_to_string(&mut text)?;
                Ok(Some(text))
            }
            Err(e) if e.downcast_ref::<NotFound>().is_some() => Ok(None),
            Err(e) => Err(e),
        },
    }
}

/// The server answered 404: no point in retrying.
#[derive(Debug, thiserror::Error)]
#[error("{0} answered 404 Not Found: the server does not have that file; check the mirror or use --from")]
pub struct NotFound(String);

const TRIES: u32 = 3;

/// GET with a few retries and backoff for connection failures and server errors.
fn get(url: &str) -> Result<reqwest::blocking::Response> {
    let client = reqwest::blocking::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(600))
        .user_agent(concat!("luaenv/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let mut last = String::new();
    for attempt in 0..TRIES {
        if attempt > 0 {
            std::thread::sleep(Duration::from_millis(250 << attempt));
        }
        match client.get(url).send() {
            Ok(r) if r.status().is_success() => return Ok(r),
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => return Err(NotFound(url.to_string()).into()),
            Ok(r) if r.status().is_server_error() => last = format!("the server answered {}", r.status()),
            Ok(r) => bail!("{url} answered {}; check the URL and any credentials", r.status()),
            Err(e) => last = root_cause(&e),
        }
    }
    bail!("cannot download {url}: {last} (tried {TRIES} times); check the mirror URL, your network or proxy settings")
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn progress_bar(url: &str, total: Option<u64>) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        eprintln!("downloading {url}");
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total.unwrap_or(0));
    let style = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
        .unwrap()
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(url.rsplit('/').next().unwrap_or(url).to_string());
    bar
}
