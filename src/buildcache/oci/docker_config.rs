//! Registry credentials from where every registry client keeps them: Docker's `config.json`
//! (`$DOCKER_CONFIG/config.json`, default `~/.docker/config.json`), as `docker login`, podman,
//! skopeo, oras and crane write it. Per registry, in Docker's order: a credential helper named
//! in `credHelpers`, then the `credsStore` helper, then `auths` (base64 `auth` or
//! `username`/`password`). Secrets are held in memory only and never printed.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, anyhow};
use base64::Engine as _;
use serde::Deserialize;

/// A user name and password (or token) for one registry, and where they came from.
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// For messages: the config file or the helper program (never the secret).
    pub source: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials {{ username: {:?}, password: ***, source: {:?} }}", self.username, self.source)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// What `docker-credential-<helper> get` prints.
#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn config_path() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("config.json"),
        _ => dirs::home_dir().unwrap_or_default().join(".docker").join("config.json"),
    }
}

/// The credentials for `host` (`name[:port]`), or None (anonymous access) when none are set.
pub fn lookup(host: &str) -> Result<Option<Credentials>> {
    let path = config_path();
    let text = match std::fs::read(&path) {
        Ok(bytes) if bytes.len() as u64 > crate::limits::MAX_TEXT => {
            return Err(anyhow!("{} is larger than {} bytes; it is not a Docker config file", path.display(), crate::limits::MAX_TEXT));
        }
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot read the registry credentials in {}", path.display()))),
    };
    // serde's messages quote no values, so a malformed file never shows a secret.
    let config: ConfigFile = serde_json::from_slice(&text).with_context(|| format!("{} is not valid Docker config JSON; fix it or run `docker login {host}` again", path.display()))?;
    let shown = path.display().to_string();
    if let Some(helper) = config.cred_helpers.get(host) {
        return run_helper(helper, host);
    }
    if let Some(helper) = config.creds_store.as_deref().filter(|h| !h.is_empty())
        && let Some(found) = run_helper(helper, host)?
    {
        return Ok(Some(found));
    }
    let Some(entry) = config.auths.iter().find(|(key, _)| same_registry(key, host)).map(|(_, e)| e) else {
        return Ok(None);
    };
    from_entry(entry, &shown, host)
}

/// An `auths` key names `host` when, without its scheme and path, it is `host` (`docker login`
/// writes `host:port`; older clients wrote `https://host/v1/`).
fn same_registry(key: &str, host: &str) -> bool {
    let bare = key.split_once("://").map_or(key, |(_, rest)| rest);
    let bare = bare.split('/').next().unwrap_or_default();
    bare.eq_ignore_ascii_case(host)
}

fn from_entry(entry: &AuthEntry, source: &str, host: &str) -> Result<Option<Credentials>> {
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| anyhow!("the `auth` of {host} in {source} is not base64 of `user:password`; run `docker login {host}` again"))?;
        let (username, password) = decoded.split_once(':').ok_or_else(|| anyhow!("the `auth` of {host} in {source} holds no `user:password`; run `docker login {host}` again"))?;
        return Ok(Some(Credentials { username: username.to_string(), password: password.to_string(), source: source.to_string() }));
    }
    match (&entry.username, &entry.password) {
        (Some(username), Some(password)) => Ok(Some(Credentials { username: username.clone(), password: password.clone(), source: source.to_string() })),
        _ => Ok(None),
    }
}

/// Asks `docker-credential-<helper> get` (the protocol of docker-credential-helpers: the
/// server on stdin, JSON on stdout). None when the helper has nothing for this registry.
fn run_helper(helper: &str, host: &str) -> Result<Option<Credentials>> {
    // The name becomes part of a program name looked up on PATH: never a path.
    if helper.is_empty() || !helper.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) || helper.starts_with('.') {
        return Err(anyhow!("the credential helper name '{}' in {} is not a plain name; fix that file", helper.escape_debug(), config_path().display()));
    }
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {program}, the credential helper {} names for {host}; install it or fix that file", config_path().display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin is not an error here: its answer tells.
        let _ = stdin.write_all(host.as_bytes());
    }
    let output = child.wait_with_output().with_context(|| format!("cannot run {program}"))?;
    if !output.status.success() {
        // "credentials not found in native keychain": nothing stored for this registry.
        let said = String::from_utf8_lossy(&output.stdout);
        if said.to_ascii_lowercase().contains("credentials not found") {
            return Ok(None);
        }
        return Err(anyhow!("{program} get failed for {host} ({}); check that helper with `{program} list`", output.status));
    }
    // Its answer holds the secret: report only that it was not understood.
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout).map_err(|_| anyhow!("{program} get answered something that is not credentials JSON for {host}"))?;
    Ok(Some(Credentials { username: answer.username, password: answer.secret, source: program }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auths_keys_match_with_or_without_scheme_and_path() {
        assert!(same_registry("127.0.0.1:5000", "127.0.0.1:5000"));
        assert!(same_registry("https://registry.example.org/v1/", "registry.example.org"));
        assert!(!same_registry("registry.example.org:5000", "registry.example.org"));
        assert!(!same_registry("evil.example.org", "registry.example.org"));
    }

    #[test]
    fn an_auth_entry_decodes_base64_user_and_password() {
        let entry = AuthEntry { auth: Some(base64::engine::general_purpose::STANDARD.encode("ci:s3cr:et")), ..Default::default() };
        let found = from_entry(&entry, "config.json", "h").unwrap().unwrap();
        assert_eq!((found.username.as_str(), found.password.as_str()), ("ci", "s3cr:et"));
        assert!(!format!("{found:?}").contains("s3cr"));
        let bad = AuthEntry { auth: Some("%%%".into()), ..Default::default() };
        assert!(from_entry(&bad, "config.json", "h").is_err());
    }
}
