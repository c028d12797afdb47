//! The shared test environment: a temporary root, cache and HOME, the real luaenv binary,
//! the real fixtures served by a loopback HTTP server, and one shared set of installed versions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_luaenv");

/// The fixtures folder, or `None` (after one line saying why) when the test must skip.
/// Under `LUAENV_REQUIRE_FIXTURES=1` a missing fixture fails the test instead.
pub fn fixtures(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("LUAENV_TEST_FIXTURES").map(PathBuf::from);
    let required = std::env::var("LUAENV_REQUIRE_FIXTURES").is_ok_and(|v| v == "1");
    match dir {
        Some(d) if d.join("mirror/lua-5.4.7.tar.gz").is_file() => Some(std::fs::canonicalize(d).unwrap()),
        _ if required => panic!("{test}: LUAENV_REQUIRE_FIXTURES=1 but LUAENV_TEST_FIXTURES does not point at the fixtures"),
        _ => {
            println!("skipped {test}: LUAENV_TEST_FIXTURES is not set to ../shared/fixtures");
            None
        }
    }
}

macro_rules! fixtures_or_skip {
    ($name:expr) => {
        match crate::support::fixtures($name) {
            Some(f) => f,
            None => return,
        }
    };
}
pub(crate) use fixtures_or_skip;

/// A static file server on 127.0.0.1 that counts requests and can demand Basic auth.
pub struct Server {
    pub url: String,
    requests: Arc<AtomicUsize>,
    pub paths: Arc<Mutex<Vec<String>>>,
    auth: Arc<Mutex<Option<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    pub fn serve(dir: &Path) -> Server {
        Server::serve_with_auth(dir, None)
    }

    /// `auth` is the expected `user:password`. Such a server listens on 127.0.0.2, still
    /// loopback: credentials are per host, and the other tests' servers are on 127.0.0.1.
    pub fn serve_with_auth(dir: &Path, auth: Option<&str>) -> Server {
        let ip = if auth.is_some() { "127.0.0.2" } else { "127.0.0.1" };
        let server = tiny_http::Server::http(format!("{ip}:0")).unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let dir = dir.to_path_buf();
        let auth = Arc::new(Mutex::new(auth.map(|a| format!("Basic {}", base64(a.as_bytes())))));
        let (count, seen, halt, demanded) = (requests.clone(), paths.clone(), stop.clone(), auth.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) else { continue };
                count.fetch_add(1, Ordering::Relaxed);
                let path = request.url().split('?').next().unwrap_or("").to_string();
                seen.lock().unwrap().push(path.clone());
                let expected = demanded.lock().unwrap().clone();
                if let Some(expected) = &expected {
                    let given = request.headers().iter().find(|h| h.field.equiv("Authorization")).map(|h| h.value.to_string());
                    if given.as_deref() != Some(expected.as_str()) {
                        let header = tiny_http::Header::from_bytes("WWW-Authenticate", "Basic realm=\"rocks\"").unwrap();
                        let _ = request.respond(tiny_http::Response::empty(401).with_header(header));
                        continue;
                    }
                }
                let file = dir.join(path.trim_start_matches('/'));
                let response = match std::fs::read(&file) {
                    Ok(bytes) if !path.contains("..") && file.is_file() => request.respond(tiny_http::Response::from_data(bytes)),
                    _ => request.respond(tiny_http::Response::empty(404)),
                };
                let _ = response;
            }
        });
        Server { url: format!("http://{ip}:{port}"), requests, paths, auth, stop, thread: Some(thread) }
    }

    /// Changes the `user:password` the server demands, as when a password is rotated.
    pub fn demand(&self, auth: &str) {
        *self.auth.lock().unwrap() = Some(format!("Basic {}", base64(auth.as_bytes())));
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Standard base64, as HTTP Basic auth and Docker's `config.json` write credentials.
pub fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A private luaenv world: root, cache and HOME in one temporary folder.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env { dir: tempfile::Builder::new().prefix("luaenv-it-").tempdir().unwrap() }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    pub fn home(&self) -> PathBuf {
        let home = self.dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        home
    }

    /// `luaenv` with this world's root, cache and HOME and nothing inherited that would steer it.
    pub fn luaenv(&self) -> Command {
        let mut cmd = Command::new(BIN);
        self.apply(&mut cmd);
        cmd
    }

    pub fn apply(&self, cmd: &mut Command) {
        cmd.env("LUAENV_ROOT", self.root())
            .env("LUAENV_CACHE_DIR", self.cache())
            .env("HOME", self.home())
            .env_remove("LUAENV_MIRROR")
            .env_remove("LUAENV_VERSION")
            .env_remove("LUA_PATH")
            .env_remove("LUA_CPATH")
            .env_remove("LUA_INIT");
    }

    /// The shim `name` of this root, run with this world's variables.
    pub fn shim(&self, name: &str) -> Command {
        let mut cmd = Command::new(self.root().join("shims").join(name));
        self.apply(&mut cmd);
        cmd
    }

    pub fn prefix(&self, name: &str) -> PathBuf {
        self.root().join("versions").join(name)
    }

    /// Entries of versions/ (staging leftovers included): empty after any failed install.
    pub fn versions_entries(&self) -> Vec<String> {
        std::fs::read_dir(self.root().join("versions"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| {
        let dir = Path::new(cmd.get_program()).parent().map(|d| std::fs::read_dir(d).map(|r| r.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect::<Vec<_>>()));
        panic!("{cmd:?} cannot run: {e}; its folder holds {dir:?}")
    })
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `cc <args> $(pkg-config <query>)` for the `.pc` files in `pc_dir`, the flags read back as
/// make and a shell's `eval` read them (a prefix with blanks comes escaped).
pub fn cc_with_pkg_config(pc_dir: &Path, query: &str, args: &[&std::ffi::OsStr]) -> String {
    let mut cc = Command::new("sh");
    cc.args(["-c", r#"flags=$(pkg-config $0) && eval "set -- \"\$@\" $flags" && exec cc "$@""#, query]).args(args);
    ok(cc.env("PKG_CONFIG_PATH", pc_dir).env_remove("PKG_CONFIG_LIBDIR"))
}

/// Asserts success and returns stdout.
pub fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(out.status.success(), "{cmd:?} failed: {}\n{}", out.status, stderr(&out));
    stdout(&out)
}

/// The plain lines a piped install prints while it works (src/install/progress.rs): they may
/// come before the error line, which is then the first line of the error itself.
pub fn is_progress_line(line: &str) -> bool {
    let step = line.split_once(": ").map(|(_, step)| step).unwrap_or("");
    line.starts_with("downloading ") || (step.starts_with("compiling ") && step.ends_with(" objects")) || step.starts_with("installing LuaRocks ") || step == "building it for this machine too, to run LuaRocks"
}

/// Asserts the failure contract: the exit code, one clear `luaenv:` line first, no backtrace.
pub fn fails(cmd: &mut Command, code: i32, needle: &str) -> String {
    let out = run(cmd);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{cmd:?}: wrong exit code; stderr:\n{err}");
    let first = err.lines().find(|l| !is_progress_line(l)).unwrap_or("");
    assert!(first.starts_with("luaenv: "), "first line is not one clear error: {err}");
    assert!(first.contains(needle), "expected {needle:?} in the first line: {first}");
    assert!(!err.contains("panicked") && !err.contains("RUST_BACKTRACE"), "backtrace or panic: {err}");
    first.to_string()
}

/// One shared world with Lua 5.1.5, 5.3.6, 5.4.7 and 5.5.1 installed from the fixtures
/// through a loopback mirror, built once for all the tests that only need them installed.
pub struct World {
    pub env: Env,
    pub install_output: Vec<(String, String)>,
}

pub const WORLD_VERSIONS: [&str; 4] = ["5.1.5", "5.3.6", "5.4.7", "5.5.1"];

pub fn world(test: &str) -> Option<&'static World> {
    static WORLD: OnceLock<World> = OnceLock::new();
    let fixtures = fixtures(test)?;
    Some(WORLD.get_or_init(|| {
        let env = Env::new();
        let server = Server::serve(&fixtures.join("mirror"));
        let mut install_output = Vec::new();
        let rocks = fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz");
        for v in WORLD_VERSIONS {
            let mut cmd = env.luaenv();
            cmd.args(["install", v, "--mirror", &server.url]);
            // LuaRocks 3.8.0 supports 5.1 to 5.4; 5.5 needs 3.13.0 (tests/it/transaction.rs installs it).
            if v.starts_with("5.5") {
                cmd.arg("--no-rocks");
            } else {
                cmd.args(["--rocks", "3.8.0", "--rocks-from"]).arg(&rocks);
            }
            let out = ok(&mut cmd);
            install_output.push((v.to_string(), out));
        }
        World { env, install_output }
    }))
}

macro_rules! world_or_skip {
    ($name:expr) => {
        match crate::support::world($name) {
            Some(w) => w,
            None => return,
        }
    };
}
pub(crate) use world_or_skip;

impl World {
    /// A private root that sees the World's installed versions (its `versions/` is a link to
    /// them) but has its own global version, shims, projects, credentials, cache and HOME:
    /// for tests that write root files but must not change what other tests read (it has no
    /// shims until `luaenv rehash`). Tests
    /// that change a prefix itself (rocks, configs) install their own with `env_with`.
    pub fn view(&self) -> Env {
        let env = Env::new();
        std::fs::create_dir_all(env.root()).unwrap();
        std::os::unix::fs::symlink(self.env.root().join("versions"), env.root().join("versions")).unwrap();
        env
    }
}

/// A private Env with these Lua versions installed from the fixtures through a loopback
/// mirror, LuaRocks 3.8.0 with each (5.1 to 5.4).
pub fn env_with(fixtures: &Path, versions: &[&str]) -> Env {
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    let rocks = fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz");
    for v in versions {
        ok(env.luaenv().args(["install", v, "--mirror", &server.url, "--rocks-from"]).arg(&rocks));
    }
    env
}

/// A mirror folder holding the fixtures' mirror and their local tarballs (as links): what a
/// team's mirror holds for a lock that pins a `--rocks-from` tarball by file name and sum.
pub fn mirror_with_local_files(fixtures: &Path) -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix("luaenv-mirror-").tempdir().unwrap();
    for folder in ["mirror", "local"] {
        for entry in std::fs::read_dir(fixtures.join(folder)).unwrap().flatten() {
            std::os::unix::fs::symlink(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    dir
}

/// The cross toolchain and qemu-user, or `None` after a line saying why the test skips
/// (under LUAENV_REQUIRE_FIXTURES=1, as in CI, which installs them, it fails instead).
pub fn cross_tools(test: &str) -> Option<()> {
    let missing: Vec<&str> = ["aarch64-linux-gnu-gcc", "qemu-aarch64"].into_iter().filter(|t| !run(Command::new("sh").args(["-c", &format!("command -v {t}")])).status.success()).collect();
    if missing.is_empty() {
        return Some(());
    }
    assert!(std::env::var("LUAENV_REQUIRE_FIXTURES").as_deref() != Ok("1"), "{test}: {missing:?} missing; .ci/run installs gcc-aarch64-linux-gnu and qemu-user");
    println!("skipped {test}: {} not installed (apt-get install gcc-aarch64-linux-gnu qemu-user)", missing.join(", "));
    None
}
