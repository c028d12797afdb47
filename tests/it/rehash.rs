//! Shims under races: every shim is a hard link to one binary kept in the root
//! (`libexec/luaenv-shim`), so no rehash, by any luaenv binary at any path or by a shim
//! itself, can leave a shim pointing at a path that disappears.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{BIN, Env, Server, fixtures_or_skip, ok, stderr, world_or_skip};

/// The small static binary `cargo build` makes next to luaenv.
const SHIM_BIN: &str = env!("CARGO_BIN_EXE_luaenv-shim");

fn shim_binary(root: &Path) -> PathBuf {
    root.join("libexec/luaenv-shim")
}

/// Every shim in `root`: a regular file (never a symlink) that is the root's shim binary.
fn assert_shims_are_links_to_the_binary(root: &Path) -> Vec<String> {
    let binary = std::fs::metadata(shim_binary(root)).expect("the root holds its shim binary");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(root.join("shims")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        assert!(meta.is_file(), "shims/{name} is not a regular file: {:?}", meta.file_type());
        assert_eq!((meta.dev(), meta.ino()), (binary.dev(), binary.ino()), "shims/{name} is not a hard link to libexec/luaenv-shim");
        names.push(name);
    }
    names
}

/// A rock whose build takes three seconds, with `building` present meanwhile, and which
/// installs a `slowrock-say` command.
fn write_slow_rock(dir: &Path, building: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("slowrock.lua"), "return 'slow but sure'\n").unwrap();
    std::fs::write(dir.join("say.lua"), "print(require('slowrock'))\n").unwrap();
    std::fs::write(
        dir.join("slowrock-1.0-1.rockspec"),
        format!("package = \"slowrock\"\nversion = \"1.0-1\"\nsource = {{ url = \"file:///nowhere/slowrock-1.0.tar.gz\" }}\n\
description = {{ summary = \"a rock that builds slowly\" }}\ndependencies = {{ \"lua >= 5.1\" }}\n\
build = {{ type = \"command\", build_command = \"touch '{b}' && sleep 3 && rm '{b}'\", install_command = \"true\",\n\
  install = {{ lua = {{ slowrock = \"slowrock.lua\" }}, bin = {{ [\"slowrock-say\"] = \"say.lua\" }} }} }}\n", b = building.display()),
    )
    .unwrap();
}

#[test]
fn a_slow_luarocks_make_through_the_shim_survives_rehashes_by_another_luaenv_binary() {
    let fixtures = fixtures_or_skip!("a_slow_luarocks_make_through_the_shim_survives_rehashes_by_another_luaenv_binary");
    let env = Env::new();
    let server = Server::serve(&fixtures.join("mirror"));
    ok(env.luaenv().args(["install", "5.1.5", "--mirror", &server.url, "--rocks", "3.8.0", "--rocks-from"]).arg(fixtures.join("local/luarocks-3.8.0-dfsg.tar.gz")));
    let root = env.root();
    assert_shims_are_links_to_the_binary(&root);

    // Another luaenv binary at another path: a copy with no luaenv-shim beside it, so its
    // rehash puts itself in the root as the shim binary; BIN's puts luaenv-shim back. Each
    // swap replaces the file every shim links to while `luarocks` runs from the old one; then
    // the `luarocks` shim, whose own file is gone, rehashes when `make` is done.
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("luaenv");
    std::fs::copy(BIN, &copy).unwrap();
    let rock = env.dir.path().join("slowrock");
    let building = env.dir.path().join("building");
    write_slow_rock(&rock, &building);
    let mut make = Command::new(root.join("shims/luarocks"));
    env.apply(&mut make);
    let mut make = make.args(["make", "slowrock-1.0-1.rockspec"]).current_dir(&rock).env("LUAENV_VERSION", "5.1.5").stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    while !building.exists() && make.try_wait().unwrap().is_none() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut rehashes = 0;
    while building.exists() {
        let binary = if rehashes % 2 == 0 { copy.as_path() } else { Path::new(BIN) };
        let mut rehash = Command::new(binary);
        env.apply(&mut rehash);
        ok(rehash.arg("rehash"));
        rehashes += 1;
    }
    let made = make.wait_with_output().unwrap();
    assert!(made.status.success(), "luarocks make failed: {}", stderr(&made));
    assert!(rehashes >= 2, "only {rehashes} rehash(es) while the rock was building");
    // The copy goes away, as a moved or upgraded luaenv does: nothing may depend on it.
    drop(elsewhere);

    // The shim's own rehash after `make` gave the rock's command a shim.
    let names = assert_shims_are_links_to_the_binary(&root);
    assert!(names.iter().any(|n| n == "slowrock-say"), "no shim for the rock's command: {names:?}");
    let shim = |name: &str| {
        let mut cmd = Command::new(root.join("shims").join(name));
        env.apply(&mut cmd);
        cmd.env("LUAENV_VERSION", "5.1.5");
        cmd
    };
    let said = |out: std::process::Output| format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(said(shim("lua").arg("-v").output().unwrap()).starts_with("Lua 5.1.5"));
    assert!(said(shim("luac").arg("-v").output().unwrap()).starts_with("Lua 5.1.5"));
    assert!(ok(shim("luarocks").arg("--version")).contains("3.8.0"));
    assert_eq!(ok(&mut shim("slowrock-say")).trim(), "slow but sure");
    for name in &names {
        let out = shim(name).arg("--help").output().unwrap_or_else(|e| panic!("shims/{name} cannot run: {e}"));
        assert!(!said(out).contains("No such file"), "shims/{name} does not run");
    }

    // The last rehash by BIN leaves its own small binary in the root.
    ok(env.luaenv().arg("rehash"));
    assert!(std::fs::read(shim_binary(&root)).unwrap() == std::fs::read(SHIM_BIN).unwrap(), "the root's shim binary is not luaenv-shim");
    assert_shims_are_links_to_the_binary(&root);
}

#[test]
fn doctor_reports_shims_that_do_not_resolve_to_the_shim_binary() {
    let env = Env::new();
    // One command is enough for shims; no Lua needs to be built.
    let bin = env.root().join("versions/5.4.7/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::write(bin.join("lua"), "#!/bin/sh\necho fake\n").unwrap();
    std::fs::set_permissions(bin.join("lua"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    ok(env.luaenv().arg("rehash"));
    assert_shims_are_links_to_the_binary(&env.root());
    let doctor = |env: &Env| {
        let out = env.luaenv().arg("doctor").output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(doctor(&env).contains("ok      shims match the installed commands"), "{}", doctor(&env));

    // The old way: a symlink to a luaenv binary that has since gone.
    let shim = env.root().join("shims/lua");
    std::fs::remove_file(&shim).unwrap();
    std::os::unix::fs::symlink(env.dir.path().join("gone/luaenv"), &shim).unwrap();
    let said = doctor(&env);
    let line = said.lines().position(|l| l.contains("do not resolve to luaenv's shim binary") && l.contains(": lua")).unwrap_or_else(|| panic!("{said}"));
    assert!(said.lines().nth(line).unwrap().starts_with("problem"), "{said}");
    assert!(said.lines().nth(line + 1).unwrap().contains("luaenv rehash"), "{said}");

    ok(env.luaenv().arg("rehash"));
    assert_shims_are_links_to_the_binary(&env.root());
    assert!(doctor(&env).contains("ok      shims match the installed commands"));
}

#[test]
fn the_shims_run_the_small_static_shim_binary() {
    let world = world_or_skip!("the_shims_run_the_small_static_shim_binary");
    let root = world.env.root();
    assert!(std::fs::read(shim_binary(&root)).unwrap() == std::fs::read(SHIM_BIN).unwrap(), "the root's shim binary is not luaenv-shim");
    assert!(assert_shims_are_links_to_the_binary(&root).iter().any(|n| n == "lua"));
    // Statically linked (no program interpreter) where the C library's static archive exists.
    let libc_a = ok(Command::new("cc").arg("-print-file-name=libc.a"));
    if Path::new(libc_a.trim()).is_absolute() {
        assert!(!has_interpreter(&std::fs::read(SHIM_BIN).unwrap()), "luaenv-shim is dynamically linked");
    }
    // With musl installed (x86_64), its C library, not glibc's, whose start-up costs more
    // than the shim's whole budget (build.rs): static glibc carries its banner string.
    if cfg!(target_arch = "x86_64") && Path::new("/usr/lib/x86_64-linux-musl/libc.a").is_file() {
        let bytes = std::fs::read(SHIM_BIN).unwrap();
        assert!(!bytes.windows(13).any(|w| w == b"GNU C Library"), "luaenv-shim links glibc although musl is installed");
    }
    // Run directly under its own name, it says what it is for.
    let line = crate::support::fails(&mut Command::new(SHIM_BIN), 2, "luaenv-shim runs under a command's name");
    assert!(line.contains("luaenv rehash"), "{line}");
}

/// Whether a 64-bit little-endian ELF file has a PT_INTERP program header.
fn has_interpreter(elf: &[u8]) -> bool {
    let word = |at: usize, n: usize| elf[at..at + n].iter().rev().fold(0u64, |acc, b| acc << 8 | u64::from(*b)) as usize;
    let (phoff, phentsize, phnum) = (word(0x20, 8), word(0x36, 2), word(0x38, 2));
    (0..phnum).any(|i| word(phoff + i * phentsize, 4) == 3)
}
