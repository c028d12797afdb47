//! Shared build caches in a folder (an OCI image layout): a builder pushes signed, relocatable
//! builds; another root, at a path with a space and with no C compiler, pulls them; a root
//! trusting another key, or a blob changed in the cache's storage, gets no such build.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{Env, Server, cc_with_pkg_config, cross_tools, fails, fixtures, fixtures_or_skip, ok, run, stderr};

const JIT: &str = "openresty-2.1-20251030";

/// A builder's root with 5.4.7 (+ LuaRocks 3.8.0) and OpenResty's LuaJIT installed and
/// pushed, signed, to a folder cache. Read only: a test that changes the cache copies it.
struct Pushed {
    builder: Env,
    cache: PathBuf,
    key: PathBuf,
    rocks: PathBuf,
    mirror: Server,
    _dir: tempfile::TempDir,
}

fn pushed(test: &str) -> Option<&'static Pushed> {
    static PUSHED: OnceLock<Pushed> = OnceLock::new();
    let fixtures = fixtures(test)?;
    Some(PUSHED.get_or_init(|| {
        let builder = Env::new();
        let dir = tempfile::Builder::new().prefix("luaenv-cache-").tempdir().unwrap();
        let mirror = Server::serve(&fixtures.join("mirror"));
        let rocks = fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz");
        for name in ["5.4.7", JIT] {
            ok(builder.luaenv().args(["install", name, "--mirror", &mirror.url, "--rocks-from"]).arg(&rocks));
        }
        let key = dir.path().join("builders.key");
        ok(builder.luaenv().args(["cache", "keygen"]).arg(&key));
        let cache = dir.path().join("cache");
        let tags = ok(builder.luaenv().args(["cache", "push", "5.4.7", JIT, "--to"]).arg(&cache).arg("--sign").arg(&key));
        assert_eq!(tags.lines().count(), 2, "{tags}");
        Pushed { builder, cache, key, rocks, mirror, _dir: dir }
    }))
}

/// A root at a path with a space, its own cache and HOME.
struct Puller {
    dir: tempfile::TempDir,
    /// A PATH with what LuaRocks' launchers need and no C compiler.
    no_cc: PathBuf,
}

impl Puller {
    fn new() -> Puller {
        let dir = tempfile::Builder::new().prefix("luaenv-pull-").tempdir().unwrap();
        let no_cc = dir.path().join("bin");
        std::fs::create_dir_all(&no_cc).unwrap();
        for tool in ["sh", "env", "uname"] {
            let found = ok(Command::new("sh").args(["-c", &format!("command -v {tool}")]));
            std::os::unix::fs::symlink(found.trim(), no_cc.join(tool)).unwrap();
        }
        Puller { dir, no_cc }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("a root with spaces").join("luaenv")
    }

    fn prefix(&self, name: &str) -> PathBuf {
        self.root().join("versions").join(name)
    }

    fn apply(&self, cmd: &mut Command) {
        cmd.env("LUAENV_ROOT", self.root())
            .env("LUAENV_CACHE_DIR", self.dir.path().join("cache"))
            .env("HOME", self.dir.path())
            .env_remove("LUAENV_MIRROR")
            .env_remove("LUAENV_VERSION")
            .env_remove("LUAENV_BUILD_CACHE")
            .env_remove("LUAENV_TRUSTED_KEYS")
            .env_remove("LUA_PATH")
            .env_remove("LUA_CPATH")
            .env_remove("LUA_INIT");
    }

    fn luaenv(&self) -> Command {
        let mut cmd = Command::new(crate::support::BIN);
        self.apply(&mut cmd);
        cmd
    }

    /// `luaenv` with no C compiler on PATH.
    fn luaenv_without_cc(&self) -> Command {
        let mut cmd = self.luaenv();
        cmd.env("PATH", &self.no_cc).env_remove("CC");
        cmd
    }

    fn install(&self, p: &Pushed, name: &str) -> Command {
        let mut cmd = self.luaenv_without_cc();
        cmd.args(["install", name, "--mirror", &p.mirror.url, "--rocks-from"]).arg(&p.rocks);
        cmd
    }

    fn versions(&self) -> Vec<String> {
        std::fs::read_dir(self.root().join("versions")).into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()
    }
}

fn receipt(prefix: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(prefix.join("luaenv-receipt.json")).unwrap()).unwrap()
}

/// Files under `dir` whose bytes name `needle` (what `grep -r -l` prints).
fn naming(dir: &Path, needle: &Path) -> String {
    let out = run(Command::new("grep").arg("-r").arg("-l").arg("-F").arg(needle).arg(dir));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_signed_build_installs_relocated_under_a_root_with_a_space_and_no_compiler() {
    let Some(p) = pushed("a_signed_build_installs_relocated_under_a_root_with_a_space_and_no_compiler") else { return };
    let puller = Puller::new();
    // No compiler and no trusted key: the build is refused and nothing can be built.
    fails(puller.install(p, "5.4.7").arg("--build-cache").arg(&p.cache), 1, "which this root does not trust");
    fails(puller.install(p, "5.4.7").arg("--build-cache").arg(&p.cache), 1, "cannot be built from source here: no C compiler");
    assert!(puller.versions().iter().all(|v| v.starts_with('.')) || puller.versions().is_empty(), "{:?}", puller.versions());
    // A cache with no build for this install (another LuaRocks makes another build): said first.
    let said = fails(puller.luaenv_without_cc().args(["install", "5.4.7", "--no-rocks", "--mirror", &p.mirror.url, "--build-cache"]).arg(&p.cache), 1, "no build cache has a build of 5.4.7");
    assert!(said.contains(&p.cache.display().to_string()) && said.contains("no C compiler"), "{said}");

    ok(puller.luaenv().args(["cache", "trust"]).arg(p.key.with_extension("key.pub")));
    // 5.4.7 from a cache the root lists (`cache add`), LuaJIT from $LUAENV_BUILD_CACHE.
    ok(puller.luaenv().args(["cache", "add"]).arg(&p.cache));
    let listed = ok(puller.luaenv().args(["cache", "list"]));
    assert!(listed.contains(&p.cache.display().to_string()), "{listed}");
    let out = run(&mut puller.install(p, "5.4.7"));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("pulled from"), "{}", stderr(&out));
    // The https:// (here http) static copy of a folder cache serves pulls too.
    let copy = Server::serve(&p.cache);
    ok(puller.install(p, JIT).env("LUAENV_BUILD_CACHE", format!("{}, {}", puller.dir.path().join("nothing-here").display(), copy.url)));
    assert!(copy.requests() >= 4, "index, manifest, config and layer come from the copy");

    let lua = puller.prefix("5.4.7");
    assert_eq!(receipt(&lua)["pulled_from"].as_str().map(|s| s.contains("signed by")), Some(true));
    // The builder's local LuaRocks tarball is named by its file name, never by its path there.
    assert_eq!(receipt(&lua)["luarocks"]["url"], "luarocks-3.8.0-dfsg.tar.gz", "{}", receipt(&lua));
    // package.path and cpath name the new prefix.
    let said = ok(Command::new(lua.join("bin/lua")).args(["-e", "print(package.path) print(package.cpath)"]).env_remove("LUA_PATH").env_remove("LUA_CPATH"));
    assert!(said.contains(&format!("{}/share/lua/5.4/?.lua", lua.display())), "{said}");
    assert!(said.contains(&format!("{}/lib/lua/5.4/?.so", lua.display())), "{said}");
    // The luarocks shim runs (on the pulled LuaRocks, through its relocated launcher).
    let mut shim = Command::new(puller.root().join("shims/luarocks"));
    puller.apply(&mut shim);
    shim.env("PATH", &puller.no_cc).env("LUAENV_VERSION", "5.4.7").arg("--version");
    assert!(ok(&mut shim).contains("3.8.0"));
    // A C module built against the relocated lua.pc lands in the default cpath and loads.
    let pc = lua.join("lib/pkgconfig");
    let cflags = ok(Command::new("pkg-config").args(["--cflags", "lua"]).env("PKG_CONFIG_PATH", &pc));
    assert_eq!(cflags.trim(), format!("-I{}", lua.join("include").display().to_string().replace(' ', "\\ ")));
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("answer.c"),
        "#include \"lua.h\"\n#include \"lauxlib.h\"\nstatic int t(lua_State *L) { lua_pushinteger(L, 6 * luaL_checkinteger(L, 1)); return 1; }\nint luaopen_answer(lua_State *L) { lua_pushcfunction(L, t); return 1; }\n",
    )
    .unwrap();
    let (module, source) = (lua.join("lib/lua/5.4/answer.so"), work.path().join("answer.c"));
    cc_with_pkg_config(&pc, "--cflags lua", &["-shared".as_ref(), "-fPIC".as_ref(), "-o".as_ref(), module.as_os_str(), source.as_os_str()]);
    assert_eq!(ok(Command::new(lua.join("bin/lua")).args(["-e", "print(require('answer')(7))"])).trim(), "42");

    // LuaJIT: the JIT runs, its jit.* modules come from the new prefix.
    let jit = puller.prefix(JIT);
    let out = run(Command::new(jit.join("bin/luajit")).args(["-jv", "-e", "local s = 0 for i = 1, 1000 do s = s + i end print(s)"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("500500"));
    assert!(stderr(&out).contains("TRACE"), "{}", stderr(&out));
    let pc = std::fs::read_to_string(jit.join("lib/pkgconfig/luajit.pc")).unwrap();
    assert!(pc.contains(&format!("prefix={}\n", jit.display().to_string().replace(' ', "\\ "))), "{pc}");

    // No file in either prefix names the builder's root (nor the placeholder).
    for prefix in [&lua, &jit] {
        assert_eq!(naming(prefix, &p.builder.root()), "", "files naming the builder's root");
        assert_eq!(naming(prefix, Path::new("luaenv-relocatable-prefix")), "");
    }
    // `install --force` from the cache keeps the user's own LuaRocks config lines.
    let config = lua.join("etc/luarocks/config-5.4.lua");
    let mine = format!("{}-- my own line\n", std::fs::read_to_string(&config).unwrap());
    std::fs::write(&config, mine).unwrap();
    ok(puller.install(p, "5.4.7").arg("--force"));
    assert!(std::fs::read_to_string(&config).unwrap().contains("-- my own line"));
    assert!(receipt(&lua)["pulled_from"].is_string());

    ok(puller.luaenv().args(["cache", "remove"]).arg(&p.cache));
    assert_eq!(ok(puller.luaenv().args(["cache", "list"])), "");
    fails(puller.luaenv().args(["cache", "remove"]).arg(&p.cache), 2, "is not a build cache of this root");
}

#[test]
fn a_build_signed_by_an_untrusted_key_is_built_from_source_instead() {
    let Some(p) = pushed("a_build_signed_by_an_untrusted_key_is_built_from_source_instead") else { return };
    let puller = Puller::new();
    let other = puller.dir.path().join("other.key");
    ok(puller.luaenv().args(["cache", "keygen"]).arg(&other));
    ok(puller.luaenv().args(["cache", "trust"]).arg(other.with_extension("key.pub")));
    // With a compiler, the refusal is one warning line and the install builds.
    let mut cmd = puller.luaenv();
    cmd.args(["install", "5.4.7", "--mirror", &p.mirror.url, "--rocks-from"]).arg(&p.rocks).arg("--build-cache").arg(&p.cache);
    let out = run(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    let warning = stderr(&out).lines().find(|l| l.contains("was refused")).map(String::from).unwrap_or_default();
    assert!(warning.contains("which this root does not trust") && warning.ends_with("building from source instead"), "{}", stderr(&out));
    let receipt = receipt(&puller.prefix("5.4.7"));
    assert!(receipt.get("pulled_from").is_none(), "{receipt}");
}

#[test]
fn a_blob_changed_in_the_cache_is_refused_and_nothing_is_installed() {
    let Some(p) = pushed("a_blob_changed_in_the_cache_is_refused_and_nothing_is_installed") else { return };
    let puller = Puller::new();
    ok(puller.luaenv().args(["cache", "trust"]).arg(p.key.with_extension("key.pub")));
    // A copy of the cache whose layers (its big blobs) each have one byte changed.
    let copy = puller.dir.path().join("cache copy");
    ok(Command::new("cp").arg("-r").arg(&p.cache).arg(&copy));
    let blobs = copy.join("blobs/sha256");
    for blob in std::fs::read_dir(&blobs).unwrap().flatten().filter(|e| e.metadata().unwrap().len() > 100_000) {
        let mut bytes = std::fs::read(blob.path()).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(blob.path(), bytes).unwrap();
    }
    let said = fails(puller.install(p, "5.4.7").arg("--build-cache").arg(&copy), 1, "its bytes were changed");
    assert!(said.contains("cannot be built from source here"), "{said}");
    assert!(puller.versions().iter().all(|v| !v.starts_with(char::is_alphanumeric)), "{:?}", puller.versions());
    // A changed manifest (its digest no longer the index's) is refused too.
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(copy.join("index.json")).unwrap()).unwrap();
    for m in index["manifests"].as_array().unwrap() {
        let file = blobs.join(m["digest"].as_str().unwrap().trim_start_matches("sha256:"));
        let text = std::fs::read_to_string(&file).unwrap().replace("dev.luaenv.signature", "dev.luaenv.signaturf");
        std::fs::write(&file, text).unwrap();
    }
    fails(puller.install(p, "5.4.7").arg("--build-cache").arg(&copy), 1, "its bytes were changed");
}

#[test]
fn cache_commands_refuse_what_they_cannot_do() {
    let fixtures = fixtures_or_skip!("cache_commands_refuse_what_they_cannot_do");
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k");
    ok(env.luaenv().args(["cache", "keygen"]).arg(&key));
    fails(env.luaenv().args(["cache", "push", "5.4.7", "--to"]).arg(dir.path()).arg("--sign").arg(&key), 2, "not installed");
    ok(env.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror"]).arg(fixtures.join("mirror")));
    fails(env.luaenv().args(["cache", "push", "5.4.7", "--to", "http://127.0.0.1:9/c", "--sign"]).arg(&key), 2, "read-only build cache");
    fails(env.luaenv().args(["cache", "push", "5.4.7", "--to"]).arg(dir.path()).arg("--sign").arg(dir.path().join("nokey")), 2, "does not exist");
    fails(env.luaenv().args(["cache", "add", "oci://"]), 2, "oci://host[:port]/repository");
    fails(env.luaenv().args(["cache", "add", "http://u:secret@127.0.0.1/c"]), 2, "may not hold credentials");
    // An unsigned entry is refused: the pushed manifest without its signature annotation.
    let cache = dir.path().join("cache");
    ok(env.luaenv().args(["cache", "push", "5.4.7", "--to"]).arg(&cache).arg("--sign").arg(&key));
    let unsigned = strip_signatures(&cache);
    let puller = Env::new();
    ok(puller.luaenv().args(["cache", "trust"]).arg(key.with_extension("pub")));
    let out = run(puller.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror"]).arg(fixtures.join("mirror")).arg("--build-cache").arg(&unsigned));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("it is not signed"), "{}", stderr(&out));

    // A build signed by a trusted key that does not run fails its smoke test: refused too.
    let lua = env.prefix("5.4.7").join("bin/lua");
    std::fs::remove_file(&lua).unwrap();
    std::fs::write(&lua, "#!/bin/sh\nexit 3\n").unwrap();
    std::fs::set_permissions(&lua, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let broken = dir.path().join("broken");
    ok(env.luaenv().args(["cache", "push", "5.4.7", "--to"]).arg(&broken).arg("--sign").arg(&key));
    let no_cc = Puller::new();
    ok(no_cc.luaenv().args(["cache", "trust"]).arg(key.with_extension("pub")));
    let said = fails(no_cc.luaenv_without_cc().args(["install", "5.4.7", "--no-rocks", "--build-cache"]).arg(&broken), 1, "smoke test failed");
    assert!(said.contains("cannot be built from source here"), "{said}");
    assert!(no_cc.versions().iter().all(|v| !v.starts_with(char::is_alphanumeric)), "{:?}", no_cc.versions());
}

/// The cache with each manifest's signature annotation removed (and the index updated), as
/// a tampering middleman would serve it.
fn strip_signatures(cache: &Path) -> PathBuf {
    let copy = cache.with_file_name("unsigned");
    ok(Command::new("cp").arg("-r").arg(cache).arg(&copy));
    let index_file = copy.join("index.json");
    let mut index: serde_json::Value = serde_json::from_slice(&std::fs::read(&index_file).unwrap()).unwrap();
    for m in index["manifests"].as_array_mut().unwrap() {
        let old = copy.join("blobs/sha256").join(m["digest"].as_str().unwrap().trim_start_matches("sha256:"));
        let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&old).unwrap()).unwrap();
        manifest["annotations"].as_object_mut().unwrap().remove("dev.luaenv.signature");
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let digest = sha256_hex(&bytes);
        std::fs::write(copy.join("blobs/sha256").join(&digest), &bytes).unwrap();
        m["digest"] = format!("sha256:{digest}").into();
        m["size"] = bytes.len().into();
    }
    std::fs::write(&index_file, serde_json::to_vec(&index).unwrap()).unwrap();
    copy
}

fn sha256_hex(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m");
    std::fs::write(&file, bytes).unwrap();
    ok(Command::new("sha256sum").arg(&file)).split_whitespace().next().unwrap().to_string()
}

#[test]
fn the_local_build_cache_serves_another_root_relocated() {
    let fixtures = fixtures_or_skip!("the_local_build_cache_serves_another_root_relocated");
    let first = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    ok(first.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url]));
    // Another root (a path with a space) sharing the first one's cache folder.
    let second = Puller::new();
    let out = run(second.luaenv().env("LUAENV_CACHE_DIR", first.cache()).args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("restored from the build cache"), "{}", stderr(&out));
    let prefix = second.prefix("5.4.7");
    let said = ok(Command::new(prefix.join("bin/lua")).args(["-e", "print(package.path)"]).env_remove("LUA_PATH"));
    assert!(said.starts_with(&format!("{}/share/lua/5.4/?.lua;", prefix.display())), "{said}");
    assert_eq!(naming(&prefix, &first.root()), "", "files naming the first root");
}

#[test]
fn a_cross_build_is_pulled_by_a_machine_that_cannot_build_it() {
    let fixtures = fixtures_or_skip!("a_cross_build_is_pulled_by_a_machine_that_cannot_build_it");
    if cross_tools("a_cross_build_is_pulled_by_a_machine_that_cannot_build_it").is_none() {
        return;
    }
    let target = "aarch64-unknown-linux-gnu";
    let name = format!("5.4.7-{target}");
    let builder = Env::new();
    let mirror = Server::serve(&fixtures.join("mirror"));
    ok(builder.luaenv().args(["install", "5.4.7", "--no-rocks", "--target", target, "--mirror", &mirror.url]));
    let key = builder.dir.path().join("k");
    ok(builder.luaenv().args(["cache", "keygen"]).arg(&key));
    let cache = builder.dir.path().join("cache folder");
    ok(builder.luaenv().args(["cache", "push", &name, "--to"]).arg(&cache).arg("--sign").arg(&key));

    // No cross compiler (no compiler at all) here, but qemu to smoke-test what is pulled.
    let puller = Puller::new();
    let qemu = ok(Command::new("sh").args(["-c", "command -v qemu-aarch64"]));
    std::os::unix::fs::symlink(qemu.trim(), puller.no_cc.join("qemu-aarch64")).unwrap();
    ok(puller.luaenv().args(["cache", "trust"]).arg(key.with_extension("pub")));
    let out = run(puller.luaenv_without_cc().args(["install", "5.4.7", "--no-rocks", "--target", target, "--mirror", &mirror.url, "--build-cache"]).arg(&cache));
    assert!(out.status.success() && stderr(&out).contains("pulled from"), "{}", stderr(&out));
    let prefix = puller.prefix(&name);
    let said = ok(Command::new(qemu.trim()).arg("-L").arg("/usr/aarch64-linux-gnu").arg(prefix.join("bin/lua")).args(["-e", "print(package.path)"]));
    assert!(said.starts_with(&format!("{}/share/lua/5.4/?.lua;", prefix.display())), "{said}");
    assert_eq!(naming(&prefix, &builder.root()), "");
}
