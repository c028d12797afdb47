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
        let path = tool.path().to_path_buf();
        let output = Command::new(&path).arg("--version").output().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound && target != host {
                // Debian packages `aarch64-linux-gnu-gcc` as gcc-aarch64-linux-gnu.
                let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
                let package = match file.strip_suffix("-gcc") {
                    Some(triple) => format!("gcc-{triple}"),
                    None => format!("a {target} C compiler"),
                };
                anyhow::anyhow!(
                    "no C compiler for {target}: `{}` is not on PATH; install a cross compiler (on Debian: `apt-get install {package}`) or set CC_{}",
                    path.display(),
                    target.replace('-', "_")
                )
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
}

/// What a build produced, all inside the source tree.
pub struct Built {
    pub liblua: PathBuf,
    pub programs: Vec<PathBuf>,
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
    let src = tree.join("src");
    let parts = read_makefile(&src)?;
    patch_luaconf(&src, prefix)?;

    let mut build = tc.base.clone();
    if version.parts.get(1).is_some_and(|&minor| minor >= 2) {
        build.std("gnu99");
    }
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
    for define in compat_defines(version, opts.compat, &parts)? {
        match define.split_once('=') {
            Some((name, value)) => build.define(name, Some(value)),
            None => build.define(&define, None),
        };
    }
    let compiler = build.try_get_compiler()?;

    let mut sources: Vec<&String> = parts.library.iter().chain(&parts.lua).chain(&parts.luac).collect();
    // Biggest files first, so no core sits idle at the end waiting for lvm.c.
    sources.sort_by_key(|name| std::cmp::Reverse(std::fs::metadata(src.join(format!("{name}.c"))).map(|m| m.len()).unwrap_or(0)));
    let jobs: Vec<Command> = sources
        .iter()
        .map(|name| {
            let mut cmd = compiler.to_command();
            cmd.arg("-c").arg(src.join(format!("{name}.c"))).arg("-o").arg(src.join(format!("{name}.o")));
            cmd
        })
        .collect();
    crate::install::progress::objects("compiling", jobs.len());
    run_parallel(jobs, opts.jobs)?;
    crate::install::progress::step("linking");

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
    Ok(Built { liblua, programs: vec![src.join("lua"), src.join("luac")] })
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

/// Runs commands on up to `jobs` threads, each holding one of the process's `--jobs` slots; the first failure stops the rest and is reported
/// with the command line and the compiler's last lines.
pub fn run_parallel(commands: Vec<Command>, jobs: usize) -> Result<()> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let error: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    let commands: Vec<Mutex<Command>> = commands.into_iter().map(Mutex::new).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1).min(commands.len()) {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(cmd) = commands.get(i) else { break };
                    let mut cmd = cmd.lock().unwrap();
                    let slot = Slot::take();
                    crate::install::progress::command_started(&cmd);
                    let result = run_one(&mut cmd);
                    drop(slot);
                    if result.is_ok() {
                        crate::install::progress::command_done(&cmd);
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
    use super::platform_defines;
    use crate::version::Version;

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
