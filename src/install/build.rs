//! Build: compile an unpacked PUC Lua tree with the `cc` crate, every object in parallel,
//! into a static `liblua.a` and the `lua` and `luac` programs linked against it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::{Context as _, Result, bail};

use crate::version::Version;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compat {
    None,
    Default,
    All,
}

/// Everything about a build that changes its output (all of it goes into the build cache key).
#[derive(Debug, Clone, serde::Serialize)]
pub struct BuildOptions {
    pub compat: Compat,
    pub readline: bool,
    #[serde(rename = "static")]
    pub static_link: bool,
    pub target: String,
    #[serde(skip)]
    pub jobs: usize,
}

impl BuildOptions {
    /// The defaults of `luaenv install` on this machine.
    pub fn for_host() -> BuildOptions {
        BuildOptions {
            compat: Compat::Default,
            readline: false,
            static_link: false,
            target: host_triple(),
            jobs: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
        }
    }
}

/// The C toolchain for one target, found through `cc`.
pub struct Toolchain {
    pub target: String,
    pub host: String,
    /// `cc --version`'s first line: part of the receipt and the cache key.
    pub compiler: String,
    pub(crate) base: cc::Build,
}

/// The triple of the machine luaenv runs on.
pub fn host_triple() -> String {
    let arch = std::env::consts::ARCH;
    match std::env::consts::OS {
        "macos" => format!("{arch}-apple-darwin"),
        os => format!("{arch}-unknown-{os}-gnu"),
    }
}

impl Toolchain {
    /// Finds the compiler for `target`; fails with the fix when there is none.
    pub fn detect(target: &str, out_dir: &Path) -> Result<Toolchain> {
        let host = host_triple();
        let mut base = cc::Build::new();
        base.target(target)
            .host(&host)
            .opt_level(2)
            .debug(false)
            .out_dir(out_dir)
            .cargo_metadata(false)
            .cargo_warnings(false)
            .cargo_output(false)
            .emit_rerun_if_env_changed(false)
            .inherit_rustflags(false)
            .warnings(false)
            // cc's defaults add -ffunction-sections/-fdata-sections, which only slow the
            // assembler and linker here: Lua's own Makefile uses plain -O2.
            .no_default_flags(true)
            .flag("-O2")
            .flag("-fPIC")
            .flag("-pipe");
        let tool = base.try_get_compiler().map_err(|e| anyhow::anyhow!("no C compiler for {target}: {e}; install gcc or clang, or set CC"))?;
        let mut path = tool.path().to_path_buf();
        // For a triple it has no cross compiler name for, `cc` falls back to this machine's own
        // compiler (for i686, with a `-m32` that luaenv's own flags leave out), which would
        // build for this machine under the target's name: the target's own gcc is needed.
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let for_host = matches!(file.as_str(), "cc" | "gcc" | "clang" | "c99") || file.starts_with(&format!("{}-", host.replacen("-unknown-", "-", 1)));
        if target != host && for_host && !chose_compiler(target) {
            let prefix = target.replacen("-unknown-", "-", 1);
            path = PathBuf::from(format!("{prefix}-gcc"));
            base.compiler(&path).archiver(format!("{prefix}-ar")).ranlib(format!("{prefix}-ranlib"));
        }
        let output = Command::new(&path).arg("--version").output().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound && target != host {
                // Debian packages `aarch64-linux-gnu-gcc` as gcc-aarch64-linux-gnu.
                let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                let install = match debian_package(&file) {
                    Some(package) => format!("install a cross compiler (on Debian: `apt-get install {package}`)"),
                    None => format!("install a cross compiler for {target} (Debian has no package for `{file}`)"),
                };
                anyhow::anyhow!("no C compiler for {target}: `{}` is not on PATH; {install} or set CC_{}", path.display(), target.replace('-', "_"))
            } else if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!(
                    "no C compiler found: `{}` is not on PATH; install one (e.g. `apt-get install gcc`) or set CC to a compiler",
                    path.display()
                )
            } else {
                anyhow::anyhow!("cannot run the C compiler `{}`: {e}; check CC and PATH", path.display())
            }
        })?;
        let compiler = String::from_utf8_lossy(&output.stdout).lines().next().unwrap_or_default().trim().to_string();
        Ok(Toolchain { target: target.to_string(), host, compiler, base })
    }

    pub fn is_cross(&self) -> bool {
        self.target != self.host
    }

    /// `--static` only where the result is really a static executable: never for Windows
    /// (upstream's `make mingw` build is `lua.exe` with `luaXY.dll`) or macOS, and on a Linux
    /// target only when its C library comes as an archive (`libc.a`), which a test link shows.
    pub fn check_static(&self, scratch: &Path) -> Result<()> {
        check_static_target(&self.target)?;
        let probe = scratch.join(format!("static-probe-{}.c", std::process::id()));
        std::fs::write(&probe, "int main(void) { return 0; }\n")?;
        let mut cmd = self.base.try_get_compiler()?.to_command();
        cmd.arg(&probe).arg("-static").arg("-o").arg(probe.with_extension("out"));
        let linked = cmd.output().is_ok_and(|o| o.status.success());
        let _ = std::fs::remove_file(&probe);
        let _ = std::fs::remove_file(probe.with_extension("out"));
        if !linked {
            let hint = if self.target.ends_with("-gnu") { "install its static C library (on Debian: libc6-dev, or libc6-dev-<arch>-cross), " } else { "" };
            return Err(crate::error::usage(format!(
                "--static: a build for {} cannot be fully static here: `{}` cannot link a static program; {hint}use a musl target (e.g. --target x86_64-unknown-linux-musl, `apt-get install musl-tools`), or drop --static",
                self.target, self.compiler
            )));
        }
        Ok(())
    }
}

/// `--static` for a Windows target: Lua for Windows is `lua.exe` with its DLL, as upstream's
/// `make mingw` builds it, never one static program; macOS has no static C library.
pub fn check_static_target(target: &str) -> Result<()> {
    if is_windows(target) {
        return Err(crate::error::usage(format!(
            "--static: a build for {target} cannot be fully static (Lua for it is lua.exe with its DLL, as upstream's make mingw builds it); drop --static"
        )));
    }
    if target.contains("apple") {
        return Err(crate::error::usage(format!("--static: a build for {target} cannot be fully static (macOS has no static C library); drop --static")));
    }
    Ok(())
}

/// Whether the user named a C compiler for `target` (the variables `cc` reads).
fn chose_compiler(target: &str) -> bool {
    // `cc` ignores a value of blanks, and so does this.
    [format!("CC_{target}"), format!("CC_{}", target.replace('-', "_")), "TARGET_CC".into(), "CC".into()]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|v| !v.trim().is_empty()))
}

/// Windows targets (`x86_64-pc-windows-gnu`, `x86_64-w64-mingw32`), built as `make mingw` does.
pub fn is_windows(target: &str) -> bool {
    target.contains("windows") || target.contains("mingw")
}

/// The Debian package that provides a C compiler command, where Debian has one.
/// Package names cannot hold `_` (`x86_64-linux-gnu-gcc` is in `gcc-x86-64-linux-gnu`).
pub fn debian_package(compiler: &str) -> Option<String> {
    // musl-tools' `musl-gcc` targets this machine's CPU; `cc` looks for it, then for
    // `<arch>-linux-musl-gcc`, the name it reports when neither is there.
    if compiler == "musl-gcc" || compiler == format!("{}-linux-musl-gcc", std::env::consts::ARCH) {
        return Some("musl-tools".into());
    }
    // Named with CC: clang builds for any target itself.
    if matches!(compiler, "clang" | "gcc") {
        return Some(compiler.into());
    }
    if let Some(arch) = compiler.strip_suffix("-w64-mingw32-gcc") {
        return Some(format!("gcc-mingw-w64-{}", arch.replace('_', "-")));
    }
    let triple = compiler.strip_suffix("-gcc")?;
    // Debian ships no musl cross compilers (`aarch64-linux-musl-gcc`).
    if triple.contains("musl") || !triple.contains("-linux-") {
        return None;
    }
    Some(format!("gcc-{}", triple.replace('_', "-")))
}

/// What a build produced, all inside the source tree.
pub struct Built {
    pub liblua: PathBuf,
    pub programs: Vec<PathBuf>,
    /// Windows: the DLL's import library (`liblua54.dll.a`), which C modules link against.
    pub import_lib: Option<PathBuf>,
}

/// The object files of each part, read from the tree's own `src/Makefile`,
/// so each release gets exactly the files its authors list.
struct Parts {
    library: Vec<String>,
    lua: Vec<String>,
    luac: Vec<String>,
    default_compat: Vec<String>,
}

fn read_makefile(src: &Path) -> Result<Parts> {
    let path = src.join("Makefile");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{} is missing: this does not look like a Lua source tree", path.display()))?;
    let joined = text.replace("\\\n", " ");
    let var = |name: &str| -> Vec<String> {
        joined
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.trim_start().strip_prefix('=')))
            .map(|v| v.split_whitespace().filter(|w| w.ends_with(".o")).map(|w| w.trim_end_matches(".o").to_string()).collect())
            .unwrap_or_default()
    };
    let mut library = var("CORE_O");
    library.extend(var("LIB_O"));
    let default_compat = joined
        .lines()
        .find(|l| l.starts_with("CFLAGS="))
        .map(|l| l.split_whitespace().filter(|w| w.starts_with("-DLUA_COMPAT_")).map(|w| w[2..].to_string()).collect())
        .unwrap_or_default();
    let parts = Parts { library, lua: var("LUA_O"), luac: var("LUAC_O"), default_compat };
    if parts.library.is_empty() || parts.lua.is_empty() || parts.luac.is_empty() {
        bail!("cannot read the object lists from {}: not a Lua source tree luaenv understands", path.display());
    }
    Ok(parts)
}

fn compat_defines(series: &Version, compat: Compat, parts: &Parts) -> Result<Vec<String>> {
    let series = series.series();
    Ok(match (compat, series.as_str()) {
        // 5.1 sets its compatibility options in its own luaconf.h, not from its Makefile.
        (_, "5.1") if compat != Compat::Default => {
            return Err(crate::error::usage(format!(
                "Lua 5.1 has no --compat levels: its compatibility options are fixed in its luaconf.h; drop --compat {}",
                if compat == Compat::None { "none" } else { "all" }
            )));
        }
        // 5.5 makes `global` a reserved word unless LUA_COMPAT_GLOBAL is 1 (its default).
        (Compat::None, "5.5") => vec!["LUA_COMPAT_GLOBAL=0".into()],
        (Compat::None, _) => vec![],
        (Compat::Default, _) => parts.default_compat.clone(),
        (Compat::All, "5.2") => vec!["LUA_COMPAT_ALL".into()],
        (Compat::All, "5.3") => vec!["LUA_COMPAT_5_1".into(), "LUA_COMPAT_5_2".into()],
        (Compat::All, "5.4") => vec!["LUA_COMPAT_5_3".into(), "LUA_COMPAT_MATHLIB".into()],
        (Compat::All, "5.5") => vec!["LUA_COMPAT_MATHLIB".into()],
        (Compat::All, _) => parts.default_compat.clone(),
    })
}

/// Points the interpreter's default module paths (`LUA_ROOT`) at the prefix it will live in.
/// The patched file replaces the old one by a rename: a write never goes through a link.
fn patch_luaconf(src: &Path, prefix: &Path) -> Result<()> {
    let path = src.join("luaconf.h");
    let text = crate::fs::read_text_capped(&path, crate::limits::MAX_TEXT)?;
    let root = format!("{}/", prefix.display()).replace('\\', "\\\\").replace('"', "\\\"");
    let patched: Vec<String> = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if t.starts_with("#define LUA_ROOT") && t.contains("\"/usr/local/\"") {
                format!("#define LUA_ROOT\t\"{root}\"")
            } else {
                l.to_string()
            }
        })
        .collect();
    crate::fs::write_atomic(&path, (patched.join("\n") + "\n").as_bytes())
}

/// Whether the readline headers are there for this compiler.
fn has_readline(tc: &Toolchain, scratch: &Path) -> bool {
    let probe = scratch.join("readline-probe.c");
    if std::fs::write(&probe, "#include <stdio.h>\n#include <readline/readline.h>\n").is_err() {
        return false;
    }
    let Ok(tool) = tc.base.try_get_compiler() else { return false };
    let mut cmd = tool.to_command();
    cmd.arg("-E").arg(&probe).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    cmd.status().is_ok_and(|s| s.success())
}

/// What upstream's `make linux` turns on for this series, except readline, which is only
/// on request (`--readline`): 5.1's and 5.2's `LUA_USE_LINUX` would link it. 5.2's also
/// brings `%a` formats, hex `strtod` and `long long`; from 5.5 on, `LUA_USE_LINUX` itself is
/// given, which lets `lua` load readline at run time (`LUA_READLINELIB`) with no link to it.
/// A static `lua` cannot load C modules or libraries, so it gets no dlopen.
fn platform_defines(version: &Version, static_link: bool) -> Vec<&'static str> {
    let minor = version.parts.get(1).copied().unwrap_or(0);
    if minor >= 5 && !static_link {
        return vec!["LUA_USE_LINUX"];
    }
    let mut defines = vec!["LUA_USE_POSIX"];
    if !static_link {
        defines.push("LUA_USE_DLOPEN");
    }
    if minor == 2 {
        defines.extend(["LUA_USE_STRTODHEX", "LUA_USE_AFORMAT", "LUA_USE_LONGLONG"]);
    }
    defines
}

pub fn build_lua(tree: &Path, prefix: &Path, version: &Version, opts: &BuildOptions, tc: &Toolchain) -> Result<Built> {
    limit_jobs(opts.jobs);
    if is_windows(&tc.target) {
        return build_lua_mingw(tree, version, opts, tc);
    }
    let src = tree.join("src");
    let parts = read_makefile(&src)?;
    patch_luaconf(&src, prefix)?;

    let mut build = tc.base.clone();
    for define in platform_defines(version, opts.static_link) {
        build.define(define, None);
    }
    let readline = opts.readline && has_readline(tc, tree);
    if opts.readline && !readline {
        eprintln!("warning: readline headers not found (apt-get install libreadline-dev); building without readline");
    }
    if readline {
        build.define("LUA_USE_READLINE", None);
    }
    series_options(&mut build, version, opts, &parts)?;
    let compiler = build.try_get_compiler()?;
    compile_objects(&compiler, &src, &parts, opts.jobs, &|_| None)?;

    let obj = |names: &[String]| -> Vec<PathBuf> { names.iter().map(|n| src.join(format!("{n}.o"))).collect() };
    let liblua = src.join("liblua.a");
    let mut ar = build.try_get_archiver()?;
    ar.arg("crs").arg(&liblua).args(obj(&parts.library));
    run_parallel(vec![ar], 1)?;

    let link = |name: &str, objects: Vec<PathBuf>| -> Command {
        let mut cmd = compiler.to_command();
        cmd.arg("-o").arg(src.join(name)).args(objects).arg(&liblua);
        if opts.static_link {
            cmd.arg("-static");
        } else {
            // Export the Lua API so C modules loaded with require find it.
            cmd.arg("-Wl,-E").arg("-ldl");
        }
        cmd.arg("-lm");
        if readline {
            cmd.arg("-lreadline");
        }
        cmd
    };
    run_parallel(vec![link("lua", obj(&parts.lua)), link("luac", obj(&parts.luac))], opts.jobs)?;
    Ok(Built { liblua, programs: vec![src.join("lua"), src.join("luac")], import_lib: None })
}

/// A `lua` for this machine from a copy of the same source (`host_tree`, copied before the
/// target build touched it), for a cross prefix whose own programs cannot run here: LuaRocks
/// runs on it (and cross-compiles C rocks with the target's compiler). Its default module
/// paths are the cross prefix's, where LuaRocks' own modules are.
pub fn build_host_lua(host_tree: &Path, prefix: &Path, version: &Version, opts: &BuildOptions, host: &Toolchain) -> Result<PathBuf> {
    let host_opts = BuildOptions { compat: opts.compat, readline: false, static_link: false, target: host.target.clone(), jobs: opts.jobs };
    let built = build_lua(host_tree, prefix, version, &host_opts, host)?;
    Ok(built.programs[0].clone())
}

/// What the series asks of the compiler whatever the platform: C99 from 5.2 on, and the
/// `--compat` level's defines.
fn series_options(build: &mut cc::Build, version: &Version, opts: &BuildOptions, parts: &Parts) -> Result<()> {
    if version.parts.get(1).is_some_and(|&minor| minor >= 2) {
        build.std("gnu99");
    }
    for define in compat_defines(version, opts.compat, parts)? {
        match define.split_once('=') {
            Some((name, value)) => build.define(name, Some(value)),
            None => build.define(&define, None),
        };
    }
    Ok(())
}

/// Compiles every source file of the tree's Makefile, `jobs` at a time, counted on the live
/// line; biggest files first, so no core sits idle at the end waiting for lvm.c.
/// Where `faster` gives a file a faster command, that runs first, and the file is compiled
/// again as it is should it fail.
fn compile_objects(compiler: &cc::Tool, src: &Path, parts: &Parts, jobs: usize, faster: &dyn Fn(&str) -> Option<Command>) -> Result<()> {
    let mut sources: Vec<&String> = parts.library.iter().chain(&parts.lua).chain(&parts.luac).collect();
    sources.sort_by_key(|name| std::cmp::Reverse(std::fs::metadata(src.join(format!("{name}.c"))).map(|m| m.len()).unwrap_or(0)));
    let steps: Vec<Step> = sources
        .into_iter()
        .map(|name| match faster(name) {
            Some(command) => Step { command, otherwise: Some(compile_command(compiler, src, name, &[])) },
            None => Step::from(compile_command(compiler, src, name, &[])),
        })
        .collect();
    crate::install::progress::objects("compiling", steps.len());
    run_steps(steps, jobs)?;
    crate::install::progress::step("linking");
    Ok(())
}

/// `<compiler> <extra> -c src/<name>.c -o src/<name>.o`
fn compile_command(compiler: &cc::Tool, src: &Path, name: &str, extra: &[&str]) -> Command {
    let mut cmd = compiler.to_command();
    cmd.args(extra).arg("-c").arg(src.join(format!("{name}.c"))).arg("-o").arg(src.join(format!("{name}.o")));
    cmd
}

/// What the Windows build skips of `<windows.h>`, file by file; the objects come out the same
/// to the byte (`targets::the_windows_objects_are_the_same_without_what_they_skip_of_windows_h`
/// checks every series). Should some source need what is skipped, that file fails to compile
/// and is compiled again as it is.
/// - Every file: mingw-w64's `winnt.h` includes gcc's `<x86intrin.h>`, some 80,000 lines of
///   SSE to AVX-512 declarations that no Lua file uses (two thirds of what `lua.c` and
///   `loadlib.c` took to compile). Marking it as included skips it; a call to an intrinsic
///   could not link (they are inline functions, with no library behind them).
/// - `lua.c` includes `<windows.h>` beside `<io.h>` (for `_isatty`) and, in every series, uses
///   nothing of it: marking `<windows.h>` itself as included takes `lua.c` from 0.14 s to
///   0.09 s, what it takes natively. That attempt runs with warnings on and implicit function
///   declarations as errors (`-w` would hide them), so a call into the Windows API fails it
///   rather than compile against a guessed declaration.
const WINDOWS_SKIPS_INTRINSICS: &[&str] = &["-D_X86INTRIN_H_INCLUDED"];
const WINDOWS_SKIPS_WINDOWS_H: &[&str] = &["-D_X86INTRIN_H_INCLUDED", "-D_WINDOWS_", "-Werror=implicit-function-declaration"];
const USES_NOTHING_OF_WINDOWS_H: &[&str] = &["lua"];

/// `lua54.dll` for 5.4: the name upstream's `make mingw` gives the DLL of each series.
pub fn windows_dll_name(version: &Version) -> String {
    let part = |i: usize| version.parts.get(i).copied().unwrap_or(0);
    format!("lua{}{}.dll", part(0), part(1))
}

/// What upstream's `make mingw` does: every object compiled with `LUA_BUILD_AS_DLL` (luaconf.h
/// turns on the Windows options itself from `_WIN32`), the library linked as `luaXY.dll` (plus
/// its import library, for C modules), `lua.exe` linked against the DLL and stripped, and
/// `luac.exe` linked statically against `liblua.a`, since it needs Lua's internal symbols.
fn build_lua_mingw(tree: &Path, version: &Version, opts: &BuildOptions, tc: &Toolchain) -> Result<Built> {
    let src = tree.join("src");
    let parts = read_makefile(&src)?;
    let mut build = tc.base.clone();
    build.define("LUA_BUILD_AS_DLL", None);
    // lua.c and loadlib.c include <windows.h>; lean, it parses in half the time and gives
    // the same code (they use nothing it leaves out: LoadLibrary, GetProcAddress, consoles).
    build.define("WIN32_LEAN_AND_MEAN", None);
    if opts.readline {
        eprintln!("warning: --readline does not apply to a Windows build (upstream's make mingw has none); building without it");
    }
    series_options(&mut build, version, opts, &parts)?;
    let compiler = build.try_get_compiler()?;
    let with_warnings = build.clone().warnings(true).extra_warnings(false).try_get_compiler()?;
    let faster = |name: &str| {
        Some(match USES_NOTHING_OF_WINDOWS_H.contains(&name) {
            true => compile_command(&with_warnings, &src, name, WINDOWS_SKIPS_WINDOWS_H),
            false => compile_command(&compiler, &src, name, WINDOWS_SKIPS_INTRINSICS),
        })
    };
    compile_objects(&compiler, &src, &parts, opts.jobs, &faster)?;

    let obj = |names: &[String]| -> Vec<PathBuf> { names.iter().map(|n| src.join(format!("{n}.o"))).collect() };
    let (liblua, dll) = (src.join("liblua.a"), src.join(windows_dll_name(version)));
    let import_lib = src.join(format!("lib{}.a", windows_dll_name(version)));
    let mut ar = build.try_get_archiver()?;
    ar.arg("crs").arg(&liblua).args(obj(&parts.library));
    let mut link_dll = compiler.to_command();
    link_dll.arg("-shared").arg("-s").arg("-o").arg(&dll).args(obj(&parts.library));
    link_dll.arg(format!("-Wl,--out-implib,{}", import_lib.display()));
    run_parallel(vec![ar, link_dll], opts.jobs)?;

    let (lua, luac) = (src.join("lua.exe"), src.join("luac.exe"));
    let mut link_lua = compiler.to_command();
    link_lua.arg("-s").arg("-o").arg(&lua).args(obj(&parts.lua)).arg(&dll);
    let mut link_luac = compiler.to_command();
    link_luac.arg("-o").arg(&luac).args(obj(&parts.luac)).arg(&liblua);
    run_parallel(vec![link_lua, link_luac], opts.jobs)?;
    // Windows files need no execute bit, and without one `rehash` makes no shim that could
    // only fail on this machine.
    for file in [&lua, &luac, &dll] {
        std::fs::set_permissions(file, std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
    }
    Ok(Built { liblua, programs: vec![lua, luac, dll], import_lib: Some(import_lib) })
}

/// How many build commands may run at once in this process, across every `run_parallel`
/// (LuaJIT builds its host tools beside the target objects): `--jobs`.
static SLOTS: Mutex<(usize, usize)> = Mutex::new((usize::MAX, 0));
static SLOT_FREED: Condvar = Condvar::new();

/// Sets `--jobs` for every build command this process runs from now on.
pub fn limit_jobs(jobs: usize) {
    SLOTS.lock().unwrap_or_else(|e| e.into_inner()).0 = jobs.max(1);
}

/// One of the `--jobs` slots, given back when dropped.
struct Slot;

impl Slot {
    fn take() -> Slot {
        let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        while slots.1 >= slots.0 {
            slots = SLOT_FREED.wait(slots).unwrap_or_else(|e| e.into_inner());
        }
        slots.1 += 1;
        Slot
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        SLOTS.lock().unwrap_or_else(|e| e.into_inner()).1 -= 1;
        SLOT_FREED.notify_one();
    }
}

/// A build command, and the one to run instead should it fail (a faster way that some
/// toolchain may not take).
pub struct Step {
    command: Command,
    otherwise: Option<Command>,
}

impl From<Command> for Step {
    fn from(command: Command) -> Step {
        Step { command, otherwise: None }
    }
}

/// Runs commands on up to `jobs` threads, each holding one of the process's `--jobs` slots; the first failure stops the rest and is reported
/// with the command line and the compiler's last lines.
pub fn run_parallel(commands: Vec<Command>, jobs: usize) -> Result<()> {
    run_steps(commands.into_iter().map(Step::from).collect(), jobs)
}

fn run_steps(steps: Vec<Step>, jobs: usize) -> Result<()> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let steps: Vec<Mutex<Step>> = steps.into_iter().map(Mutex::new).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(steps.len()) {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    crate::install::cleanup::checkpoint();
                    let Some(step) = steps.get(i) else { break };
                    let mut step = step.lock().unwrap();
                    let slot = Slot::take();
                    crate::install::progress::command_started(&step.command);
                    let mut result = run_one(&mut step.command);
                    if let (Err(_), Some(otherwise)) = (&result, step.otherwise.as_mut()) {
                        crate::install::progress::command_started(otherwise);
                        result = run_one(otherwise);
                    }
                    drop(slot);
                    if result.is_ok() {
                        crate::install::progress::command_done(&step.command);
                    }
                    if let Err(e) = result {
                        failed.store(true, Ordering::Relaxed);
                        error.lock().unwrap().get_or_insert(e);
                    }
                }
            });
        }
    });
    match error.into_inner().unwrap() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn run_one(cmd: &mut Command) -> Result<()> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let output = cmd.output().map_err(|e| anyhow::anyhow!("cannot run `{program}`: {e}; is it installed and on PATH?"))?;
    if output.status.success() {
        return Ok(());
    }
    if matches!(std::os::unix::process::ExitStatusExt::signal(&output.status), Some(2 | 15)) {
        crate::install::cleanup::child_was_signalled();
    }
    let line: Vec<String> = std::iter::once(program.clone())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect();
    let text = String::from_utf8_lossy(&output.stderr);
    // A full disk is the cause, not the compiler or `ar`: say so first.
    if text.contains("No space left on device") {
        bail!("build failed: the disk is full (`{program}`: No space left on device); free space where luaenv builds (the cache, $LUAENV_CACHE_DIR) and try again; nothing was installed");
    }
    let tail: Vec<&str> = text.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect();
    bail!(
        "build failed: `{program}` exited with {}; nothing was installed\ncommand: {}\n{}",
        output.status,
        line.join(" "),
        tail.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::{debian_package, platform_defines};
    use crate::version::Version;

    #[test]
    fn a_cross_compiler_is_named_by_its_debian_package() {
        assert_eq!(debian_package("aarch64-linux-gnu-gcc").as_deref(), Some("gcc-aarch64-linux-gnu"));
        assert_eq!(debian_package("riscv64-linux-gnu-gcc").as_deref(), Some("gcc-riscv64-linux-gnu"));
        assert_eq!(debian_package("x86_64-linux-gnu-gcc").as_deref(), Some("gcc-x86-64-linux-gnu"));
        assert_eq!(debian_package("x86_64-w64-mingw32-gcc").as_deref(), Some("gcc-mingw-w64-x86-64"));
        assert_eq!(debian_package("i686-w64-mingw32-gcc").as_deref(), Some("gcc-mingw-w64-i686"));
        assert_eq!(debian_package("musl-gcc").as_deref(), Some("musl-tools"));
        assert_eq!(debian_package(&format!("{}-linux-musl-gcc", std::env::consts::ARCH)).as_deref(), Some("musl-tools"));
        assert_eq!(debian_package("mips-linux-musl-gcc"), None);
        assert_eq!(debian_package("cc"), None);
        assert_eq!(debian_package("clang").as_deref(), Some("clang"));
    }

    #[test]
    fn each_series_gets_what_make_linux_turns_on_but_readline() {
        let v = |s| Version::parse(s).unwrap();
        assert_eq!(platform_defines(&v("5.1.5"), false), ["LUA_USE_POSIX", "LUA_USE_DLOPEN"]);
        assert_eq!(platform_defines(&v("5.2.4"), false), ["LUA_USE_POSIX", "LUA_USE_DLOPEN", "LUA_USE_STRTODHEX", "LUA_USE_AFORMAT", "LUA_USE_LONGLONG"]);
        assert_eq!(platform_defines(&v("5.4.7"), false), ["LUA_USE_POSIX", "LUA_USE_DLOPEN"]);
        assert_eq!(platform_defines(&v("5.5.1"), false), ["LUA_USE_LINUX"]);
        assert_eq!(platform_defines(&v("5.5.1"), true), ["LUA_USE_POSIX"]);
    }
}
