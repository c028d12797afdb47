//! Link settings. Every `lua` call goes through a shim, so its start-up is what we optimize:
//! - both binaries are non-PIE: no start-up relocations;
//! - `luaenv-shim` is statically linked when the C library's static archives are installed
//!   (glibc's `libc.a`): no dynamic loader at all. rustc links std's system libraries with
//!   `-Bdynamic`, so a folder of tiny linker scripts named like the shared libraries
//!   (`libc.so` → `libc.a`, `libgcc_s.so` → `libgcc_eh.a`) makes those resolve statically.
//! - with musl installed (Debian's musl-tools), `luaenv-shim` links musl's `libc.a` instead of
//!   glibc's: glibc probes CPU features with CPUID at start-up, and in a VM each CPUID traps to
//!   the hypervisor, 0.33 ms per call here, more than the whole shim budget (0.3 ms); musl
//!   starts in a few µs. std for the gnu target needs only two glibc-only symbols, given by a
//!   tiny C file (below), and the shim takes its arguments from `main` (std reads them from
//!   glibc's `.init_array` extension).
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
        let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
        let scripts = out.join("static-libs");
        let musl = (std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64")).then(|| musl_stubs(&out)).flatten();
        write_link_scripts(&scripts, musl.is_some());
        println!("cargo:rustc-link-arg-bin=luaenv-shim=-static");
        println!("cargo:rustc-link-arg-bin=luaenv-shim=-L{}", scripts.display());
        if let Some(stubs) = musl {
            println!("cargo:rustc-link-arg-bin=luaenv-shim=-specs={MUSL}/musl-gcc.specs");
            println!("cargo:rustc-link-arg-bin=luaenv-shim=-Wl,--no-dynamic-linker");
            println!("cargo:rustc-link-arg-bin=luaenv-shim={}", stubs.display());
        }
    }
}

const MUSL: &str = "/usr/lib/x86_64-linux-musl";

/// What std for the gnu target asks of glibc that musl lacks: the version (std only compares
/// it to choose code paths musl supports too) and the unwinder's fast lookup (-1: "not
/// found", so it falls back to `dl_iterate_phdr`). Compiled with musl's headers; None (glibc
/// is used) when musl is not installed or this fails.
fn musl_stubs(out: &Path) -> Option<PathBuf> {
    if !Path::new(MUSL).join("libc.a").is_file() || !Path::new(MUSL).join("musl-gcc.specs").is_file() {
        return None;
    }
    let source = out.join("musl-stubs.c");
    let object = out.join("musl-stubs.o");
    std::fs::write(
        &source,
        "const char *gnu_get_libc_version(void) { return \"2.36\"; }\n\
         struct dl_find_object;\n\
         int _dl_find_object(void *pc, struct dl_find_object *found) { (void)pc; (void)found; return -1; }\n",
    )
    .ok()?;
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = Command::new(cc).arg(format!("-specs={MUSL}/musl-gcc.specs")).args(["-O2", "-c"]).arg(&source).arg("-o").arg(&object).status();
    built.is_ok_and(|s| s.success()).then_some(object)
}

/// Whether the C compiler that links can find `libc.a` (it prints the bare name when not).
fn has_static_libc() -> bool {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    Command::new(cc)
        .arg("-print-file-name=libc.a")
        .output()
        .is_ok_and(|o| o.status.success() && Path::new(String::from_utf8_lossy(&o.stdout).trim()).is_absolute())
}

/// `lib<name>.so` linker scripts that pull in the static archives instead (musl's by full
/// path: its specs file replaces the compiler's library folders).
fn write_link_scripts(dir: &Path, musl: bool) {
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let gcc_lib = |name: &str| match musl {
        true => Command::new(&cc).arg(format!("-print-file-name={name}")).output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or(name.into()),
        false => name.to_string(),
    };
    let libc_lib = |name: &str| if musl { format!("{MUSL}/{name}") } else { name.to_string() };
    let (eh, gcc) = (gcc_lib("libgcc_eh.a"), gcc_lib("libgcc.a"));
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("libgcc_s.so"), format!("INPUT({eh})\n")).unwrap();
    std::fs::write(dir.join("libc.so"), format!("GROUP({} {eh} {gcc})\n", libc_lib("libc.a"))).unwrap();
    for lib in ["pthread", "m", "dl", "rt", "util"] {
        std::fs::write(dir.join(format!("lib{lib}.so")), format!("INPUT({})\n", libc_lib(&format!("lib{lib}.a")))).unwrap();
    }
}
