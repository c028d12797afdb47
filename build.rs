//! Link settings. Every `lua` call goes through a shim, so its start-up is what we optimize:
//! - both binaries are non-PIE: no start-up relocations;
//! - `luaenv-shim` is statically linked when the C library's static archives are installed
//!   (glibc's `libc.a`): no dynamic loader at all. rustc links std's system libraries with
//!   `-Bdynamic`, so a folder of tiny linker scripts named like the shared libraries
//!   (`libc.so` → `libc.a`, `libgcc_s.so` → `libgcc_eh.a`) makes those resolve statically.
//!   Measured with benches/shim.sh.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    println!("cargo:rustc-link-arg-bins=-no-pie");
    let native = std::env::var("TARGET").ok() == std::env::var("HOST").ok();
    if native && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu") && has_static_libc() {
        let scripts = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("static-libs");
        write_link_scripts(&scripts);
        println!("cargo:rustc-link-arg-bin=luaenv-shim=-static");
        println!("cargo:rustc-link-arg-bin=luaenv-shim=-L{}", scripts.display());
    }
}

/// Whether the C compiler that links can find `libc.a` (it prints the bare name when not).
fn has_static_libc() -> bool {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    Command::new(cc)
        .arg("-print-file-name=libc.a")
        .output()
        .is_ok_and(|o| o.status.success() && Path::new(String::from_utf8_lossy(&o.stdout).trim()).is_absolute())
}

/// `lib<name>.so` linker scripts that pull in the static archives instead.
fn write_link_scripts(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("libgcc_s.so"), "INPUT(libgcc_eh.a)\n").unwrap();
    std::fs::write(dir.join("libc.so"), "GROUP(libc.a libgcc_eh.a libgcc.a)\n").unwrap();
    for lib in ["pthread", "m", "dl", "rt", "util"] {
        std::fs::write(dir.join(format!("lib{lib}.so")), format!("INPUT(lib{lib}.a)\n")).unwrap();
    }
}
