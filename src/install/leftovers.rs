//! Leftovers of a luaenv that was killed (`kill -9`, power loss) mid-install: staging folders,
//! prefixes swapped aside, build folders, partial downloads, half-saved cache entries, shims
//! being made. The next install of a name sweeps those no live process holds; `doctor` lists
//! what remains.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::context::Context;

/// One leftover, the process that made it when its name says so, and for a `versions/`
/// leftover the install name whose lock guards it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub path: PathBuf,
    pub pid: Option<u32>,
    pub name: Option<String>,
}

impl Leftover {
    /// Whether a running luaenv may still be using it: one holding its name's lock, else
    /// the process its name carries.
    pub fn in_use(&self, ctx: &Context) -> bool {
        if let Some(name) = &self.name {
            return crate::lock::is_held(ctx, name);
        }
        match self.pid {
            Some(pid) => pid == std::process::id() || alive(pid),
            // A name without a pid (from an older luaenv): in use only while recent.
            None => modified_within(&self.path, Duration::from_secs(3600)),
        }
    }
}

/// Where the pid sits in a temporary name, by kind.
#[derive(Clone, Copy)]
enum PidAt {
    /// `build-<pid>-XXXXXX`
    First,
    /// `.staging-<name>-<pid>-XXXXXX`
    SecondToLast,
    /// `.old-<name>-<pid>`, `.new-<command>-<pid>`
    Last,
}

/// Every leftover in the root and the cache, live ones included.
pub fn find(ctx: &Context) -> Vec<Leftover> {
    let places: [(PathBuf, &str, PidAt); 7] = [
        (ctx.versions_dir(), ".staging-", PidAt::SecondToLast),
        (ctx.versions_dir(), ".old-", PidAt::Last),
        (ctx.versions_dir(), ".removing-", PidAt::Last),
        (ctx.scratch_dir(), "build-", PidAt::First),
        (ctx.downloads_dir(), ".partial-", PidAt::First),
        (ctx.builds_dir(), ".saving-", PidAt::First),
        (ctx.shims_dir(), ".new-", PidAt::Last),
    ];
    let mut found = Vec::new();
    for (dir, prefix, at) in places {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if let Some(rest) = file_name.strip_prefix(prefix) {
                let name = matches!(at, PidAt::SecondToLast | PidAt::Last).then(|| name_in(rest, at)).flatten().filter(|_| dir == ctx.versions_dir());
                found.push(Leftover { path: entry.path(), pid: pid_in(rest, at), name });
            }
        }
    }
    found
}

/// Removes the leftovers of installs of `name` (the caller holds its lock, so no live process
/// is working on them) and every leftover in the cache whose process is gone.
pub fn sweep(ctx: &Context, name: &str) {
    for leftover in find(ctx) {
        let of_this_name = belongs_to(&leftover.path, name);
        let shared = !leftover.path.starts_with(ctx.versions_dir());
        let is_old = leftover.path.file_name().is_some_and(|n| n.to_string_lossy().starts_with(".old-"));
        // A prefix moved aside by a `--force` that was killed before the new one went in: the
        // only copy, so it goes back.
        if of_this_name && is_old && !ctx.prefix(name).exists() && std::fs::rename(&leftover.path, ctx.prefix(name)).is_ok() {
            eprintln!("restored {name}, which an interrupted install had moved aside");
            continue;
        }
        if (of_this_name && leftover.pid != Some(std::process::id())) || (shared && !leftover.in_use(ctx)) {
            super::cleanup::remove(&leftover.path);
        }
    }
}

/// Whether a `versions/` leftover is of the install name `name` (not of `name-<target>`).
pub fn belongs_to(path: &Path, name: &str) -> bool {
    let Some(file_name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else { return false };
    [".staging-", ".old-", ".removing-"].iter().any(|kind| {
        let Some(rest) = file_name.strip_prefix(kind).and_then(|r| r.strip_prefix(name)).and_then(|r| r.strip_prefix('-')) else { return false };
        match *kind {
            // `<pid>-XXXXXX`, or the pid-less `XXXXXX` of older versions.
            ".staging-" => match rest.split_once('-') {
                Some((pid, random)) => is_number(pid) && is_random(random),
                None => is_random(rest),
            },
            _ => is_number(rest),
        }
    })
}

fn pid_in(rest: &str, at: PidAt) -> Option<u32> {
    let parts: Vec<&str> = rest.split('-').collect();
    let part = match at {
        PidAt::First if parts.len() >= 2 => parts[0],
        PidAt::SecondToLast if parts.len() >= 3 => parts[parts.len() - 2],
        PidAt::Last if parts.len() >= 2 => parts[parts.len() - 1],
        _ => return None,
    };
    part.parse().ok()
}

/// The install name in a `versions/` leftover: `.staging-<name>-<pid>-XXXXXX` (or the older
/// `.staging-<name>-XXXXXX`), `.old-<name>-<pid>`, `.removing-<name>-<pid>`.
fn name_in(rest: &str, at: PidAt) -> Option<String> {
    let (head, last) = rest.rsplit_once('-')?;
    let name = match at {
        PidAt::SecondToLast => match head.rsplit_once('-') {
            Some((name, pid)) if is_number(pid) => name,
            _ => head,
        },
        _ => head,
    };
    (!name.is_empty() && is_random(last)).then(|| name.to_string())
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_random(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn alive(pid: u32) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(pid as i32) else { return false };
    // EPERM means it exists but belongs to someone else: alive.
    !matches!(rustix::process::test_kill_process(pid), Err(rustix::io::Errno::SRCH))
}

fn modified_within(path: &Path, age: Duration) -> bool {
    let modified = std::fs::symlink_metadata(path).and_then(|m| m.modified()).unwrap_or(SystemTime::UNIX_EPOCH);
    SystemTime::now().duration_since(modified).map(|d| d < age).unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leftover_belongs_to_its_own_name_only() {
        assert!(belongs_to(Path::new("/r/versions/.staging-5.4.7-123-aB3dE9"), "5.4.7"));
        assert!(belongs_to(Path::new("/r/versions/.staging-5.4.7-aB3dE9"), "5.4.7"));
        assert!(belongs_to(Path::new("/r/versions/.old-5.4.7-123"), "5.4.7"));
        assert!(!belongs_to(Path::new("/r/versions/.staging-5.4.7-aarch64-unknown-linux-gnu-123-aB3dE9"), "5.4.7"));
        assert!(belongs_to(Path::new("/r/versions/.staging-5.4.7-aarch64-unknown-linux-gnu-123-aB3dE9"), "5.4.7-aarch64-unknown-linux-gnu"));
        assert!(!belongs_to(Path::new("/r/versions/.staging-5.4.70-123-aB3dE9"), "5.4.7"));
        assert!(!belongs_to(Path::new("/r/versions/5.4.7"), "5.4.7"));
    }

    #[test]
    fn reads_the_pid_where_each_kind_puts_it() {
        assert_eq!(pid_in("123-aB3dE9", PidAt::First), Some(123));
        assert_eq!(pid_in("luajit-2.1-77-aB3dE9", PidAt::SecondToLast), Some(77));
        assert_eq!(pid_in("lua-42", PidAt::Last), Some(42));
        assert_eq!(pid_in("aB3dE9", PidAt::First), None);
        assert_eq!(name_in("luajit-2.1-77-aB3dE9", PidAt::SecondToLast).as_deref(), Some("luajit-2.1"));
        assert_eq!(name_in("5.4.7-x1", PidAt::SecondToLast).as_deref(), Some("5.4.7"));
        assert_eq!(name_in("5.4.7-123", PidAt::Last).as_deref(), Some("5.4.7"));
    }
}
