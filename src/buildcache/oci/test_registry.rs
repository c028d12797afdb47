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
    eprintln!("skipped {test}: {} missing", missing.join(", "));
    false
}

fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

impl TestRegistry {
    /// Starts a registry whose only account is `user`/`password`.
    pub fn start(user: &str, password: &str) -> TestRegistry {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ca = make_certificates(d);
        let htpasswd = run(Command::new("htpasswd").args(["-Bbn", user, password]));
        std::fs::write(d.join("htpasswd"), htpasswd).unwrap();
        let storage = d.join("storage");
        std::fs::create_dir(&storage).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: luaenv-test-secret\n  tls:\n    certificate: {crt}\n    key: {key}\nauth:\n  htpasswd:\n    realm: luaenv-test\n    path: {htpasswd}\n",
            storage = storage.display(),
            crt = d.join("server.crt").display(),
            key = d.join("server.key").display(),
            htpasswd = d.join("htpasswd").display(),
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
        let mut registry = TestRegistry { dir, port, ca, storage, child };
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
    }
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
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
