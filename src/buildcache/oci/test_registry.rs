//! A real OCI registry for tests: Debian's `docker-registry` (CNCF distribution) on a free
//! loopback port, with TLS (a CA and a server certificate made with `openssl`) and htpasswd
//! auth (`htpasswd -Bbn`), its storage in a temporary folder; stopped when dropped.
//! Shared by the unit tests of `oci` and the integration tests (tests/it/registry.rs).

#![allow(dead_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestRegistry {
    pub dir: tempfile::TempDir,
    pub port: u16,
    /// The CA certificate to give clients (SSL_CERT_FILE).
    pub ca: PathBuf,
    /// The registry's storage root (blobs under docker/registry/v2/blobs/sha256/).
    pub storage: PathBuf,
    child: Child,
    /// With token auth: the token service the registry sends clients to.
    token_service: Option<TokenService>,
}

/// Whether the tools exist; without them a test skips (one line) unless fixtures are required.
pub fn available(test: &str) -> bool {
    let missing: Vec<&str> = ["docker-registry", "openssl", "htpasswd"]
        .into_iter()
        .filter(|tool| Command::new("sh").arg("-c").arg(format!("command -v {tool}")).stdout(Stdio::null()).status().map_or(true, |s| !s.success()))
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("LUAENV_REQUIRE_FIXTURES").is_some_and(|v| v == "1") {
        panic!("{test}: {} missing (apt-get install docker-registry apache2-utils openssl)", missing.join(", "));
    }
    println!("skipped {test}: {} missing (apt-get install docker-registry apache2-utils openssl)", missing.join(", "));
    false
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

impl TestRegistry {
    /// Starts a registry whose only account is `user`/`password`, checked with htpasswd
    /// (clients get `WWW-Authenticate: Basic`).
    pub fn start(user: &str, password: &str) -> TestRegistry {
        let dir = tempfile::tempdir().unwrap();
        let htpasswd = run(Command::new("htpasswd").args(["-Bbn", user, password]));
        std::fs::write(dir.path().join("htpasswd"), htpasswd).unwrap();
        let auth = format!("auth:\n  htpasswd:\n    realm: luaenv-test\n    path: {}\n", dir.path().join("htpasswd").display());
        TestRegistry::start_with(dir, &auth, None)
    }

    /// Starts a registry with token auth, as Docker Hub, GHCR or Harbor do: it answers
    /// `WWW-Authenticate: Bearer realm=...`, and a token service (a loopback HTTP server
    /// run here) trades `user`/`password` (Basic) for a signed JWT granting pull and push.
    pub fn start_with_token_auth(user: &str, password: &str) -> TestRegistry {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        run(Command::new("openssl").current_dir(d).args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "token.key", "-out", "token.crt", "-days", "2", "-subj", "/CN=luaenv test token issuer"]));
        let service = TokenService::start(d, user, password);
        let auth = format!(
            "auth:\n  token:\n    realm: {}/token\n    service: luaenv-test\n    issuer: luaenv-test-issuer\n    rootcertbundle: {}\n",
            service.url,
            d.join("token.crt").display()
        );
        TestRegistry::start_with(dir, &auth, Some(service))
    }

    fn start_with(dir: tempfile::TempDir, auth: &str, token_service: Option<TokenService>) -> TestRegistry {
        let d = dir.path();
        let ca = make_certificates(d);
        let storage = d.join("storage");
        std::fs::create_dir(&storage).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: luaenv-test-secret\n  tls:\n    certificate: {crt}\n    key: {key}\n{auth}",
            storage = storage.display(),
            crt = d.join("server.crt").display(),
            key = d.join("server.key").display(),
        );
        std::fs::write(d.join("config.yml"), config).unwrap();
        let log = std::fs::File::create(d.join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(d.join("config.yml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("cannot start docker-registry");
        let mut registry = TestRegistry { dir, port, ca, storage, child, token_service };
        registry.wait_until_listening();
        registry
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("docker-registry exited ({status}): {}", std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default());
            }
            assert!(Instant::now() < deadline, "docker-registry did not listen on port {} within 30 s", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// How many tokens the token service issued (0 without token auth).
    pub fn tokens_issued(&self) -> usize {
        self.token_service.as_ref().map_or(0, |s| s.issued.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `oci://127.0.0.1:<port>/<repository>`.
    pub fn url(&self, repository: &str) -> String {
        format!("oci://{}/{repository}", self.host())
    }

    /// A folder to use as DOCKER_CONFIG, whose config.json holds `user`/`password` for this
    /// registry (as `docker login` writes it: base64 `auth`).
    pub fn docker_config(&self, name: &str, user: &str, password: &str) -> PathBuf {
        let folder = self.dir.path().join(name);
        std::fs::create_dir_all(&folder).unwrap();
        let auth = base64_encode(format!("{user}:{password}").as_bytes());
        std::fs::write(folder.join("config.json"), format!("{{\"auths\":{{\"{}\":{{\"auth\":\"{auth}\"}}}}}}", self.host())).unwrap();
        folder
    }

    /// Every blob file in the registry's storage.
    pub fn blob_files(&self) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let root = self.storage.join("docker/registry/v2/blobs/sha256");
        for prefix in std::fs::read_dir(&root).into_iter().flatten().flatten() {
            for blob in std::fs::read_dir(prefix.path()).into_iter().flatten().flatten() {
                found.push(blob.path().join("data"));
            }
        }
        found
    }

    /// The file holding the blob with this digest (`sha256:<hex>`).
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.storage.join("docker/registry/v2/blobs/sha256").join(&hex[..2]).join(hex).join("data")
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(service) = &mut self.token_service {
            service.stop.store(true, std::sync::atomic::Ordering::Relaxed);
            if let Some(thread) = service.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

/// A token service (the Docker registry token protocol): `GET /token?service=&scope=` with
/// Basic credentials answers `{"token": <JWT>}`, a JWT signed with ES256 by token.key whose
/// certificate (in `x5c`) is the registry's `rootcertbundle`; wrong credentials get 401.
struct TokenService {
    url: String,
    /// Tokens handed out so far.
    issued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TokenService {
    fn start(dir: &Path, user: &str, password: &str) -> TokenService {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", server.server_addr().to_ip().unwrap().port());
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let halt = stop.clone();
        let issued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = issued.clone();
        let expected = format!("Basic {}", base64_encode(format!("{user}:{password}").as_bytes()));
        let (dir, user) = (dir.to_path_buf(), user.to_string());
        let thread = std::thread::spawn(move || {
            while !halt.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) else { continue };
                let given = request.headers().iter().find(|h| h.field.equiv("Authorization")).map(|h| h.value.to_string());
                if given.as_deref() != Some(expected.as_str()) {
                    let _ = request.respond(tiny_http::Response::from_string("{\"details\":\"wrong user or password\"}").with_status_code(401));
                    continue;
                }
                let token = signed_token(&dir, &user);
                count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let _ = request.respond(tiny_http::Response::from_string(format!("{{\"token\":\"{token}\",\"expires_in\":300}}")));
            }
        });
        TokenService { url, issued, stop, thread: Some(thread) }
    }
}

/// A JWT granting `user` pull and push on every repository, for 5 minutes.
fn signed_token(dir: &Path, user: &str) -> String {
    let pem = std::fs::read_to_string(dir.join("token.crt")).unwrap();
    let der: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let header = format!(r#"{{"typ":"JWT","alg":"ES256","x5c":["{der}"]}}"#);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let claims = format!(
        r#"{{"iss":"luaenv-test-issuer","sub":"{user}","aud":"luaenv-test","exp":{},"nbf":{},"iat":{now},"jti":"{now}-{}","access":[{{"type":"repository","name":"luaenv/builds","actions":["pull","push"]}}]}}"#,
        now + 300,
        now - 10,
        std::process::id()
    );
    let signing_input = format!("{}.{}", base64url(header.as_bytes()), base64url(claims.as_bytes()));
    let input = dir.join(format!("jwt-{now}-{}", rand_suffix()));
    std::fs::write(&input, &signing_input).unwrap();
    let der_signature = run(Command::new("openssl").args(["dgst", "-sha256", "-sign"]).arg(dir.join("token.key")).arg(&input));
    let _ = std::fs::remove_file(&input);
    format!("{signing_input}.{}", base64url(&raw_ecdsa_signature(&der_signature)))
}

/// A different number on each call: each signing gets its own input file.
fn rand_suffix() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// An ECDSA signature as JWS wants it (r and s, 32 bytes each) from openssl's DER.
fn raw_ecdsa_signature(der: &[u8]) -> Vec<u8> {
    // SEQUENCE { INTEGER r, INTEGER s }, short lengths (a P-256 signature is < 128 bytes).
    assert_eq!(der[0], 0x30);
    let mut at = 2;
    let mut raw = Vec::new();
    for _ in 0..2 {
        assert_eq!(der[at], 0x02);
        let len = der[at + 1] as usize;
        let int = &der[at + 2..at + 2 + len];
        let int = &int[int.len().saturating_sub(32)..];
        raw.extend(std::iter::repeat_n(0u8, 32 - int.len()));
        raw.extend_from_slice(int);
        at += 2 + len;
    }
    raw
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A CA (ca.crt) and a server certificate for 127.0.0.1 signed by it (server.crt, server.key).
fn make_certificates(d: &Path) -> PathBuf {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(Command::new("openssl").current_dir(d).args(["req", "-x509"]).args(ec).args([
        "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=luaenv test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]));
    run(Command::new("openssl").current_dir(d).arg("req").args(ec).args(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]));
    std::fs::write(d.join("server.ext"), "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n").unwrap();
    run(Command::new("openssl").current_dir(d).args([
        "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "2", "-extfile", "server.ext",
    ]));
    d.join("ca.crt")
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
