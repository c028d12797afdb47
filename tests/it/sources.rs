//! Sources: getting bytes from a mirror, a URL or a folder safely, checking them, unpacking
//! them, and the build cache that only verified bytes may feed. Every test has its own `Env`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::Duration;

use crate::support::{Env, Server, fails, fixtures_or_skip, ok, run, stderr, stdout};

fn receipt(env: &Env, name: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(env.prefix(name).join("luaenv-receipt.json")).unwrap()).unwrap()
}

/// Unpacks a fixture tarball into `dest` with the test's own tar reader.
fn unpack_fixture(tarball: &Path, dest: &Path) {
    tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(tarball).unwrap())).unpack(dest).unwrap();
}

/// Every file under `dir` (links not followed) whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let (path, kind) = (entry.path(), entry.file_type().unwrap());
        if kind.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if kind.is_file() && std::fs::read(&path).unwrap_or_default().windows(needle.len()).any(|w| w == needle) {
            found.push(path);
        }
    }
    found
}

/// Paths under `dir` whose names start with one of `prefixes`: leftovers of a failed install.
fn leftovers(dir: &Path, prefixes: &[&str]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if prefixes.iter().any(|p| name.starts_with(p)) {
            found.push(entry.path());
        }
        if entry.file_type().unwrap().is_dir() {
            found.extend(leftovers(&entry.path(), prefixes));
        }
    }
    found
}

fn assert_nothing_left(env: &Env) {
    assert!(env.versions_entries().is_empty(), "{:?}", env.versions_entries());
    let left = leftovers(env.dir.path(), &[".partial-", ".staging-", "build-", ".saving-"]);
    assert!(left.is_empty(), "leftovers: {left:?}");
}

#[test]
fn a_folder_source_never_feeds_nor_reads_the_build_cache() {
    let fixtures = fixtures_or_skip!("a_folder_source_never_feeds_nor_reads_the_build_cache");
    let env = Env::new();
    // A folder named like the official tarball, holding a modified 5.4.7.
    let work = tempfile::tempdir().unwrap();
    let unpacked = work.path().join("unpacked");
    unpack_fixture(&fixtures.join("mirror/lua-5.4.7.tar.gz"), &unpacked);
    let folder = work.path().join("lua-5.4.7.tar.gz");
    std::fs::rename(unpacked.join("lua-5.4.7"), &folder).unwrap();
    let lua_h = folder.join("src/lua.h");
    let text = std::fs::read_to_string(&lua_h).unwrap().replace("Lua.org, PUC-Rio", "PLANTED");
    std::fs::write(&lua_h, text).unwrap();
    let official = "9fbf5e28ef86c69858f6d3d34eccc32e911c1a28b4120ff3e84aaa70cfbf1e30";

    // A sum cannot vouch for a folder: refused, not silently ignored.
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--sha256", official, "--from"]).arg(&folder), 2, "applies to a tarball");
    assert!(env.versions_entries().is_empty());
    // Nor can the official table, for such a folder standing in a mirror (or a kit) where the
    // tarball should be: the work fails (exit 1), nothing is built.
    let mirror = work.path().join("mirror");
    std::fs::create_dir_all(&mirror).unwrap();
    ok(Command::new("cp").arg("-a").arg(&folder).arg(mirror.join("lua-5.4.7.tar.gz")));
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror"]).arg(&mirror), 1, "is a folder, not the tarball whose sha256 must match");
    assert!(env.versions_entries().is_empty());

    ok(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--from"]).arg(&folder));
    let r = receipt(&env, "5.4.7");
    assert_eq!(r["source"]["checksum"], "unverified", "{r}");
    assert!(r["source"]["sha256"].is_null() && r["build_cache_key"].is_null(), "{r}");
    assert!(stdout(&run(Command::new(env.prefix("5.4.7").join("bin/lua")).arg("-v"))).contains("PLANTED"));
    assert!(files_containing(&env.cache(), b"PLANTED").is_empty(), "an unverified build went into the cache");

    // A later official install builds from the verified tarball, never from the folder's build.
    ok(env.luaenv().args(["uninstall", "5.4.7"]));
    let server = Server::serve(&fixtures.join("mirror"));
    let out = run(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url]));
    assert!(out.status.success() && stderr(&out).contains("(built in"), "{}", stderr(&out));
    let lua_v = run(Command::new(env.prefix("5.4.7").join("bin/lua")).arg("-v"));
    assert!(!stdout(&lua_v).contains("PLANTED") && stdout(&lua_v).contains("PUC-Rio"));
    let r = receipt(&env, "5.4.7");
    assert_eq!(r["source"]["checksum"], "official");

    // The verified build is cached under its tarball's sum, and a relative --from path of that
    // very tarball restores it, recorded with an absolute path.
    let out = run(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--force", "--from", "lua-5.4.7.tar.gz"]).current_dir(fixtures.join("mirror")));
    assert!(out.status.success() && stderr(&out).contains("restored from the build cache"), "{}", stderr(&out));
    let r = receipt(&env, "5.4.7");
    assert_eq!(r["source"]["url"], fixtures.join("mirror/lua-5.4.7.tar.gz").display().to_string());
    assert_eq!((r["source"]["checksum"].as_str(), r["source"]["sha256"].as_str()), (Some("official"), Some(official)));
}

#[test]
fn a_source_whose_lua_h_disagrees_with_the_spec_is_refused() {
    let fixtures = fixtures_or_skip!("a_source_whose_lua_h_disagrees_with_the_spec_is_refused");
    let env = Env::new();
    let tarball = fixtures.join("mirror/lua-5.4.7.tar.gz");
    for spec in ["9.9.9", "5.4.9", "5.0.0"] {
        let line = fails(env.luaenv().args(["install", spec, "--no-rocks", "--from"]).arg(&tarball), 2, "the source is Lua 5.4.7");
        assert!(line.contains(&format!("not {spec}")), "{line}");
    }
    // A 5.1 tree says its version only in LUA_RELEASE.
    fails(env.luaenv().args(["install", "5.1.4", "--no-rocks", "--from"]).arg(fixtures.join("mirror/lua-5.1.5.tar.gz")), 2, "the source is Lua 5.1.5");
    assert_nothing_left(&env);
}

/// A tarball whose links each stay inside the tree until a chain of them climbs to `/`; then
/// `src/luaconf.h` and `doc/lua.1` lead through it to files outside (hostile trial 6).
fn write_hostile_tarball(fixtures: &Path, tarball: &Path, outside_conf: &Path, secret: &Path) {
    let clean = tempfile::tempdir().unwrap();
    unpack_fixture(&fixtures.join("mirror/lua-5.4.7.tar.gz"), clean.path());
    let tree = clean.path().join("lua-5.4.7");
    std::fs::remove_file(tree.join("src/luaconf.h")).unwrap();
    std::fs::remove_file(tree.join("doc/lua.1")).unwrap();
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(std::fs::File::create(tarball).unwrap(), flate2::Compression::fast()));
    builder.append_dir_all("lua-5.4.7", &tree).unwrap();
    let mut link = |path: &str, target: &str| {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        header.set_mode(0o777);
        builder.append_link(&mut header, path, target).unwrap();
    };
    let deep = "a1/a2/a3/a4/a5/a6/a7/a8";
    link(&format!("lua-5.4.7/{deep}/b"), "../../../../../../../..");
    link("lua-5.4.7/up1", &format!("{deep}/b/.."));
    for n in 2..=40 {
        link(&format!("lua-5.4.7/up{n}"), &format!("up{}/..", n - 1));
    }
    let rel = |p: &Path| p.display().to_string().trim_start_matches('/').to_string();
    link("lua-5.4.7/src/luaconf.h", &format!("../up40/{}", rel(outside_conf)));
    link("lua-5.4.7/doc/lua.1", &format!("../up40/{}", rel(secret)));
    builder.into_inner().unwrap().finish().unwrap();
}

#[test]
fn links_out_of_a_source_tree_are_never_followed() {
    let fixtures = fixtures_or_skip!("links_out_of_a_source_tree_are_never_followed");
    let env = Env::new();
    let outside = tempfile::tempdir().unwrap();
    let conf = outside.path().join("luaconf.h");
    std::fs::copy(fixtures.join("mirror/lua-5.4.7.tar.gz"), outside.path().join("keep")).unwrap();
    unpack_fixture(&fixtures.join("mirror/lua-5.4.7.tar.gz"), &outside.path().join("x"));
    std::fs::copy(outside.path().join("x/lua-5.4.7/src/luaconf.h"), &conf).unwrap();
    let conf_before = std::fs::read(&conf).unwrap();
    let secret = outside.path().join("secret");
    std::fs::write(&secret, ".TH LUA 1 TOP-SECRET-7f3a\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();

    let tarball = outside.path().join("hostile.tar.gz");
    write_hostile_tarball(&fixtures, &tarball, &conf, &secret);
    let line = fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--from"]).arg(&tarball), 1, "unsafe tarball");
    assert!(line.contains("leads outside the source tree"), "{line}");

    // The same tree as a --from folder.
    let folder = outside.path().join("folder");
    tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(&tarball).unwrap())).unpack(&folder).unwrap();
    assert!(std::fs::symlink_metadata(folder.join("lua-5.4.7/src/luaconf.h")).unwrap().file_type().is_symlink());
    let line = fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--from"]).arg(folder.join("lua-5.4.7")), 1, "unsafe source folder");
    assert!(line.contains("leads outside"), "{line}");

    assert_eq!(std::fs::read(&conf).unwrap(), conf_before, "the file outside was rewritten");
    for dir in [env.root(), env.cache()] {
        let found = files_containing(&dir, b"TOP-SECRET-7f3a");
        assert!(found.is_empty(), "the secret was copied to {found:?}");
    }
    assert_nothing_left(&env);
}

/// A TCP server on loopback that accepts and then does `answer` with each connection.
fn raw_server(answer: fn(TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || answer(stream));
        }
    });
    url
}

fn read_request(stream: &mut TcpStream) {
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        seen.push(byte[0]);
    }
}

#[test]
fn a_silent_or_stalling_server_times_out_and_leaves_nothing() {
    let env = Env::new();
    let silent = raw_server(|stream| {
        std::thread::sleep(Duration::from_secs(60));
        drop(stream);
    });
    let line = fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror", &silent]).env("LUAENV_HTTP_TIMEOUT", "1"), 1, "no answer within 1 s");
    assert!(line.contains("LUAENV_HTTP_TIMEOUT"), "{line}");
    assert_nothing_left(&env);

    let stalling = raw_server(|mut stream| {
        read_request(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 400000\r\n\r\n");
        let _ = stream.write_all(&[0u8; 1000]);
        std::thread::sleep(Duration::from_secs(60));
    });
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror", &stalling]).env("LUAENV_HTTP_TIMEOUT", "1"), 1, "stalled: no data for 1 s");
    assert_nothing_left(&env);
}

#[test]
fn endless_downloads_sums_and_gzip_bombs_stop_at_their_caps() {
    let fixtures = fixtures_or_skip!("endless_downloads_sums_and_gzip_bombs_stop_at_their_caps");
    let env = Env::new();
    // No length, no end.
    let endless = raw_server(|mut stream| {
        read_request(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        let zeros = vec![0u8; 64 * 1024];
        while stream.write_all(&zeros).is_ok() {}
    });
    let cap = ("LUAENV_MAX_DOWNLOAD_BYTES", "1048576");
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror", &endless]).env(cap.0, cap.1), 1, "stopped at 1 MiB");
    assert_nothing_left(&env);
    // A real tarball above the cap (tiny_http sends it chunked, so the cap stops the stream).
    let server = Server::serve(&fixtures.join("mirror"));
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url]).env("LUAENV_MAX_DOWNLOAD_BYTES", "100000"), 1, "stopped at 100000 bytes");
    // A length above the cap is refused before any byte is written.
    let huge = raw_server(|mut stream| {
        read_request(&mut stream);
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n");
        let _ = stream.write_all(&[0u8; 1000]);
    });
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror", &huge]).env(cap.0, cap.1), 1, "is 9765625 KiB long, more than the 1 MiB");
    assert_nothing_left(&env);

    // An endless SHA256SUMS is read up to 1 MiB only.
    let mirror = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures.join("mirror/LuaJIT-2.1.tar.gz"), mirror.path().join("LuaJIT-2.1.tar.gz")).unwrap();
    std::fs::write(mirror.path().join("SHA256SUMS"), "# padding\n".repeat(300_000)).unwrap();
    let sums_server = Server::serve(mirror.path());
    fails(env.luaenv().args(["install", "luajit-2.1", "--no-rocks", "--mirror", &sums_server.url]), 1, "SHA256SUMS is larger than 1 MiB");

    // A gzip bomb: 64 MiB of zeros in a tarball of a few KB, against a 16 MiB unpack cap.
    let work = tempfile::tempdir().unwrap();
    let bomb = work.path().join("bomb.tar.gz");
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(std::fs::File::create(&bomb).unwrap(), flate2::Compression::best()));
    let mut header = tar::Header::new_gnu();
    header.set_size(64 << 20);
    header.set_mode(0o644);
    builder.append_data(&mut header, "lua-5.4.7/zeros", std::io::repeat(0).take(64 << 20)).unwrap();
    builder.into_inner().unwrap().finish().unwrap();
    let line = fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--from"]).arg(&bomb).env("LUAENV_MAX_UNPACK_BYTES", "16777216"), 1, "unpacks to more than 16 MiB");
    assert!(line.contains("gzip bomb"), "{line}");
    // Too many entries.
    let many = work.path().join("many.tar.gz");
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(std::fs::File::create(&many).unwrap(), flate2::Compression::fast()));
    for n in 0..50 {
        let mut header = tar::Header::new_gnu();
        header.set_size(1);
        header.set_mode(0o644);
        builder.append_data(&mut header, format!("lua-5.4.7/f{n}"), &b"x"[..]).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--from"]).arg(&many).env("LUAENV_MAX_SOURCE_FILES", "20"), 1, "more than 20 entries");
    assert_nothing_left(&env);
}

#[test]
fn fifos_and_huge_folders_given_with_from_are_refused_unopened() {
    let fixtures = fixtures_or_skip!("fifos_and_huge_folders_given_with_from_are_refused_unopened");
    let env = Env::new();
    let work = tempfile::tempdir().unwrap();
    unpack_fixture(&fixtures.join("mirror/lua-5.4.7.tar.gz"), work.path());
    let tree = work.path().join("lua-5.4.7");
    let fifo = tree.join("src/lua.c.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--from"]).arg(&tree), 1, "is not a regular file (a FIFO");
    fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--from"]).arg(&fifo), 1, "is not a regular file");
    std::fs::remove_file(&fifo).unwrap();
    let line = fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--from"]).arg(&tree).env("LUAENV_MAX_SOURCE_FILES", "20"), 1, "holds more than 20 entries");
    assert!(line.contains("not a source tree"), "{line}");
    if !Path::new("/src").exists() {
        fails(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--from", "/"]), 2, "is not a Lua source folder");
    }
    assert_nothing_left(&env);
}

#[test]
fn a_damaged_trusted_sums_file_is_an_error_and_is_kept() {
    let fixtures = fixtures_or_skip!("a_damaged_trusted_sums_file_is_an_error_and_is_kept");
    let env = Env::new();
    let mirror = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures.join("mirror/LuaJIT-2.1.tar.gz"), mirror.path().join("LuaJIT-2.1.tar.gz")).unwrap();
    std::fs::create_dir_all(env.root()).unwrap();
    let file = env.root().join("trusted-sums");
    let mut damaged = b"LuaJIT-2.1.tar.gz 0000000000000000000000000000000000000000000000000000000000000000\n".to_vec();
    damaged.extend_from_slice(b"caf\xe9 latin-1\n");
    std::fs::write(&file, &damaged).unwrap();
    let mirror_arg = mirror.path().display().to_string();
    let line = fails(env.luaenv().args(["install", "luajit-2.1", "--no-rocks", "--mirror", &mirror_arg]), 1, "trusted-sums is damaged (line 2");
    assert!(line.contains("Fix or delete that line"), "{line}");
    std::fs::write(&file, b"LuaJIT-2.1.tar.gz not-a-sum\n").unwrap();
    fails(env.luaenv().args(["install", "luajit-2.1", "--no-rocks", "--mirror", &mirror_arg]), 1, "trusted-sums is damaged (line 1");
    assert_eq!(std::fs::read(&file).unwrap(), b"LuaJIT-2.1.tar.gz not-a-sum\n", "the damaged file is never rewritten");
    assert_nothing_left(&env);
}

#[test]
fn locations_that_are_not_urls_nor_paths_are_usage_errors() {
    let env = Env::new();
    fails(env.luaenv().args(["install", "5.4.7", "--from", ""]), 2, "--from is empty");
    fails(env.luaenv().args(["install", "5.4.7", "--from", "file://"]), 2, "names no local path");
    fails(env.luaenv().args(["install", "5.4.7", "--mirror", ""]), 2, "--mirror is empty");
    fails(env.luaenv().args(["install", "5.4.7", "--mirror", "ftp://x"]), 2, "ftp:// is not supported");
    let out = run(env.luaenv().args(["mirror", "set", "http://alice:S3cret@127.0.0.1:99999/"]));
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("luaenv: ") && err.contains("invalid port") && !err.contains("S3cret"), "{err}");
    fails(env.luaenv().args(["mirror", "set", "ftp://x/"]), 2, "ftp:// is not supported");
    assert!(!env.root().join("mirror").exists());
}

#[test]
fn a_file_mirror_whose_path_has_a_space_works() {
    let fixtures = fixtures_or_skip!("a_file_mirror_whose_path_has_a_space_works");
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let mirror = dir.path().join("my mirror");
    std::fs::create_dir(&mirror).unwrap();
    std::fs::copy(fixtures.join("mirror/lua-5.1.5.tar.gz"), mirror.join("lua-5.1.5.tar.gz")).unwrap();
    let url = url::Url::from_directory_path(&mirror).unwrap().to_string();
    assert!(url.contains("my%20mirror"), "{url}");
    ok(env.luaenv().args(["install", "5.1.5", "--no-rocks", "--mirror", &url]));
    let r = receipt(&env, "5.1.5");
    assert_eq!(r["source"]["url"], mirror.join("lua-5.1.5.tar.gz").display().to_string());
    assert_eq!(r["source"]["checksum"], "official");
    // file://localhost/ names the same folder.
    let localhost = url.replacen("file://", "file://localhost", 1);
    ok(env.luaenv().args(["mirror", "set", &localhost]));
    assert_eq!(ok(env.luaenv().args(["mirror", "show"])).trim(), mirror.display().to_string());
}

fn output_text(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

#[test]
fn a_mirror_password_is_used_and_shown_nowhere() {
    let fixtures = fixtures_or_skip!("a_mirror_password_is_used_and_shown_nowhere");
    let env = Env::new();
    let password = "pw-S3cr3t-91";
    let server = Server::serve_with_auth(&fixtures.join("mirror"), Some(&format!("u:{password}")));
    let with_password = server.url.replacen("http://", &format!("http://u:{password}@"), 1) + "/";
    let mut outputs = Vec::new();

    let out = run(env.luaenv().args(["install", "5.1.5", "--no-rocks", "--json", "--mirror", &with_password]));
    assert!(out.status.success(), "{}", stderr(&out));
    outputs.push(output_text(&out));
    assert_eq!(receipt(&env, "5.1.5")["source"]["url"], format!("{}/lua-5.1.5.tar.gz", server.url.replacen("http://", "http://u@", 1)));

    // Saved as the mirror: the password goes to credentials/mirror-auth only, and is used from there.
    let out = run(env.luaenv().args(["mirror", "set", &with_password]));
    assert!(out.status.success(), "{}", stderr(&out));
    outputs.push(output_text(&out));
    let out = run(env.luaenv().args(["mirror", "show"]));
    assert_eq!(stdout(&out).trim(), server.url.replacen("http://", "http://u:***@", 1) + "/");
    outputs.push(output_text(&out));
    std::fs::remove_dir_all(env.cache()).unwrap();
    let out = run(env.luaenv().args(["install", "5.1.5", "--no-rocks", "--force"]));
    assert!(out.status.success(), "{}", stderr(&out));
    outputs.push(output_text(&out));
    // A wrong password fails without echoing it.
    server.demand("u:another");
    let out = run(env.luaenv().args(["install", "5.3.6", "--no-rocks", "--mirror", &with_password]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("401") && stderr(&out).contains("credentials"), "{}", stderr(&out));
    outputs.push(output_text(&out));

    for text in &outputs {
        assert!(!text.contains(password), "the password was shown: {text}");
    }
    let holders = files_containing(env.dir.path(), password.as_bytes());
    let auth = env.root().join("credentials/mirror-auth");
    assert_eq!(holders, vec![auth.clone()], "only the credentials file may hold the password");
    assert_eq!(std::fs::metadata(&auth).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(env.root().join("credentials")).unwrap().permissions().mode() & 0o777, 0o700);
    // Unsetting the mirror forgets its password.
    ok(env.luaenv().args(["mirror", "unset"]));
    assert!(files_containing(env.dir.path(), password.as_bytes()).is_empty());
}

/// `openssl s_server -WWW` serving `dir` over HTTPS on 127.0.0.1 with a certificate signed by
/// a CA made here; returns the server, its URL and the CA's certificate file.
struct HttpsServer {
    child: Child,
    url: String,
    ca: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for HttpsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = run(Command::new("openssl").args(args).current_dir(dir));
    assert!(out.status.success(), "openssl {args:?}: {}", stderr(&out));
}

fn https_server(serve: &Path) -> HttpsServer {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(d, &[&["req", "-x509"][..], &ec, &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=luaenv test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]].concat());
    openssl(d, &[&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]].concat());
    std::fs::write(d.join("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n").unwrap();
    openssl(d, &["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"]);
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("openssl")
        .args(["s_server", "-WWW", "-quiet", "-accept", &format!("127.0.0.1:{port}"), "-cert"])
        .arg(d.join("server.pem"))
        .arg("-key")
        .arg(d.join("server.key"))
        .current_dir(serve)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = HttpsServer { child, url: format!("https://127.0.0.1:{port}/"), ca: d.join("ca.pem"), _dir: dir };
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("openssl s_server did not start on port {port}");
}

#[test]
fn an_https_mirror_signed_by_a_private_ca_needs_ssl_cert_file() {
    let fixtures = fixtures_or_skip!("an_https_mirror_signed_by_a_private_ca_needs_ssl_cert_file");
    let env = Env::new();
    let server = https_server(&fixtures.join("mirror"));
    let install = |cmd: &mut Command| {
        cmd.args(["install", "5.1.5", "--no-rocks", "--mirror", &server.url]).env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
    };
    let mut refused = env.luaenv();
    install(&mut refused);
    let line = fails(&mut refused, 1, "certificate");
    assert!(line.contains("SSL_CERT_FILE"), "{line}");
    assert_nothing_left(&env);
    let mut trusted = env.luaenv();
    install(&mut trusted);
    ok(trusted.env("SSL_CERT_FILE", &server.ca));
    assert_eq!(receipt(&env, "5.1.5")["source"]["url"], format!("{}lua-5.1.5.tar.gz", server.url));
    // SSL_CERT_DIR works too: the download succeeds (over TLS) and the check after unpacking
    // is what stops this mislabelled request, before any compile.
    std::fs::remove_dir_all(env.cache().join("downloads")).unwrap();
    let certs = tempfile::tempdir().unwrap();
    std::fs::copy(&server.ca, certs.path().join("company-ca.pem")).unwrap();
    let url = format!("{}lua-5.1.5.tar.gz", server.url);
    let mut by_dir = env.luaenv();
    by_dir.args(["install", "5.1.4", "--no-rocks", "--from", &url]).env_remove("SSL_CERT_FILE").env("SSL_CERT_DIR", certs.path());
    fails(&mut by_dir, 2, "the source is Lua 5.1.5");
}

#[test]
fn a_lock_whose_lua_url_is_a_folder_in_the_repository_is_refused() {
    let fixtures = fixtures_or_skip!("a_lock_whose_lua_url_is_a_folder_in_the_repository_is_refused");
    let env = Env::new();
    // A cloned repository vendoring a "Lua" folder and pinning it with the official sum.
    let repo = tempfile::tempdir().unwrap();
    unpack_fixture(&fixtures.join("mirror/lua-5.4.7.tar.gz"), &repo.path().join("vendor"));
    std::fs::write(repo.path().join(".lua-version"), "5.4.7\n").unwrap();
    let lock = "[lua]\nname = \"5.4.7\"\nversion = \"5.4.7\"\nurl = \"vendor/lua-5.4.7\"\nsha256 = \"9fbf5e28ef86c69858f6d3d34eccc32e911c1a28b4120ff3e84aaa70cfbf1e30\"\n";
    std::fs::write(repo.path().join("luaenv.lock"), lock).unwrap();
    // Refused as it is read: a lock names an http(s) URL or a file name, never a local path.
    fails(env.luaenv().arg("sync").current_dir(repo.path()), 2, "'vendor/lua-5.4.7' is a local path");
    assert_nothing_left(&env);
    assert!(!env.cache().join("builds").exists());
}

/// A LuaJIT tree given as the source of a PUC Lua version (its lua.h says 5.1.4) is refused
/// with the install that works: `luajit-2.1` or `luajit-2.0`, as the tree's own header says.
#[test]
fn a_luajit_tree_given_for_a_lua_version_names_the_luajit_install() {
    let fixtures = fixtures_or_skip!("a_luajit_tree_given_for_a_lua_version_names_the_luajit_install");
    let env = Env::new();
    for (tarball, branch) in [("mirror/LuaJIT-2.1.tar.gz", "luajit-2.1"), ("local/LuaJIT-2.0-git.tar.gz", "luajit-2.0")] {
        let mut cmd = env.luaenv();
        cmd.args(["install", "5.4.7", "--no-rocks", "--from"]).arg(fixtures.join(tarball));
        fails(&mut cmd, 2, &format!("install it as `luaenv install {branch} --from …`"));
    }
    assert!(env.versions_entries().is_empty());
}

/// And the other way: a PUC Lua tree given as the source of LuaJIT names its own release.
#[test]
fn a_lua_tree_given_for_luajit_names_the_lua_install() {
    let fixtures = fixtures_or_skip!("a_lua_tree_given_for_luajit_names_the_lua_install");
    let env = Env::new();
    let mut cmd = env.luaenv();
    cmd.args(["install", "luajit-2.1", "--no-rocks", "--from"]).arg(fixtures.join("mirror/lua-5.4.7.tar.gz"));
    let first = fails(&mut cmd, 2, "the source is Lua 5.4.7 (its src/lua.h says so), not LuaJIT; install it as `luaenv install 5.4.7 --from …`");
    assert!(!first.contains("/tmp/") && !first.contains("build-"), "a temporary path leaks: {first}");
    assert!(env.versions_entries().is_empty());
}
