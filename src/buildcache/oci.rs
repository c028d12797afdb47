//! A build cache in an OCI registry (`oci://host[:port]/repository`): each build is an image
//! manifest tagged with its build key, its config and layer are blobs, as in any registry
//! (GitHub's, GitLab's, Harbor, a CNCF `distribution` server), so `skopeo`/`oras` copy it.
//!
//! The protocol is `oci-client`'s (the ORAS project's client): token auth (`WWW-Authenticate:
//! Bearer`) and Basic auth, chunked or monolithic uploads, digests checked on download. It is
//! async, so a `Registry` carries a small current-thread tokio runtime and blocks on each call.
//! Always HTTPS; a private CA comes from `SSL_CERT_FILE`/`SSL_CERT_DIR`, as for downloads.

mod docker_config;
#[cfg(test)]
pub mod test_registry;

use std::path::Path;

use anyhow::{Context as _, Result, anyhow};
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use super::{MANIFEST_MEDIA_TYPE, Store};
use crate::context::Context;
use crate::error::usage;

/// One repository of one registry, with the credentials found for it.
pub struct Registry {
    /// `host[:port]`, as in the URL.
    host: String,
    repository: String,
    client: Client,
    auth: RegistryAuth,
    /// Where the credentials came from (a file or a helper), for messages; None when anonymous.
    credentials_source: Option<String>,
    runtime: tokio::runtime::Runtime,
}

impl Registry {
    /// Opens `oci://host[:port]/repository`, with the credentials Docker's config holds for
    /// it. Nothing is sent until the first call.
    pub fn open(_ctx: &Context, location: &str) -> Result<Registry> {
        let (host, repository) = parse_location(location)?;
        let credentials = docker_config::lookup(&host)?;
        Registry::connect(host, repository, credentials, extra_root_certificates())
    }

    fn connect(host: String, repository: String, credentials: Option<docker_config::Credentials>, roots: Vec<Certificate>) -> Result<Registry> {
        let (auth, credentials_source) = match credentials {
            Some(c) => (RegistryAuth::Basic(c.username, c.password), Some(c.source)),
            None => (RegistryAuth::Anonymous, None),
        };
        let config = ClientConfig {
            protocol: ClientProtocol::Https,
            extra_root_certificates: roots,
            // One request per blob (POST, then PUT with the bytes): fewer round trips than chunks.
            use_monolithic_push: true,
            read_timeout: Some(crate::limits::http_timeout()),
            connect_timeout: Some(crate::limits::connect_timeout()),
            user_agent: concat!("luaenv/", env!("CARGO_PKG_VERSION")),
            platform_resolver: None,
            ..ClientConfig::default()
        };
        let client = Client::try_from(config).map_err(|e| anyhow!("cannot set up a client for {host}: {e}"))?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the registry client")?;
        let registry = Registry { host, repository, client, auth, credentials_source, runtime };
        // The client uses these credentials for every request to this registry from now on.
        registry.runtime.block_on(registry.client.store_auth_if_needed(&registry.host, &registry.auth));
        Ok(registry)
    }

    /// The repository at `tag`. Blob requests use one too (the client wants a reference);
    /// only its registry and repository matter there.
    fn reference(&self, tag: &str) -> Reference {
        Reference::with_tag(self.host.clone(), self.repository.clone(), tag.to_string())
    }

    /// One line for a failed request: a refused password, a missing login, an untrusted
    /// certificate, or what the registry said (never a credential).
    fn explain(&self, doing: &str, err: OciDistributionError) -> anyhow::Error {
        let host = &self.host;
        match status_of(&err) {
            Some(401) => match &self.credentials_source {
                Some(source) => anyhow!(
                    "the registry {host} refused the credentials from {source} (401) while {doing}; run `docker login {host}` with the right user and password (luaenv reads $DOCKER_CONFIG/config.json, default ~/.docker/config.json)"
                ),
                None => anyhow!(
                    "the registry {host} asks for credentials (401) while {doing}, and {} has none for it; run `docker login {host}` (or set DOCKER_CONFIG to the folder of a config.json that has them)",
                    docker_config::config_path().display()
                ),
            },
            Some(403) => anyhow!("the registry {host} denied access (403) while {doing}; the account needs pull (and push) rights on {}", self.repository),
            _ if is_certificate_problem(&err) => anyhow!(
                "cannot reach the registry {host}: its TLS certificate is not trusted ({}); if it uses a private CA, point SSL_CERT_FILE (or SSL_CERT_DIR) at its certificates",
                root_cause(&err)
            ),
            _ => anyhow!("the registry {host} failed while {doing}: {}", root_cause(&err)),
        }
    }

    fn too_slow(&self, what: &str, deadline: std::time::Duration) -> anyhow::Error {
        anyhow!(
            "the registry {} took more than {} s to send {what}; given up (LUAENV_PULL_TIMEOUT moves the limit)",
            self.host,
            deadline.as_secs()
        )
    }
}

impl Store for Registry {
    fn describe(&self) -> String {
        format!("oci://{}/{}", self.host, self.repository)
    }

    fn manifest(&self, tag: &str) -> Result<Option<Vec<u8>>> {
        let reference = self.reference(tag);
        let deadline = crate::limits::pull_timeout();
        let pulled = self.runtime.block_on(async { tokio::time::timeout(deadline, self.client.pull_manifest_raw(&reference, &self.auth, &[MANIFEST_MEDIA_TYPE])).await });
        let pulled = pulled.map_err(|_| self.too_slow(&format!("the manifest {tag}"), deadline))?;
        match pulled {
            Ok((bytes, _digest)) => Ok(Some(bytes)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.explain(&format!("reading the manifest {tag}"), e)),
        }
    }

    fn blob(&self, digest: &str, dest: &Path) -> Result<()> {
        super::digest_hex(digest)?;
        let reference = self.reference("latest");
        let deadline = crate::limits::pull_timeout();
        let result = self.runtime.block_on(async {
            let pull = async {
                let file = tokio::fs::File::create(dest).await.map_err(OciDistributionError::IoError)?;
                let mut limited = LimitedWriter { inner: file, left: crate::limits::max_download() };
                self.client.pull_blob(&reference, digest, &mut limited).await?;
                tokio::io::AsyncWriteExt::shutdown(&mut limited.inner).await.map_err(OciDistributionError::IoError)
            };
            tokio::time::timeout(deadline, pull).await
        });
        if !matches!(result, Ok(Ok(()))) {
            // Bytes that failed a check (or came too slowly) are never left behind as the blob.
            let _ = std::fs::remove_file(dest);
        }
        let result = result.map_err(|_| self.too_slow(&format!("blob {digest}"), deadline))?;
        result.map_err(|e| match e {
            OciDistributionError::IoError(io) if io.kind() == std::io::ErrorKind::FileTooLarge => {
                anyhow!("the registry {} sent more than {} bytes for blob {digest}; refused (LUAENV_MAX_DOWNLOAD_BYTES moves the cap)", self.host, crate::limits::max_download())
            }
            OciDistributionError::IoError(io) => anyhow::Error::new(io).context(format!("cannot write {}", dest.display())),
            e => self.explain(&format!("downloading blob {digest}"), e),
        })
    }

    fn push_blob(&self, digest: &str, _media_type: &str, src: &Path) -> Result<()> {
        super::digest_hex(digest)?;
        let reference = self.reference("latest");
        if self.has_blob(&reference, digest)? {
            return Ok(());
        }
        let bytes = std::fs::read(src).with_context(|| format!("cannot read {}", src.display()))?;
        self.runtime.block_on(self.client.push_blob(&reference, &bytes, digest)).map_err(|e| self.explain(&format!("uploading blob {digest}"), e))?;
        Ok(())
    }

    fn push_manifest(&self, tag: &str, manifest: &[u8]) -> Result<()> {
        let reference = self.reference(tag);
        let content_type = reqwest::header::HeaderValue::from_static(MANIFEST_MEDIA_TYPE);
        self.runtime
            .block_on(self.client.push_manifest_raw(&reference, manifest.to_vec(), content_type))
            .map_err(|e| self.explain(&format!("uploading the manifest {tag}"), e))?;
        Ok(())
    }
}

impl Registry {
    /// Whether the registry holds a blob: a one-byte ranged read (the client has no HEAD call),
    /// so an upload of megabytes is skipped when another builder already sent them.
    fn has_blob(&self, reference: &Reference, digest: &str) -> Result<bool> {
        let answer = self.runtime.block_on(self.client.pull_blob_stream_partial(reference, digest, 0, Some(1)));
        match answer {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.explain(&format!("looking for blob {digest}"), e)),
        }
    }
}

/// Splits `oci://host[:port]/repository`, checking each part (exit 2 when it is malformed).
fn parse_location(location: &str) -> Result<(String, String)> {
    let wrong = |why: &str| usage(format!("{location} is not a registry cache: {why}; write oci://host[:port]/repository, e.g. oci://ghcr.io/acme/luaenv-builds"));
    let rest = location.strip_prefix("oci://").ok_or_else(|| wrong("it does not start with oci://"))?;
    let (host, repository) = rest.split_once('/').ok_or_else(|| wrong("it names no repository"))?;
    if host.contains('@') {
        return Err(usage(format!(
            "{} holds a user name or password; luaenv reads registry credentials from $DOCKER_CONFIG/config.json (run `docker login <host>`), never from the URL",
            location.split_once('@').map_or("", |(_, h)| h)
        )));
    }
    let host_ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !host_ok {
        return Err(wrong("the host is not a host name[:port]"));
    }
    let repository = repository.trim_end_matches('/');
    // The distribution spec's repository grammar: lowercase path components.
    let component_ok = |c: &str| {
        !c.is_empty() && c.starts_with(|ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit()) && c.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || matches!(ch, '.' | '_' | '-'))
    };
    if repository.is_empty() || repository.len() > 255 || !repository.split('/').all(component_ok) {
        return Err(wrong("the repository must be lowercase path components (a-z, 0-9, '.', '_', '-')"));
    }
    Ok((host.to_ascii_lowercase(), repository.to_string()))
}

/// The CA certificates of `SSL_CERT_FILE` and `SSL_CERT_DIR`, added to the client's roots so a
/// registry with a private CA works whichever way the TLS stack finds its native roots.
fn extra_root_certificates() -> Vec<Certificate> {
    let mut files = Vec::new();
    if let Some(file) = std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty()) {
        files.push(std::path::PathBuf::from(file));
    }
    if let Some(dirs) = std::env::var_os("SSL_CERT_DIR") {
        for dir in std::env::split_paths(&dirs) {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                files.extend(entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()));
            }
        }
    }
    files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).flat_map(|text| pem_certificates(&text)).collect()
}

/// Each `CERTIFICATE` block of a PEM bundle (the client reads one certificate per entry).
fn pem_certificates(text: &str) -> Vec<Certificate> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(len) = rest[start..].find(END) else { break };
        let block = &rest[start..start + len + END.len()];
        found.push(Certificate { encoding: CertificateEncoding::Pem, data: format!("{block}\n").into_bytes() });
        rest = &rest[start + len + END.len()..];
    }
    found
}

/// The HTTP status behind a client error, wherever the client put it.
fn status_of(err: &OciDistributionError) -> Option<u16> {
    match err {
        OciDistributionError::UnauthorizedError { .. } | OciDistributionError::AuthenticationFailure(_) => Some(401),
        OciDistributionError::ServerError { code, .. } => Some(*code),
        OciDistributionError::RequestError(e) => e.status().map(|s| s.as_u16()),
        OciDistributionError::RegistryError { envelope, .. } => envelope.errors.iter().find_map(|e| match e.code {
            OciErrorCode::Unauthorized => Some(401),
            OciErrorCode::Denied => Some(403),
            OciErrorCode::ManifestUnknown | OciErrorCode::BlobUnknown | OciErrorCode::NameUnknown | OciErrorCode::NotFound => Some(404),
            _ => None,
        }),
        OciDistributionError::ImageManifestNotFoundError(_) => Some(404),
        _ => None,
    }
}

fn is_not_found(err: &OciDistributionError) -> bool {
    status_of(err) == Some(404)
}

fn is_certificate_problem(err: &OciDistributionError) -> bool {
    let text = format!("{err:?}");
    text.contains("certificate") || text.contains("UnknownIssuer") || text.contains("InvalidCertificate")
}

/// The innermost cause of an error, which is the one that says what happened.
fn root_cause(err: &OciDistributionError) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Writes at most `left` bytes, then fails: a registry is a stranger and may send forever.
struct LimitedWriter {
    inner: tokio::fs::File,
    left: u64,
}

impl tokio::io::AsyncWrite for LimitedWriter {
    fn poll_write(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>, buf: &[u8]) -> std::task::Poll<std::io::Result<usize>> {
        if buf.len() as u64 > self.left {
            return std::task::Poll::Ready(Err(std::io::Error::new(std::io::ErrorKind::FileTooLarge, "blob too large")));
        }
        let this = &mut *self;
        let written = std::pin::Pin::new(&mut this.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &written {
            this.left -= *n as u64;
        }
        written
    }

    fn poll_flush(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_into_host_and_repository() {
        assert_eq!(parse_location("oci://127.0.0.1:5000/luaenv/builds").unwrap(), ("127.0.0.1:5000".into(), "luaenv/builds".into()));
        assert_eq!(parse_location("oci://ghcr.io/acme/lua/").unwrap(), ("ghcr.io".into(), "acme/lua".into()));
        for bad in ["oci://host", "oci:///repo", "oci://host/Upper", "oci://host/a//b", "oci://u:p@host/repo", "https://host/repo", "oci://ho st/repo"] {
            let err = parse_location(bad).unwrap_err();
            assert_eq!(crate::error::exit_code(&err), 2, "{bad}");
        }
        let secret = parse_location("oci://user:hunter2@host/repo").unwrap_err();
        assert!(!format!("{secret:#}").contains("hunter2"));
    }

    #[test]
    fn a_pem_bundle_gives_each_certificate() {
        let one = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let bundle = format!("# a comment\n{one}junk\n{one}");
        assert_eq!(pem_certificates(&bundle).len(), 2);
        assert!(pem_certificates("no certificates").is_empty());
    }

    fn connect_to(registry: &test_registry::TestRegistry, password: &str) -> Registry {
        let ca = std::fs::read_to_string(&registry.ca).unwrap();
        let credentials = docker_config::Credentials { username: "ci".into(), password: password.into(), source: "the test's config.json".into() };
        Registry::connect(registry.host(), "luaenv/builds".into(), Some(credentials), pem_certificates(&ca)).unwrap()
    }

    /// The Store contract against a real registry (TLS with a private CA, htpasswd auth).
    #[test]
    fn blobs_and_manifests_round_trip_through_a_real_registry() {
        if !test_registry::available("blobs_and_manifests_round_trip_through_a_real_registry") {
            return;
        }
        let registry = test_registry::TestRegistry::start("ci", "s3cret");
        let store = connect_to(&registry, "s3cret");
        assert_eq!(store.describe(), registry.url("luaenv/builds"));
        assert_eq!(store.manifest("5.4.7-0123").unwrap(), None);

        let work = tempfile::tempdir().unwrap();
        let layer = work.path().join("layer");
        std::fs::write(&layer, b"a layer's bytes").unwrap();
        let config = work.path().join("config");
        std::fs::write(&config, b"{}").unwrap();
        let layer_digest = super::super::digest_of(b"a layer's bytes");
        let config_digest = super::super::digest_of(b"{}");
        store.push_blob(&layer_digest, super::super::LAYER_MEDIA_TYPE, &layer).unwrap();
        assert!(registry.blob_file(&layer_digest).is_file());
        // A second push of the same blob finds it there and sends nothing.
        store.push_blob(&layer_digest, super::super::LAYER_MEDIA_TYPE, &layer).unwrap();
        store.push_blob(&config_digest, super::super::CONFIG_MEDIA_TYPE, &config).unwrap();
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{MANIFEST_MEDIA_TYPE}","config":{{"mediaType":"{}","digest":"{config_digest}","size":2}},"layers":[{{"mediaType":"{}","digest":"{layer_digest}","size":15}}]}}"#,
            super::super::CONFIG_MEDIA_TYPE,
            super::super::LAYER_MEDIA_TYPE
        );
        store.push_manifest("5.4.7-0123", manifest.as_bytes()).unwrap();
        assert_eq!(store.manifest("5.4.7-0123").unwrap().as_deref(), Some(manifest.as_bytes()));

        let back = work.path().join("back");
        store.blob(&layer_digest, &back).unwrap();
        assert_eq!(std::fs::read(&back).unwrap(), b"a layer's bytes");

        // Bytes changed in the registry's storage are refused, never written as the blob.
        std::fs::write(registry.blob_file(&layer_digest), b"A LAYER'S BYTES").unwrap();
        let changed = store.blob(&layer_digest, &work.path().join("changed")).unwrap_err();
        assert!(format!("{changed:#}").contains("failed while downloading blob"), "{changed:#}");
        assert!(!work.path().join("changed").exists());

        // Without the test's CA the registry's certificate is not trusted: one line saying how.
        let untrusted = Registry::connect(registry.host(), "luaenv/builds".into(), None, Vec::new()).unwrap().manifest("5.4.7-0123").unwrap_err();
        let message = format!("{untrusted:#}");
        assert!(message.contains("TLS certificate is not trusted") && message.contains("SSL_CERT_FILE"), "{message}");

        let refused = connect_to(&registry, "wrong").manifest("5.4.7-0123").unwrap_err();
        let message = format!("{refused:#}");
        assert!(message.starts_with(&format!("the registry {} refused the credentials from the test's config.json (401)", registry.host())), "{message}");
        assert!(!message.contains("wrong"), "{message}");
    }

    /// Token auth, as Docker Hub, GHCR or Harbor do it: the registry answers with a Bearer
    /// challenge and the client trades the config's credentials for a token.
    #[test]
    fn token_auth_gets_a_bearer_token_with_the_credentials() {
        if !test_registry::available("token_auth_gets_a_bearer_token_with_the_credentials") {
            return;
        }
        let registry = test_registry::TestRegistry::start_with_token_auth("ci", "s3cret");
        let store = connect_to(&registry, "s3cret");
        assert_eq!(store.manifest("none").unwrap(), None);
        let work = tempfile::tempdir().unwrap();
        let blob = work.path().join("blob");
        std::fs::write(&blob, b"{}").unwrap();
        let digest = super::super::digest_of(b"{}");
        store.push_blob(&digest, super::super::CONFIG_MEDIA_TYPE, &blob).unwrap();
        store.blob(&digest, &work.path().join("back")).unwrap();
        assert_eq!(std::fs::read(work.path().join("back")).unwrap(), b"{}");
        assert!(registry.tokens_issued() >= 2, "a pull token and a push token");

        let refused = connect_to(&registry, "wrong").blob(&digest, &work.path().join("refused")).unwrap_err();
        let message = format!("{refused:#}");
        assert!(message.starts_with(&format!("the registry {} refused the credentials from the test's config.json (401)", registry.host())), "{message}");
    }
}
