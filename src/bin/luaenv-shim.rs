//! luaenv-shim: what every shim (`lua`, `luac`, `luarocks`, a rock's command) runs. A small,
//! statically linked binary (see build.rs), so a shim call pays for no dynamic loading; it
//! shares the selection and sandbox code with the luaenv CLI through these module paths.

// Our own C `main`: skips std's runtime start-up (stack-guard probing, signal set-up).
#![no_main]
// The shared modules carry what the CLI needs of them too.
#![allow(dead_code)]

#[path = "../context.rs"]
mod context;
#[path = "../error.rs"]
mod error;
#[path = "../fs.rs"]
mod fs;
#[path = "../limits.rs"]
mod limits;
#[path = "../lock.rs"]
mod lock;
#[path = "../sandbox.rs"]
mod sandbox;
#[path = "../selection.rs"]
mod selection;
#[path = "../shim.rs"]
mod shim;
#[path = "../rehash.rs"]
mod rehash;
#[path = "../version.rs"]
mod version;

#[unsafe(no_mangle)]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    // From `main`'s own arguments: std's `args_os` reads what glibc alone hands to `.init_array`.
    let mut args = (0..usize::try_from(argc).unwrap_or(0)).map(|i| {
        // SAFETY: the C runtime passes `argc` valid, NUL-terminated strings in `argv`.
        let arg = unsafe { std::ffi::CStr::from_ptr(*argv.add(i)) };
        <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(arg.to_bytes()).to_os_string()
    });
    let argv0 = args.next().unwrap_or_default();
    match context::shim_name(&argv0) {
        Some(command) => shim::run(&command, args.collect()).into(),
        None => {
            eprintln!("luaenv: luaenv-shim runs under a command's name (`lua`, `luarocks`, ...) through the links `luaenv rehash` makes; run `luaenv` itself for anything else");
            2
        }
    }
}
