//! Caps on everything luaenv reads from outside: time per request, bytes per download,
//! bytes and entries per unpacked tree, size of small text files. Each cap has an
//! environment variable so tests (and unusual users) can move it.

use std::time::Duration;

pub const MIB: u64 = 1024 * 1024;

fn from_env(var: &str, default: u64) -> u64 {
    std::env::var(var).ok().and_then(|v| v.trim().parse().ok()).filter(|&n| n > 0).unwrap_or(default)
}

/// Seconds a server may stay silent (to a request or in the middle of a body): `$LUAENV_HTTP_TIMEOUT`, default 30.
pub fn http_timeout() -> Duration {
    Duration::from_secs(from_env("LUAENV_HTTP_TIMEOUT", 30))
}

/// The most a build-cache registry may take over one manifest or blob, however it trickles
/// (the silence timeout alone lets a byte a second through): `$LUAENV_PULL_TIMEOUT`, default 120 s.
/// Past it, the install builds from source instead.
pub fn pull_timeout() -> Duration {
    Duration::from_secs(from_env("LUAENV_PULL_TIMEOUT", 120))
}

/// Connecting gets at most 10 s, or less when the silence timeout is shorter.
pub fn connect_timeout() -> Duration {
    http_timeout().min(Duration::from_secs(10))
}

/// The largest download: `$LUAENV_MAX_DOWNLOAD_BYTES`, default 256 MiB (a Lua tarball is ~370 KB).
pub fn max_download() -> u64 {
    from_env("LUAENV_MAX_DOWNLOAD_BYTES", 256 * MIB)
}

/// The most a source tree may hold once unpacked or copied: `$LUAENV_MAX_UNPACK_BYTES`, default 1 GiB.
pub fn max_tree_bytes() -> u64 {
    from_env("LUAENV_MAX_UNPACK_BYTES", 1024 * MIB)
}

/// The most entries a source tree may hold: `$LUAENV_MAX_SOURCE_FILES`, default 20 000
/// (Lua has ~100, LuaJIT and LuaRocks a few hundred).
pub fn max_tree_entries() -> u64 {
    from_env("LUAENV_MAX_SOURCE_FILES", 20_000)
}

/// The largest small text file luaenv reads whole (SHA256SUMS, a header, trusted-sums).
pub const MAX_TEXT: u64 = MIB;

/// `256 MiB`, `1024 KiB`, `12 bytes`: caps as people read them.
pub fn show_bytes(n: u64) -> String {
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}
