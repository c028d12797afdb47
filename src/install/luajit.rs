//! LuaJIT's build, done as its `src/Makefile` does it but without make: probe the target
//! through `lj_arch.h`, build the host tools (minilua, buildvm), let them generate the VM
//! (`lj_vm.S`) and the headers, then compile every object in parallel into
//! `libluajit.a` and `libluajit.so` (the objects are all -fPIC, so one set serves both,
//! where make compiles each file twice) and link `luajit`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::install::build::{BuildOptions, Toolchain, run_parallel};

/// What the build produced, inside the source tree.
pub struct BuiltJit {
    pub src: PathBuf,
    pub library: PathBuf,
    /// `libluajit.so`, whose SONAME is `libluajit-<abi>.so.<major>`; none for targets whose
    /// shared libraries are not ELF (Windows, macOS), which luaenv does not build yet.
    pub shared: Option<PathBuf>,
    pub luajit: PathBuf,
    pub versions: JitVersions,
    /// The folder under `share/` where this tree's interpreter looks for its `jit.*` modules
    /// (`luajit-2.1`, `luajit-2.0`, `luajit-2.1.0-beta3`), as its own `luaconf.h` says.
    pub module_dir: String,
    /// Windows: `lua51.dll` and its import library `libluajit-5.1.dll.a`, as `make
    /// TARGET_SYS=Windows` links them (`luajit.exe` loads the DLL).
    pub windows_dll: Option<(PathBuf, PathBuf)>,
}

/// The tree's own version numbers, as its top-level Makefile and `.relver` give them.
#[derive(Debug, PartialEq)]
pub struct JitVersions {
    /// `2.0`, `2.1`: `MMVERSION`, which names `include/luajit-<mm>`.
    pub major_minor: String,
    pub major: String,
    /// `5.1`: `ABIVER`, which names `libluajit-<abi>`.
    pub abi: String,
    /// `2.1.1761786044`: `VERSION`, which names `libluajit-<abi>.so.<version>` and is the `.pc`'s.
    pub full: String,
}

impl JitVersions {
    pub fn soname(&self) -> String {
        format!("libluajit-{}.so.{}", self.abi, self.major)
    }
}

/// `MAJVER`, `MINVER`, `ABIVER` (and, in trees before rolling releases, `RELVER` and
/// `PREREL`) of the top-level Makefile; `relver` is the rolling release from `.relver`.
/// The tree is hostile: every part must be a plain version word, as it names files.
fn jit_versions(makefile: &str, relver: &str) -> Option<JitVersions> {
    let var = |name: &str| {
        makefile.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.trim_start().strip_prefix('=')).map(|v| v.trim().to_string()))
    };
    let digits = |v: &str| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
    let major = var("MAJVER").filter(|v| digits(v))?;
    let minor = var("MINVER").filter(|v| digits(v))?;
    let abi = var("ABIVER").filter(|v| v.split('.').all(digits))?;
    let release = if relver.is_empty() { var("RELVER").filter(|v| digits(v)).unwrap_or_default() } else { relver.to_string() };
    let prerel = var("PREREL").filter(|v| v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')).unwrap_or_default();
    let major_minor = format!("{major}.{minor}");
    let full = if release.is_empty() { major_minor.clone() } else { format!("{major_minor}.{release}{prerel}") };
    Some(JitVersions { major_minor, major, abi, full })
}

/// The target, as LuaJIT's Makefile derives it from `lj_arch.h`'s macros.
struct Arch {
    /// `x64`, `arm64`: selects `vm_<arch>.dasc` and `LUAJIT_TARGET`.
    name: &'static str,
    dasc: &'static str,
    /// `TARGET_ARCH`: defines for the host tools, which must know the target.
    host_defines: Vec<String>,
    /// DynASM's `-D` flags.
    dasm: Vec<String>,
}

fn probe_arch(macros: &HashMap<String, String>) -> Result<Arch> {
    let has = |name: &str| macros.contains_key(name);
    let is = |name: &str, value: &str| macros.get(name).is_some_and(|v| v == value);
    let (name, mut host_defines) = if has("LJ_TARGET_X64") {
        ("x64", vec![])
    } else if has("LJ_TARGET_ARM64") {
        ("arm64", if has("__AARCH64EB__") { vec!["-D__AARCH64EB__=1".to_string()] } else { vec![] })
    } else {
        bail!("LuaJIT for this target is not supported by luaenv yet (x86_64 and aarch64 are)");
    };
    let mut dasm = vec![];
    dasm.push(if is("LJ_LE", "1") { "ENDIAN_LE" } else { "ENDIAN_BE" }.to_string());
    for (flag, macro_name) in [("P64", "LJ_ARCH_BITS"), ("JIT", "LJ_HASJIT"), ("FFI", "LJ_HASFFI"), ("DUALNUM", "LJ_DUALNUM")] {
        let on = if macro_name == "LJ_ARCH_BITS" { is(macro_name, "64") } else { is(macro_name, "1") };
        if on {
            dasm.push(flag.to_string());
        }
    }
    if is("LJ_ARCH_HASFPU", "1") {
        dasm.push("FPU".into());
        host_defines.push("-DLJ_ARCH_HASFPU=1".into());
    } else {
        host_defines.push("-DLJ_ARCH_HASFPU=0".into());
    }
    if is("LJ_ABI_SOFTFP", "1") {
        host_defines.push("-DLJ_ABI_SOFTFP=1".into());
    } else {
        dasm.push("HFABI".into());
        host_defines.push("-DLJ_ABI_SOFTFP=0".into());
    }
    if is("LJ_NO_UNWIND", "1") {
        dasm.push("NO_UNWIND".into());
        host_defines.push("-DLUAJIT_NO_UNWIND".into());
    }
    for (flag, macro_name) in [("PAUTH", "LJ_ABI_PAUTH"), ("BRANCH_TRACK", "LJ_ABI_BRANCH_TRACK"), ("SHADOW_STACK", "LJ_ABI_SHADOW_STACK")] {
        if is(macro_name, "1") {
            dasm.push(flag.into());
            host_defines.push(format!("-D{macro_name}=1"));
        }
    }
    dasm.push(format!("VER={}", macros.get("LJ_ARCH_VERSION").map(String::as_str).unwrap_or("")));
    // x64 without the two-slot frame layout (LJ_FR2) uses the x86 VM, as the Makefile does.
    let dasc = match name {
        "x64" if !is("LJ_FR2", "1") => "vm_x86.dasc",
        "x64" => "vm_x64.dasc",
        _ => "vm_arm64.dasc",
    };
    host_defines.push(format!("-DLUAJIT_TARGET=LUAJIT_ARCH_{name}"));
    Ok(Arch { name, dasc, host_defines, dasm })
}

/// `#define NAME VALUE` lines of the target compiler's `-E -dM lj_arch.h`.
fn arch_macros(target: &cc::Tool, src: &Path) -> Result<HashMap<String, String>> {
    let mut cmd = target.to_command();
    cmd.arg("-E").arg("-dM").arg(src.join("lj_arch.h"));
    let out = cmd.output().context("cannot run the C compiler to probe lj_arch.h")?;
    if !out.status.success() {
        bail!("the C compiler cannot read {}: {}", src.join("lj_arch.h").display(), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut words = l.strip_prefix("#define ")?.splitn(2, ' ');
            Some((words.next()?.to_string(), words.next().unwrap_or("").trim().to_string()))
        })
        .collect())
}

/// The folder under `<prefix>/share/` that the interpreter searches for `jit.*`, read from the
/// tree: the compiler expands `LUA_JPATH` of its `luaconf.h` (2.0 spells it `"/luajit-2.0/"`,
/// 2.1 `LUA_JROOT "/share/luajit-2.1"`), so every spelling gives what the binary will use.
/// The tree is hostile: the answer must be one plain folder name under the prefix's `share/`.
fn module_dir(target: &cc::Tool, src: &Path, scratch: &Path, prefix: &Path) -> Result<String> {
    let probe = scratch.join("jpath-probe.c");
    std::fs::write(&probe, "#include \"luaconf.h\"\nluaenv_jpath: LUA_JPATH\n")?;
    let mut cmd = target.to_command();
    cmd.arg("-E").arg("-P").arg("-I").arg(src).arg(&probe);
    let out = cmd.output().context("cannot run the C compiler to read LUA_JPATH from luaconf.h")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find_map(|l| l.trim_start().strip_prefix("luaenv_jpath:"));
    let Some(line) = line.filter(|_| out.status.success()) else {
        bail!("cannot read LUA_JPATH from {}: not a LuaJIT source tree luaenv understands", src.join("luaconf.h").display());
    };
    jpath_folder(&string_literals(line), prefix)
        .with_context(|| format!("{} puts the jit.* modules outside <prefix>/share/<folder>: not a LuaJIT source tree luaenv understands", src.join("luaconf.h").display()))
}

/// The concatenation of the C string literals on a line (`";" "/p" "/share"` → `;/p/share`).
fn string_literals(line: &str) -> String {
    line.split('"').skip(1).step_by(2).collect()
}

/// `;<prefix>/share/<folder>/?.lua` → `<folder>`, when `<folder>` is one plain name.
fn jpath_folder(jpath: &str, prefix: &Path) -> Option<String> {
    let rest = jpath.strip_prefix(';')?.strip_prefix(&format!("{}/share/", prefix.display()))?;
    let folder = rest.strip_suffix("/?.lua")?.trim_end_matches('/');
    let plain = !folder.is_empty() && folder != "." && folder != ".." && folder.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    plain.then(|| folder.to_string())
}

/// Whether the target compiler emits unwind tables by default (then LuaJIT uses them).
fn emits_unwind_tables(target: &cc::Tool, scratch: &Path) -> bool {
    let c = scratch.join("unwind-probe.c");
    let o = scratch.join("unwind-probe.o");
    if std::fs::write(&c, "extern void b(void);int a(void){b();return 0;}\n").is_err() {
        return false;
    }
    let mut cmd = target.to_command();
    cmd.arg("-c").arg(&c).arg("-o").arg(&o);
    let ok = cmd.output().is_ok_and(|o| o.status.success());
    let found = ok && std::fs::read(&o).is_ok_and(|b| b.windows(8).any(|w| w == b"eh_frame") || b.windows(13).any(|w| w == b"__unwind_info"));
    let _ = std::fs::remove_file(&o);
    found
}

/// Whether the compiler accepts a flag (the Makefile's `-fno-stack-protector` check).
fn accepts(tool: &cc::Tool, flag: &str, scratch: &Path) -> bool {
    let c = scratch.join("flag-probe.c");
    if std::fs::write(&c, "int x;\n").is_err() {
        return false;
    }
    let mut cmd = tool.to_command();
    cmd.arg(flag).arg("-c").arg(&c).arg("-o").arg(scratch.join("flag-probe.o"));
    cmd.output().is_ok_and(|o| o.status.success())
}

/// Headers that buildvm and genversion write.
const GENERATED: &[&str] = &["lj_bcdef.h", "lj_ffdef.h", "lj_libdef.h", "lj_recdef.h", "lj_folddef.h", "luajit.h"];

/// Whether a source file includes a generated header, directly or through local headers.
fn needs_generated(src: &Path, file: &Path, seen: &mut HashMap<PathBuf, bool>) -> bool {
    if let Some(&known) = seen.get(file) {
        return known;
    }
    seen.insert(file.to_path_buf(), false);
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let needs = text.lines().filter_map(|l| l.trim_start().strip_prefix("#include \"").and_then(|r| r.split('"').next())).any(|h| {
        GENERATED.contains(&h) || (src.join(h).is_file() && needs_generated(src, &src.join(h), seen))
    });
    seen.insert(file.to_path_buf(), needs);
    needs
}

/// Object names of a Makefile variable (`LJCORE_O= lj_gc.o …`), `$(VAR)` references expanded.
fn objects(makefile: &str, name: &str) -> Vec<String> {
    fn words(joined: &str, name: &str) -> Vec<String> {
        let value = joined.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.trim_start().strip_prefix('='))).unwrap_or_default();
        value
            .split_whitespace()
            .flat_map(|w| match w.strip_prefix("$(").and_then(|r| r.strip_suffix(')')) {
                Some(inner) if inner != name => words(joined, inner),
                _ => vec![w.to_string()],
            })
            .collect()
    }
    words(&makefile.replace("\\\n", " "), name)
        .into_iter()
        .filter_map(|w| w.strip_suffix(".o").map(str::to_string))
        .collect()
}

pub fn build_luajit(tree: &Path, prefix: &Path, opts: &BuildOptions, tc: &Toolchain, host: &Toolchain) -> Result<BuiltJit> {
    // The host tools build beside the target objects: both count against --jobs.
    crate::install::build::limit_jobs(opts.jobs);
    let src = tree.join("src");
    let makefile = std::fs::read_to_string(src.join("Makefile")).with_context(|| format!("{} is missing: not a LuaJIT source tree", src.join("Makefile").display()))?;
    if !src.join("luajit_rolling.h").is_file() && !src.join("luajit.h").is_file() {
        // PUC Lua's tree says which release it is.
        let lua_h = crate::fs::read_text_capped(&src.join("lua.h"), crate::limits::MAX_TEXT).ok();
        if let Some(found) = lua_h.as_deref().and_then(crate::install::verify::lua_h_version) {
            return Err(crate::error::usage(format!("the source is Lua {found} (its src/lua.h says so), not LuaJIT; install it as `luaenv install {found} --from …`")));
        }
        return Err(crate::error::usage("the source is not a LuaJIT tree (it has no src/luajit.h or src/luajit_rolling.h); give the tarball or folder of a LuaJIT release"));
    }
    let scratch = tree.join("luaenv-probe");
    std::fs::create_dir_all(&scratch)?;

    // The target compiler, with the Makefile's CCOPT and TARGET_XCFLAGS.
    let mut target = tc.base.clone();
    target
        .flag("-fomit-frame-pointer")
        .define("_FILE_OFFSET_BITS", Some("64"))
        .define("_LARGEFILE_SOURCE", None)
        .flag("-U_FORTIFY_SOURCE")
        // Default module paths under the prefix, as `make PREFIX=…` does.
        .define("LUA_ROOT", Some(format!("\"{}\"", prefix.display()).as_str()));
    let windows = crate::install::build::is_windows(&tc.target);
    if windows {
        // Windows builds are dynamic only (the Makefile's BUILDMODE): the API is the DLL's.
        target.define("LUA_BUILD_AS_DLL", None);
    }
    let probe = target.try_get_compiler()?;
    let macros = arch_macros(&probe, &src)?;
    let mut arch = probe_arch(&macros)?;
    if windows {
        windows_arch(&mut arch);
    }
    if accepts(&probe, "-fno-stack-protector", &scratch) {
        target.flag("-fno-stack-protector");
    }
    if !macros.contains_key("LJ_NO_UNWIND") && emits_unwind_tables(&probe, &scratch) {
        target.define("LUAJIT_UNWIND_EXTERNAL", None);
    }
    let target_cc = target.try_get_compiler()?;
    // On Windows the interpreter finds `jit.*` in `lua\jit` beside itself, not through LUA_JPATH.
    let module_dir = if windows { String::new() } else { module_dir(&target_cc, &src, &scratch, prefix)? };

    // Host tools: built for this machine, told about the target.
    let mut host_build = host.base.clone();
    host_build.flag("-fomit-frame-pointer").include(&src);
    for d in &arch.host_defines {
        host_build.flag(d);
    }
    if tc.is_cross() && !host.target.contains("linux") {
        host_build.define("LUAJIT_OS", Some("LUAJIT_OS_LINUX"));
    }
    if windows {
        // The Makefile's HOST_XCFLAGS when TARGET_SYS is Windows and the host is not.
        host_build.flag("-malign-double").define("LUAJIT_OS", Some("LUAJIT_OS_WINDOWS"));
    }
    let host_cc = host_build.try_get_compiler()?;
    let host_compile = |name: &str| {
        let mut cmd = host_cc.to_command();
        cmd.arg("-c").arg(src.join(format!("host/{name}.c"))).arg("-o").arg(src.join(format!("host/{name}.o")));
        cmd
    };
    let buildvm_parts = ["buildvm", "buildvm_asm", "buildvm_peobj", "buildvm_lib", "buildvm_fold"];
    let relver = std::fs::read_to_string(tree.join(".relver")).unwrap_or_default();
    let relver = relver.trim().chars().take_while(char::is_ascii_digit).collect::<String>();
    std::fs::write(src.join("luajit_relver.txt"), format!("{relver}\n"))?;
    let top_makefile = std::fs::read_to_string(tree.join("Makefile")).unwrap_or_default();
    let Some(versions) = jit_versions(&top_makefile, &relver) else {
        bail!("cannot read MAJVER, MINVER and ABIVER from {}: not a LuaJIT source tree luaenv understands", tree.join("Makefile").display());
    };
    let lib_sources: Vec<String> = objects(&makefile, "LJLIB_O").iter().map(|o| format!("{o}.c")).collect();

    // The host tools, one step after the other: minilua, DynASM (the VM's .dasc into
    // buildvm_arch.h) and genversion (luajit.h), buildvm, then buildvm's outputs.
    let host_tools = || -> Result<()> {
        run_parallel(vec![host_compile("minilua")], 1)?;
        let mut link_minilua = host_cc.to_command();
        link_minilua.arg("-o").arg(src.join("host/minilua")).arg(src.join("host/minilua.o")).arg("-lm");
        run_parallel(vec![link_minilua], 1)?;
        let minilua = src.join("host/minilua");
        let mut dynasm = Command::new(&minilua);
        dynasm.current_dir(&src).arg("../dynasm/dynasm.lua");
        for d in &arch.dasm {
            dynasm.arg("-D").arg(d);
        }
        dynasm.arg("-o").arg("host/buildvm_arch.h").arg(arch.dasc);
        let mut steps = vec![dynasm];
        if src.join("luajit_rolling.h").is_file() && src.join("host/genversion.lua").is_file() {
            let mut genversion = Command::new(&minilua);
            genversion.current_dir(&src).arg("host/genversion.lua");
            steps.push(genversion);
        }
        run_parallel(steps, 1)?;
        run_parallel(buildvm_parts.iter().map(|p| host_compile(p)).collect(), 1)?;
        let mut link_buildvm = host_cc.to_command();
        link_buildvm.arg("-o").arg(src.join("host/buildvm"));
        for p in buildvm_parts {
            link_buildvm.arg(src.join(format!("host/{p}.o")));
        }
        run_parallel(vec![link_buildvm], 1)?;
        let buildvm = src.join("host/buildvm");
        let generate = |mode: &str, out: &str, inputs: &[String]| {
            let mut cmd = Command::new(&buildvm);
            cmd.current_dir(&src).arg("-m").arg(mode).arg("-o").arg(out).args(inputs);
            cmd
        };
        run_parallel(
            vec![
                // Windows: buildvm writes the VM as a PE object itself (LJVM_MODE=peobj).
                if windows { generate("peobj", "lj_vm.o", &[]) } else { generate("elfasm", "lj_vm.S", &[]) },
                generate("bcdef", "lj_bcdef.h", &lib_sources),
                generate("ffdef", "lj_ffdef.h", &lib_sources),
                generate("libdef", "lj_libdef.h", &lib_sources),
                generate("recdef", "lj_recdef.h", &lib_sources),
                generate("vmdef", "jit/vmdef.lua", &lib_sources),
                generate("folddef", "lj_folddef.h", &["lj_opt_fold.c".to_string()]),
            ],
            1,
        )
    };

    let core = objects(&makefile, "LJCORE_O");
    if core.is_empty() {
        bail!("cannot read LJCORE_O from {}: not a LuaJIT source tree luaenv understands", src.join("Makefile").display());
    }
    let mut sources: Vec<(PathBuf, PathBuf)> = core.iter().map(|o| (src.join(format!("{o}.c")), src.join(format!("{o}.o")))).collect();
    sources.push((src.join("luajit.c"), src.join("luajit.o")));
    sources.sort_by_key(|(c, _)| std::cmp::Reverse(std::fs::metadata(c).map(|m| m.len()).unwrap_or(0)));
    let compile = |(c, o): &(PathBuf, PathBuf)| {
        let mut cmd = target_cc.to_command();
        if arch.name == "x64" && c.ends_with("lj_str_hash.c") {
            cmd.arg("-msse4.2");
        }
        cmd.arg("-c").arg(c).arg("-o").arg(o);
        cmd
    };
    // Most objects need nothing generated: they compile while the host tools are built.
    let mut includes = HashMap::new();
    let (late, early): (Vec<_>, Vec<_>) = sources.iter().partition(|(c, _)| needs_generated(&src, c, &mut includes));
    // Counted: the host tools' objects, the target's, and the VM's (lj_vm.S).
    crate::install::progress::objects("compiling", buildvm_parts.len() + 1 + sources.len() + 1);
    std::thread::scope(|scope| {
        let tools = scope.spawn(host_tools);
        let early = run_parallel(early.into_iter().map(compile).collect(), opts.jobs);
        let tools = tools.join().unwrap_or_else(|_| Err(anyhow::anyhow!("building LuaJIT's host tools failed")));
        tools.and(early)
    })?;
    let mut rest: Vec<Command> = late.into_iter().map(compile).collect();
    if !windows {
        rest.insert(0, compile(&(src.join("lj_vm.S"), src.join("lj_vm.o"))));
    }
    run_parallel(rest, opts.jobs)?;

    let library = src.join("libluajit.a");
    let mut ar = target.try_get_archiver()?;
    ar.arg("crs").arg(&library).arg(src.join("lj_vm.o"));
    for o in &core {
        ar.arg(src.join(format!("{o}.o")));
    }
    // The shared library as the Makefile's TARGET_XSHLDFLAGS and TARGET_ALIBS link it.
    let shared_lib = !tc.target.contains("windows") && !tc.target.contains("apple");
    let shared = src.join("libluajit.so");
    let mut link_shared = target_cc.to_command();
    link_shared.arg("-shared").arg("-fPIC").arg(format!("-Wl,-soname,{}", versions.soname())).arg("-o").arg(&shared).arg(src.join("lj_vm.o"));
    for o in &core {
        link_shared.arg(src.join(format!("{o}.o")));
    }
    link_shared.arg("-lm").arg("-ldl");
    if windows {
        run_parallel(vec![ar], 1)?;
        let _ = std::fs::remove_dir_all(&scratch);
        return link_windows(src, library, &core, versions, &target_cc, opts);
    }
    let luajit = src.join("luajit");
    let mut link = target_cc.to_command();
    link.arg("-o").arg(&luajit).arg(src.join("luajit.o")).arg(&library);
    if opts.static_link {
        link.arg("-static");
    } else {
        link.arg("-Wl,-E").arg("-ldl");
    }
    link.arg("-lm");
    crate::install::progress::step("linking");
    // `luajit` links the archive; the shared library links beside it.
    run_parallel(vec![ar], 1)?;
    let mut links = vec![link];
    if shared_lib {
        links.push(link_shared);
    }
    run_parallel(links, opts.jobs)?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(BuiltJit { src, library, shared: shared_lib.then_some(shared), luajit, versions, module_dir, windows_dll: None })
}

/// DynASM's `-D WIN` and the Windows x64 calling convention, as `TARGET_SYS=Windows` gives them.
fn windows_arch(arch: &mut Arch) {
    let at = arch.dasm.iter().position(|d| d.starts_with("VER=")).unwrap_or(arch.dasm.len());
    arch.dasm.insert(at, "WIN".into());
}

/// `make TARGET_SYS=Windows`'s dynamic build: `lua51.dll` (with its import library) from the
/// VM and core objects, `luajit.exe` linked against it.
fn link_windows(src: PathBuf, library: PathBuf, core: &[String], versions: JitVersions, target_cc: &cc::Tool, opts: &BuildOptions) -> Result<BuiltJit> {
    let dll = src.join(format!("lua{}.dll", versions.abi.replace('.', "")));
    let import_lib = src.join(format!("libluajit-{}.dll.a", versions.abi));
    let mut link_dll = target_cc.to_command();
    link_dll.arg("-shared").arg(format!("-Wl,--out-implib,{}", import_lib.display())).arg("-o").arg(&dll).arg(src.join("lj_vm.o"));
    for o in core {
        link_dll.arg(src.join(format!("{o}.o")));
    }
    link_dll.arg("-lm");
    run_parallel(vec![link_dll], 1)?;
    let luajit = src.join("luajit.exe");
    let mut link = target_cc.to_command();
    link.arg("-o").arg(&luajit).arg(src.join("luajit.o")).arg(&dll).arg("-lm");
    run_parallel(vec![link], opts.jobs)?;
    // No execute bit: `rehash` makes no shim that could only fail on this machine.
    for file in [&luajit, &dll] {
        std::fs::set_permissions(file, std::os::unix::fs::PermissionsExt::from_mode(0o644))?;
    }
    Ok(BuiltJit { src, library, shared: None, luajit, versions, module_dir: String::new(), windows_dll: Some((dll, import_lib)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_object_lists_with_references() {
        let mk = "LJLIB_O= lib_base.o lib_math.o \\\n\t lib_bit.o\nLJCORE_O= lj_gc.o \\\n\t  $(LJLIB_O) lib_init.o\n";
        assert_eq!(objects(mk, "LJCORE_O"), vec!["lj_gc", "lib_base", "lib_math", "lib_bit", "lib_init"]);
    }

    #[test]
    fn versions_come_from_the_tree() {
        let rolling = "MAJVER=  2\nMINVER=  0\nABIVER=  5.1\nRELVER= $(shell cat src/luajit_relver.txt 2>/dev/null || : )\n";
        let v = jit_versions(rolling, "1787058091").unwrap();
        assert_eq!((v.major_minor.as_str(), v.full.as_str(), v.soname()), ("2.0", "2.0.1787058091", "libluajit-5.1.so.2".to_string()));
        let beta = "MAJVER=  2\nMINVER=  1\nRELVER=  0\nPREREL=  -beta3\nABIVER=  5.1\n";
        assert_eq!(jit_versions(beta, "").unwrap().full, "2.1.0-beta3");
        assert_eq!(jit_versions("MAJVER= 2\nMINVER= ../x\nABIVER= 5.1\n", "1"), None);
    }

    #[test]
    fn the_module_folder_is_one_plain_name_under_share() {
        let p = Path::new("/r/versions/luajit-2.0");
        let jpath = string_literals(r#"";" "/r/versions/luajit-2.0" "/share" "/luajit-2.0/" "?.lua""#);
        assert_eq!(jpath_folder(&jpath, p).as_deref(), Some("luajit-2.0"));
        assert_eq!(jpath_folder(";/r/versions/luajit-2.0/share/luajit-2.1/?.lua", p).as_deref(), Some("luajit-2.1"));
        for hostile in [";/r/versions/luajit-2.0/share/../../x/?.lua", ";/etc/share/luajit/?.lua", ";/r/versions/luajit-2.0/share/a/b/?.lua", ";/r/versions/luajit-2.0/share//?.lua"] {
            assert_eq!(jpath_folder(hostile, p), None, "{hostile}");
        }
    }

    #[test]
    fn x64_flags_follow_the_makefile() {
        let macros: HashMap<String, String> = [("LJ_TARGET_X64", "1"), ("LJ_LE", "1"), ("LJ_ARCH_BITS", "64"), ("LJ_HASJIT", "1"), ("LJ_HASFFI", "1"), ("LJ_ARCH_HASFPU", "1"), ("LJ_ABI_SOFTFP", "0"), ("LJ_FR2", "1"), ("LJ_ARCH_VERSION", "")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let arch = probe_arch(&macros).unwrap();
        assert_eq!(arch.dasc, "vm_x64.dasc");
        assert_eq!(arch.dasm, vec!["ENDIAN_LE", "P64", "JIT", "FFI", "FPU", "HFABI", "VER="]);
        assert!(arch.host_defines.contains(&"-DLUAJIT_TARGET=LUAJIT_ARCH_x64".to_string()));
    }
}
