//! What a long install shows while it runs. On a terminal: one live line that indicatif
//! redraws (what is being built, its phase, objects done out of total, LuaJIT's host tool
//! at work). Piped: a few plain lines (what is compiled, the LuaRocks step, the result),
//! never one per object. `--quiet` shows none of it, `--verbose` adds every build command
//! and each step.
//!
//! One live line per process, kept here: the build's worker threads report each finished
//! command to it, so no handle has to be threaded through every build function.

use std::io::IsTerminal;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

/// How much luaenv says on stderr (`--quiet`, the default, `--verbose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Quiet = 0,
    Normal = 1,
    Verbose = 2,
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Normal as u8);

pub fn set_level(level: Level) {
    LEVEL.store(level as u8, Ordering::Relaxed);
}

pub fn level() -> Level {
    match LEVEL.load(Ordering::Relaxed) {
        0 => Level::Quiet,
        2 => Level::Verbose,
        _ => Level::Normal,
    }
}

pub fn quiet() -> bool {
    level() == Level::Quiet
}

pub fn verbose() -> bool {
    level() == Level::Verbose
}

/// The install under way: its name, its phase and its counted objects.
struct Live {
    /// `None` when stderr is not a terminal (or `--quiet`): then only plain lines are printed.
    bar: Option<ProgressBar>,
    /// Where the live line and a download's bar draw together.
    screen: Option<MultiProgress>,
    what: String,
    phase: String,
    done: usize,
    total: usize,
    /// LuaJIT's host tool at work (`minilua`, `buildvm`), shown beside the count.
    tool: Option<&'static str>,
}

impl Live {
    fn message(&self) -> String {
        let count = if self.total > 0 { format!(" {}/{}", self.done, self.total) } else { String::new() };
        let tool = self.tool.map(|t| format!(" · {t}")).unwrap_or_default();
        format!("{}: {}{count}{tool}", self.what, self.phase)
    }

    fn redraw(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(self.message());
        }
    }
}

static LIVE: Mutex<Option<Live>> = Mutex::new(None);

fn with_live<T>(f: impl FnOnce(&mut Live) -> T) -> Option<T> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner()).as_mut().map(f)
}

/// Clears the live line when the install ends, however it ends: an error is printed on a
/// clean line, not after a half-drawn bar.
pub struct Guard(());

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(live) = LIVE.lock().unwrap_or_else(|e| e.into_inner()).take()
            && let Some(bar) = live.bar
        {
            bar.finish_and_clear();
        }
    }
}

/// Starts the live line for one install (`Lua 5.4.7`, `luajit-2.1`).
pub fn begin(what: &str) -> Guard {
    let screen = (level() >= Level::Normal && std::io::stderr().is_terminal()).then(MultiProgress::new);
    let bar = screen.as_ref().map(|screen| {
        let bar = screen.add(ProgressBar::new_spinner());
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").unwrap_or_else(|_| ProgressStyle::default_spinner()));
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let live = Live { bar, screen, what: what.to_string(), phase: "preparing".into(), done: 0, total: 0, tool: None };
    live.redraw();
    *LIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(live);
    Guard(())
}

/// A phase without a count (`unpacking`, `linking`, `smoke test`): on the live line;
/// as a plain line only with `--verbose`.
pub fn step(phase: &str) {
    let shown = set_phase(phase);
    if verbose() {
        say(&shown.unwrap_or_else(|| phase.to_string()));
    }
}

/// A counted phase: `total` objects to compile. Piped, it is one plain line.
pub fn objects(phase: &str, total: usize) {
    let shown = with_live(|live| {
        live.phase = phase.to_string();
        live.done = 0;
        live.total = total;
        live.redraw();
        (live.bar.is_none(), format!("{}: {phase} {total} objects", live.what))
    });
    if let Some((true, line)) = shown
        && !quiet()
    {
        eprintln!("{line}");
    }
}

/// A step worth a line of its own, on a terminal too (`installing LuaRocks 3.12.2`).
/// Piped, that line is all; on a terminal it stays above the live line, whose draws are
/// rate-limited: a quick step could otherwise pass without ever being shown.
pub fn announce(phase: &str) {
    note(&set_phase(phase).unwrap_or_else(|| phase.to_string()));
}

/// Puts an uncounted phase on the live line; its text, when there is a live install.
fn set_phase(phase: &str) -> Option<String> {
    with_live(|live| {
        live.phase = phase.to_string();
        live.total = 0;
        live.tool = None;
        live.redraw();
        live.message()
    })
}

/// A line for the user (stderr), unless `--quiet`; printed above the live line.
pub fn note(line: &str) {
    if !quiet() {
        say(line);
    }
}

/// The last line of an install: the live line goes, this stays (unless `--quiet`).
pub fn finish(line: &str) {
    if let Some(bar) = with_live(|live| live.bar.take()).flatten() {
        bar.finish_and_clear();
    }
    note(line);
}

fn say(line: &str) {
    let screen = with_live(|live| live.bar.as_ref().and(live.screen.clone())).flatten();
    match screen {
        Some(screen) => screen.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

/// A download's bar, drawn under the live line when there is one (two bars drawing on their
/// own would overwrite each other).
pub fn attach(bar: ProgressBar) -> ProgressBar {
    match with_live(|live| live.screen.clone()).flatten() {
        Some(screen) => screen.add(bar),
        None => bar,
    }
}

/// A build command starts (from the build's worker threads): `--verbose` prints it; a
/// LuaJIT host tool names itself on the live line.
pub fn command_started(cmd: &Command) {
    let tool = tool_of(cmd);
    if tool.is_some() {
        with_live(|live| {
            live.tool = tool;
            live.redraw();
        });
    }
    if verbose() {
        say(&format!("  {}", command_line(cmd)));
    }
}

/// A build command ended well: a compile (`-c`) counts one object.
pub fn command_done(cmd: &Command) {
    let compiled = cmd.get_args().any(|a| a == "-c");
    let tool = tool_of(cmd);
    with_live(|live| {
        if compiled {
            live.done += 1;
        }
        if tool.is_some() && live.tool == tool {
            live.tool = None;
        }
        live.redraw();
    });
}

/// What LuaJIT's build is doing besides compiling objects, told by its command.
fn tool_of(cmd: &Command) -> Option<&'static str> {
    let program = std::path::Path::new(cmd.get_program()).file_name()?.to_str()?;
    match program {
        "minilua" => Some("generating with DynASM"),
        "buildvm" => Some("generating the VM (buildvm)"),
        _ if cmd.get_args().any(|a| a.to_string_lossy().contains("/host/")) => Some("building host tools"),
        _ => None,
    }
}

fn command_line(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_line_names_the_phase_the_count_and_the_host_tool() {
        let mut live = Live { bar: None, screen: None, what: "luajit-2.1".into(), phase: "compiling".into(), done: 12, total: 70, tool: Some("generating the VM (buildvm)") };
        assert_eq!(live.message(), "luajit-2.1: compiling 12/70 · generating the VM (buildvm)");
        live.tool = None;
        live.total = 0;
        live.phase = "linking".into();
        assert_eq!(live.message(), "luajit-2.1: linking");
    }

    #[test]
    fn host_tools_are_told_from_objects() {
        let mut dynasm = Command::new("/t/src/host/minilua");
        dynasm.arg("../dynasm/dynasm.lua");
        assert_eq!(tool_of(&dynasm), Some("generating with DynASM"));
        let mut host = Command::new("cc");
        host.args(["-c", "/t/src/host/buildvm.c"]);
        assert_eq!(tool_of(&host), Some("building host tools"));
        let mut object = Command::new("cc");
        object.args(["-c", "/t/src/lapi.c"]);
        assert_eq!(tool_of(&object), None);
    }
}
