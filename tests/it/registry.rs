//! Build caches in a real OCI registry: Debian's docker-registry (CNCF distribution) on
//! loopback, with TLS from a CA the test makes and htpasswd auth. A builder pushes signed
//! builds; a machine with no C compiler, at a path with a space, installs them.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Env, Server, cc_with_pkg_config, fails, fixtures_or_skip, ok, run, stderr};

#[path = "../../src/buildcache/oci/test_registry.rs"]
mod test_registry;
use test_registry::TestRegistry;

const OPENRESTY: &str = "openresty-2.1-20251030";

/// Skips (one line) when docker-registry, htpasswd or openssl is missing, unless required.
macro_rules! registry_or_skip {
    ($name:expr) => {
        if !test_registry::available($name) {
            return;
        }
    };
}

/// A root, cache and HOME under a folder whose path holds a space (`luaenv fleet XXXX/`).
fn env_with_space() -> Env {
    Env { dir: tempfile::Builder::new().prefix("luaenv fleet ").tempdir().unwrap() }
}

/// Points a luaenv command at the registry: its CA and a Docker config with these credentials.
fn registry_env(cmd: &mut Command, registry: &TestRegistry, docker_config: &Path) {
    cmd.env("SSL_CERT_FILE", &registry.ca).env("DOCKER_CONFIG", docker_config).env_remove("SSL_CERT_DIR").env_remove("LUAENV_TRUSTED_KEYS").env_remove("LUAENV_BUILD_CACHE");
}

/// A folder of links to the programs a machine without a C compiler still has (a shell, the
/// coreutils, pkg-config, the downloaders LuaRocks uses): PATH for "no compiler" runs.
fn bin_without_compiler(dir: &Path) -> PathBuf {
    let bin = dir.join("bin-without-cc");
    std::fs::create_dir_all(&bin).unwrap();
    let tools = [
        "sh", "bash", "env", "uname", "mkdir", "rm", "rmdir", "cp", "mv", "ln", "cat", "sed", "grep", "ls", "chmod", "find", "tar", "gzip", "gunzip", "unzip", "zip", "wget", "curl",
        "head", "tail", "tr", "sort", "dirname", "basename", "readlink", "realpath", "test", "touch", "id", "pwd", "which", "md5sum", "sha256sum", "pkg-config", "true", "false", "expr", "date",
    ];
    for tool in tools {
        if let Ok(out) = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output()
            && out.status.success()
        {
            let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if path.starts_with('/') {
                let _ = std::os::unix::fs::symlink(path, bin.join(tool));
            }
        }
    }
    for compiler in ["cc", "gcc", "c99", "clang", "tcc", "make"] {
        assert!(!bin.join(compiler).exists());
    }
    bin
}

/// The builder: installs, makes a key, pushes signed. Returns the key file.
fn builder_pushes(builder: &Env, registry: &TestRegistry, docker_config: &Path, names: &[&str]) -> PathBuf {
    let key = builder.dir.path().join("builders.key");
    ok(builder.luaenv().args(["cache", "keygen"]).arg(&key));
    // A signing key is never overwritten, and only a minisign public key is trusted.
    fails(builder.luaenv().args(["cache", "keygen"]).arg(&key), 2, "already exists");
    fails(builder.luaenv().args(["cache", "trust"]).arg(&key), 2, "is not a minisign public key");
    let mut push = builder.luaenv();
    push.args(["cache", "push"]).args(names).args(["--to", &registry.url("luaenv/builds"), "--sign"]).arg(&key);
    registry_env(&mut push, registry, docker_config);
    ok(&mut push);
    key
}

/// `grep -r` for the builder's root in a prefix: the files that still name it.
fn files_naming(prefix: &Path, root: &Path) -> String {
    let out = run(Command::new("grep").arg("-rlF").arg(root.as_os_str()).arg(prefix));
    assert!(out.status.code() == Some(0) || out.status.code() == Some(1), "grep failed: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_machine_without_a_compiler_installs_signed_builds_from_a_real_registry() {
    let fixtures = fixtures_or_skip!("a_machine_without_a_compiler_installs_signed_builds_from_a_real_registry");
    registry_or_skip!("a_machine_without_a_compiler_installs_signed_builds_from_a_real_registry");
    let registry = TestRegistry::start("ci", "fleet-pass");
    let docker_config = registry.docker_config("docker", "ci", "fleet-pass");
    let server = Server::serve(&fixtures.join("mirror"));
    let rocks = fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz");

    let builder = Env::new();
    ok(builder.luaenv().args(["install", "5.4.7", "--mirror", &server.url, "--rocks", "3.8.0", "--rocks-from"]).arg(&rocks));
    ok(builder.luaenv().args(["install", OPENRESTY, "--no-rocks", "--mirror", &server.url]));
    let key = builder_pushes(&builder, &registry, &docker_config, &["5.4.7", OPENRESTY]);

    // The fleet machine: a root under a path with a space, and no C compiler on PATH.
    let machine = env_with_space();
    let no_cc = bin_without_compiler(machine.dir.path());
    ok(machine.luaenv().args(["cache", "trust"]).arg(key.with_extension("key.pub")));
    for (name, extra) in [("5.4.7", vec!["--rocks", "3.8.0", "--rocks-from", rocks.to_str().unwrap()]), (OPENRESTY, vec!["--no-rocks"])] {
        let mut install = machine.luaenv();
        install.args(["install", name, "--mirror", &server.url]).args(&extra).args(["--build-cache", &registry.url("luaenv/builds")]).env("PATH", &no_cc);
        registry_env(&mut install, &registry, &docker_config);
        ok(&mut install);
    }

    let prefix = machine.prefix("5.4.7");
    let receipt = std::fs::read_to_string(prefix.join("luaenv-receipt.json")).unwrap();
    assert!(receipt.contains(&registry.url("luaenv/builds")), "the receipt does not say where the build came from: {receipt}");
    // lua runs, and its default package.path names the new prefix.
    let said = ok(machine.shim("lua").args(["-e", "print(package.path) print(package.cpath)"]).env("LUAENV_VERSION", "5.4.7").env("PATH", &no_cc));
    assert!(said.contains(&format!("{}/share/lua/5.4/?.lua", prefix.display())), "{said}");
    assert!(said.contains(&format!("{}/lib/lua/5.4/?.so", prefix.display())), "{said}");
    // The luarocks shim runs, and LuaRocks knows the new prefix.
    let said = ok(machine.shim("luarocks").args(["config", "variables.LUA_DIR"]).env("LUAENV_VERSION", "5.4.7").env("PATH", &no_cc));
    assert_eq!(said.trim(), prefix.display().to_string());
    assert!(ok(machine.shim("luarocks").arg("--version").env("LUAENV_VERSION", "5.4.7").env("PATH", &no_cc)).contains("3.8.0"));
    // A C module built (on another machine, with a compiler) against the relocated lua.pc loads.
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("twice.c"),
        "#include \"lua.h\"\n#include \"lauxlib.h\"\nstatic int twice(lua_State *L) { lua_pushinteger(L, 2 * luaL_checkinteger(L, 1)); return 1; }\nint luaopen_twice(lua_State *L) { lua_pushcfunction(L, twice); return 1; }\n",
    )
    .unwrap();
    // lua.pc's prefix holds a space, escaped as make and `eval` read it.
    let (module, source) = (work.path().join("twice.so"), work.path().join("twice.c"));
    cc_with_pkg_config(&prefix.join("lib/pkgconfig"), "--cflags lua", &["-shared".as_ref(), "-fPIC".as_ref(), "-o".as_ref(), module.as_os_str(), source.as_os_str()]);
    let code = format!("package.cpath = '{}/?.so' print(require('twice')(21))", work.path().display());
    assert_eq!(ok(machine.shim("lua").args(["-e", &code]).env("LUAENV_VERSION", "5.4.7").env("PATH", &no_cc)).trim(), "42");
    // OpenResty's LuaJIT: the JIT runs, and jit.v (from the relocated share/) loads.
    let said = ok(machine.shim("luajit").args(["-jv", "-e", "for i = 1, 200 do end print(jit.version, jit.status())"]).env("LUAENV_VERSION", OPENRESTY).env("PATH", &no_cc));
    assert!(said.contains("LuaJIT 2.1") && said.contains("true"), "{said}");
    // No file of either prefix names the builder's root.
    for name in ["5.4.7", OPENRESTY] {
        assert_eq!(files_naming(&machine.prefix(name), &builder.root()), "", "{name} still names the builder's root");
    }
}

#[test]
fn a_registry_build_that_is_untrusted_changed_or_behind_a_wrong_password_is_refused() {
    let fixtures = fixtures_or_skip!("a_registry_build_that_is_untrusted_changed_or_behind_a_wrong_password_is_refused");
    registry_or_skip!("a_registry_build_that_is_untrusted_changed_or_behind_a_wrong_password_is_refused");
    let registry = TestRegistry::start("ci", "right-pass");
    let good_config = registry.docker_config("good", "ci", "right-pass");
    let server = Server::serve(&fixtures.join("mirror"));
    let builder = Env::new();
    ok(builder.luaenv().args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url]));

    // A wrong password: one clear line, at once, naming the registry and the config file.
    let wrong_config = registry.docker_config("wrong", "ci", "wrong-pass");
    let key = builder.dir.path().join("builders.key");
    ok(builder.luaenv().args(["cache", "keygen"]).arg(&key));
    let mut push = builder.luaenv();
    push.args(["cache", "push", "5.4.7", "--to", &registry.url("luaenv/builds"), "--sign"]).arg(&key);
    registry_env(&mut push, &registry, &wrong_config);
    let line = fails(&mut push, 1, &format!("the registry {} refused the credentials from {}", registry.host(), wrong_config.join("config.json").display()));
    assert!(line.contains("docker login") && !line.contains("wrong-pass"), "{line}");
    // No credentials at all: the line says how to log in.
    let mut push = builder.luaenv();
    push.args(["cache", "push", "5.4.7", "--to", &registry.url("luaenv/builds"), "--sign"]).arg(&key);
    registry_env(&mut push, &registry, &builder.dir.path().join("no-docker-config"));
    fails(&mut push, 1, "asks for credentials (401)");

    // The right password through a credential helper (credHelpers), as docker-credential-* work.
    let helpers = builder.dir.path().join("helpers");
    std::fs::create_dir_all(&helpers).unwrap();
    let helper = helpers.join("docker-credential-luaenvtest");
    std::fs::write(&helper, format!("#!/bin/sh\nread host\n[ \"$host\" = \"{}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\necho '{{\"ServerURL\":\"'$host'\",\"Username\":\"ci\",\"Secret\":\"right-pass\"}}'\n", registry.host())).unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let helper_config = builder.dir.path().join("helper-config");
    std::fs::create_dir_all(&helper_config).unwrap();
    std::fs::write(helper_config.join("config.json"), format!("{{\"credHelpers\":{{\"{}\":\"luaenvtest\"}}}}", registry.host())).unwrap();
    let mut push = builder.luaenv();
    push.args(["cache", "push", "5.4.7", "--to", &registry.url("luaenv/builds"), "--sign"]).arg(&key);
    registry_env(&mut push, &registry, &helper_config);
    push.env("PATH", format!("{}:{}", helpers.display(), std::env::var("PATH").unwrap()));
    ok(&mut push);

    // skopeo, the containers' own tool, copies the build out of the registry into an OCI
    // layout folder, and that folder is a build cache a machine installs from.
    let copied = copied_with_skopeo(&registry, "ci:right-pass");
    // A team checks a build by hand with the minisign tool: the signature in the manifest
    // is over the config blob, which names the layer's digest.
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(copied.join("index.json")).unwrap()).unwrap();
    let blob = |digest: &str| copied.join("blobs/sha256").join(digest.strip_prefix("sha256:").unwrap());
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(blob(index["manifests"][0]["digest"].as_str().unwrap())).unwrap()).unwrap();
    let config = blob(manifest["config"]["digest"].as_str().unwrap());
    let signature = builder.dir.path().join("config.minisig");
    std::fs::write(&signature, manifest["annotations"]["dev.luaenv.signature"].as_str().unwrap()).unwrap();
    ok(Command::new("minisign").args(["-V", "-p"]).arg(key.with_extension("key.pub")).arg("-m").arg(&config).arg("-x").arg(&signature));
    let config_text = std::fs::read_to_string(&config).unwrap();
    assert!(config_text.contains(manifest["layers"][0]["digest"].as_str().unwrap()), "the signed config names the layer");
    // (This machine trusts the key through $LUAENV_TRUSTED_KEYS, not `cache trust`.)
    // A listed key file that is missing is an error, not a silently smaller trust list.
    let from_copy = Env::new();
    let install_copy = |trusted: &str| {
        let mut cmd = from_copy.luaenv();
        cmd.args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url, "--build-cache"]).arg(&copied).env("PATH", bin_without_compiler(from_copy.dir.path()));
        cmd.env("LUAENV_TRUSTED_KEYS", trusted);
        cmd
    };
    let missing = builder.dir.path().join("missing.pub");
    fails(&mut install_copy(&format!("{}:{}", missing.display(), key.with_extension("key.pub").display())), 1, &format!("cannot read the public key {}", missing.display()));
    ok(&mut install_copy(&key.with_extension("key.pub").display().to_string()));
    assert!(from_copy.prefix("5.4.7").join("bin/lua").is_file());

    let install = |machine: &Env, docker_config: &Path| {
        let mut cmd = machine.luaenv();
        cmd.args(["install", "5.4.7", "--no-rocks", "--mirror", &server.url, "--build-cache", &registry.url("luaenv/builds")]).env("PATH", bin_without_compiler(machine.dir.path()));
        registry_env(&mut cmd, &registry, docker_config);
        cmd
    };

    // A machine that trusts another key refuses the build, and cannot compile: one line, nothing installed.
    let other = Env::new();
    let other_key = other.dir.path().join("other.key");
    ok(other.luaenv().args(["cache", "keygen"]).arg(&other_key));
    ok(other.luaenv().args(["cache", "trust"]).arg(other_key.with_extension("key.pub")));
    let line = fails(&mut install(&other, &good_config), 1, "does not trust");
    let signer = String::from_utf8_lossy(&std::fs::read(key.with_extension("key.pub")).unwrap()).into_owned();
    let signer_id = signer.lines().next().unwrap().rsplit(' ').next().unwrap().to_string();
    assert!(line.contains(&signer_id), "the line does not name the key that signed: {line}");
    assert!(other.versions_entries().iter().all(|e| e != "5.4.7"), "{:?}", other.versions_entries());

    // A wrong password on the installing machine: the same one line, nothing installed.
    let trusting = Env::new();
    ok(trusting.luaenv().args(["cache", "trust"]).arg(key.with_extension("key.pub")));
    fails(&mut install(&trusting, &wrong_config), 1, &format!("the registry {} refused the credentials", registry.host()));
    assert!(trusting.versions_entries().iter().all(|e| e != "5.4.7"));

    // A blob changed in the registry's storage is refused: the layer no longer has its digest.
    let layer = registry.blob_files().into_iter().max_by_key(|f| std::fs::metadata(f).unwrap().len()).unwrap();
    let mut bytes = std::fs::read(&layer).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&layer, bytes).unwrap();
    let digest = format!("sha256:{}", layer.parent().unwrap().file_name().unwrap().to_string_lossy());
    let line = fails(&mut install(&trusting, &good_config), 1, "was refused");
    assert!(line.contains(&format!("blob {digest}")) && line.contains("cannot be built from source here"), "{line}");
    assert!(trusting.versions_entries().iter().all(|e| e != "5.4.7"), "{:?}", trusting.versions_entries());
}

/// `skopeo copy docker://<registry>/luaenv/builds:<each tag> oci:<folder>:<tag>`: the folder.
fn copied_with_skopeo(registry: &TestRegistry, creds: &str) -> PathBuf {
    let certs = registry.dir.path().join("skopeo-certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&registry.ca, certs.join("ca.crt")).unwrap();
    let repository = format!("docker://{}/luaenv/builds", registry.host());
    let listed = ok(Command::new("skopeo").args(["--insecure-policy", "list-tags", "--cert-dir"]).arg(&certs).args(["--creds", creds, &repository]));
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let tags: Vec<&str> = listed["Tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert!(!tags.is_empty(), "{listed}");
    let folder = registry.dir.path().join("copied");
    for tag in tags {
        let mut copy = Command::new("skopeo");
        copy.args(["--insecure-policy", "copy", "--src-cert-dir"]).arg(&certs).args(["--src-creds", creds, &format!("{repository}:{tag}")]).arg(format!("oci:{}:{tag}", folder.display()));
        ok(&mut copy);
    }
    folder
}
