//! What an interrupted install leaves behind: on SIGINT/SIGTERM the registered paths (staging
//! folder, build folders, partial downloads) are removed before the process exits 130/143.
//! Temporary names carry the pid (`build-<pid>-…`), so a later install can tell what a dead
//! process (`kill -9`) left from what a live one is still using.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

static PATHS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();
/// Set when a signal arrived: the install's threads stop writing at their next checkpoint.
static STOPPING: AtomicBool = AtomicBool::new(false);
/// How many of them have stopped there.
static PARKED: AtomicUsize = AtomicUsize::new(0);

/// Between the writes of a long step (each unpacked entry, each compile started): once a
/// signal arrived, this thread writes nothing more and waits for the handler to end the
/// process, so nothing it would write can outlive the handler's removal of its folders.
pub fn checkpoint() {
    if STOPPING.load(Ordering::SeqCst) {
        PARKED.fetch_add(1, Ordering::SeqCst);
        loop {
            std::thread::park();
        }
    }
}

/// A command this process ran was ended by SIGINT or SIGTERM: the terminal sends Ctrl-C to the
/// whole process group, so luaenv's own signal is on its way. It is waited for (a second at
/// most) and then stops this thread at the checkpoint, so the install ends as interrupted
/// (exit 130) and not as a build that failed.
pub fn child_was_signalled() {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while !STOPPING.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    checkpoint();
}

/// Removes `path` if the process is interrupted while this is alive; forgets it when dropped.
#[must_use = "the path is only cleaned up while the registration lives"]
pub struct Registered(PathBuf);

pub fn register(path: &Path) -> Registered {
    HANDLER.call_once(install_handler);
    PATHS.lock().unwrap_or_else(|e| e.into_inner()).push(path.to_path_buf());
    Registered(path.to_path_buf())
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut paths = PATHS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = paths.iter().rposition(|p| *p == self.0) {
            paths.remove(i);
        }
    }
}

/// How many commands that write where the user works (LuaRocks in a project) are running: the
/// handler lets them end (they got the same Ctrl-C) before it exits, so none writes after
/// luaenv said it stopped.
static WRITERS: AtomicUsize = AtomicUsize::new(0);

/// Held while such a command runs.
pub struct Writer(());

pub fn writer_running() -> Writer {
    WRITERS.fetch_add(1, Ordering::SeqCst);
    Writer(())
}

impl Drop for Writer {
    fn drop(&mut self) {
        WRITERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What to tell the user if this process is interrupted while nothing is registered.
static ADVICE: Mutex<Option<&'static str>> = Mutex::new(None);

/// Catches SIGINT/SIGTERM for a command that registers nothing (`sync` between LuaRocks runs):
/// it then ends with one line saying so and `advice`, instead of silently.
pub fn watch(advice: &'static str) {
    *ADVICE.lock().unwrap_or_else(|e| e.into_inner()) = Some(advice);
    HANDLER.call_once(install_handler);
}

/// A temporary name prefix that tells which process made it: `build-` → `build-<pid>-`.
pub fn tagged(prefix: &str) -> String {
    format!("{prefix}{}-", std::process::id())
}

/// A thread that waits for SIGINT/SIGTERM, removes what is registered and exits.
fn install_handler() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else { return };
    std::thread::spawn(move || {
        if let Some(signal) = signals.forever().next() {
            // A thread still unpacking would recreate what is removed: let it stop first.
            // One waiting on a compiler never reaches a checkpoint, hence the bound.
            STOPPING.store(true, Ordering::SeqCst);
            let deadline = std::time::Instant::now() + std::time::Duration::from_millis(300);
            while PARKED.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while WRITERS.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            // Held to the end: no new registration can slip in after the sweep.
            let paths = PATHS.lock().unwrap_or_else(|e| e.into_inner());
            for path in paths.iter().rev() {
                remove(path);
            }
            let what = if signal == SIGINT { "interrupted" } else { "terminated" };
            if paths.is_empty() {
                match *ADVICE.lock().unwrap_or_else(|e| e.into_inner()) {
                    Some(advice) => eprintln!("luaenv: {what}; {advice}"),
                    None => eprintln!("luaenv: {what}"),
                }
            } else {
                eprintln!("luaenv: {what}; the unfinished install and its temporary files were removed, the installed versions are as they were");
            }
            std::process::exit(128 + signal);
        }
    });
}

pub fn remove(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => {
            // A compiler still running (a signal reaches luaenv, not always its children) may
            // write its object while the tree goes: try again after it has written or failed.
            for pause in [0, 20, 50, 100, 200] {
                std::thread::sleep(std::time::Duration::from_millis(pause));
                if std::fs::remove_dir_all(path).is_ok() || std::fs::symlink_metadata(path).is_err() {
                    break;
                }
            }
        }
        Ok(_) => {
            let _ = std::fs::remove_file(path);
        }
        Err(_) => {}
    }
}
