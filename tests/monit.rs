//! `velos monit` as a user sees it: run in a real terminal (tmux) against a real daemon, driven with keys,
//! read back with capture-pane.
#![allow(clippy::unwrap_used)]
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use velos_e2e::{velos_bin, wait_until, Velos};

const TMUX: &str = "tmux";
const WAIT: Duration = Duration::from_secs(15);

/// A tmux server of our own (its socket in the test's VELOS_HOME), killed on drop.
struct Terminal {
    socket: PathBuf,
}

impl Terminal {
    /// Opens a 120×40 terminal running `velos monit ARGS` for this VELOS_HOME.
    fn monit(velos: &Velos, args: &[&str]) -> Terminal {
        Terminal::open(velos, args, "VELOS_E2E=1")
    }

    fn monit_with_env(velos: &Velos, variable: &str) -> Terminal {
        Terminal::open(velos, &[], variable)
    }

    fn open(velos: &Velos, args: &[&str], variable: &str) -> Terminal {
        // A server per terminal: a new one on the socket of one being killed may die with it.
        static OPENED: AtomicUsize = AtomicUsize::new(0);
        let number = OPENED.fetch_add(1, Ordering::SeqCst);
        let terminal = Terminal { socket: velos.home().join(format!("tmux-{number}.sock")) };
        let mut command = vec![
            "env".to_string(),
            variable.to_string(),
            format!("VELOS_HOME={}", velos.home().display()),
            velos_bin().display().to_string(),
            "monit".to_string(),
        ];
        command.extend(args.iter().map(|arg| arg.to_string()));
        let output = terminal.tmux(&["new-session", "-d", "-x", "120", "-y", "40", &command.join(" ")]);
        assert!(output.status.success(), "tmux: {}", String::from_utf8_lossy(&output.stderr));
        terminal
    }

    fn tmux(&self, args: &[&str]) -> Output {
        Command::new(TMUX)
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .env_remove("TMUX")
            .stdin(Stdio::null())
            .output()
            .expect("tmux is installed (apt-get install tmux)")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-t", "0"]).stdout).into_owned()
    }

    /// The screen with its escape sequences (colours, bold, reverse).
    fn styled_screen(&self) -> String {
        String::from_utf8_lossy(&self.tmux(&["capture-pane", "-p", "-e", "-t", "0"]).stdout).into_owned()
    }

    fn keys(&self, keys: &str) {
        assert!(self.tmux(&["send-keys", "-t", "0", keys]).status.success());
    }

    /// Waits until the screen shows `text`; on timeout the failure shows the screen.
    fn wait_for(&self, text: &str) -> String {
        let mut screen = String::new();
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_until(WAIT, text, || {
                screen = self.screen();
                screen.contains(text)
            })
        }));
        assert!(found.is_ok(), "the screen never showed {text:?}; it shows:\n{screen}");
        screen
    }

    fn running(&self) -> bool {
        self.tmux(&["has-session"]).status.success()
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

fn ticker(velos: &Velos) {
    velos.start(
        "ticker",
        &["/bin/sh", "-c", "while true; do echo tick-$$; echo oops >&2; sleep 0.2; done"],
        &[],
    );
    velos.start("sleeper", &["/bin/sleep", "600"], &[]);
}

#[test]
fn select_follow_restart_with_confirmation_and_quit() {
    let velos = Velos::new();
    ticker(&velos);
    let terminal = Terminal::monit(&velos, &[]);
    terminal.wait_for("● daemon up");
    terminal.wait_for("sleeper");
    terminal.wait_for("ticker");

    // Rows are by name: sleeper first; one step down selects ticker, whose output streams in.
    terminal.keys("j");
    terminal.wait_for("logs · ticker");
    // Both streams, each marked.
    terminal.wait_for("out│tick-");
    terminal.wait_for("err│oops");

    let before = velos.pid("ticker");
    terminal.keys("r");
    terminal.wait_for("Restart ticker?");
    assert_eq!(velos.pid("ticker"), before, "nothing happens before the confirmation");
    terminal.keys("y");
    terminal.wait_for("restarted ticker");
    wait_until(WAIT, "a new ticker process", || {
        let pid = velos.pid("ticker");
        pid != 0 && pid != before
    });

    terminal.keys("q");
    wait_until(WAIT, "monit to exit on q", || !terminal.running());
}

#[test]
fn scale_and_stop_are_edits_made_like_the_cli_makes_them() {
    let velos = Velos::new();
    velos.start("web", &["/bin/sleep", "600"], &[]);
    let terminal = Terminal::monit(&velos, &[]);
    terminal.wait_for("● daemon up");
    terminal.keys("c");
    terminal.wait_for("instances of web: 1");
    terminal.keys("BSpace");
    terminal.keys("2");
    terminal.keys("Enter");
    terminal.wait_for("Run 2 instance(s) of web?");
    terminal.keys("y");
    terminal.wait_for("web runs 2 instance(s)");
    velos.wait_status("web-1", "running", WAIT);
    let file = std::fs::read_to_string(velos.home().join("velos.toml")).unwrap();
    assert!(file.contains("instances = 2"), "the default project's file says so:\n{file}");

    terminal.keys("x");
    terminal.wait_for("Stop web?");
    terminal.keys("Enter");
    terminal.wait_for("stopped web");
    velos.wait_status("web-0", "stopped", WAIT);
    velos.wait_status("web-1", "stopped", WAIT);
    terminal.keys("q");
    wait_until(WAIT, "monit to exit on q", || !terminal.running());
}

#[test]
fn the_plan_of_a_changed_project_then_its_apply() {
    let velos = Velos::new();
    let folder = velos.home().join("shop");
    std::fs::create_dir_all(&folder).unwrap();
    let file = folder.join("velos.toml");
    let config = |seconds: u32| format!("[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"{seconds}\"]\n");
    std::fs::write(&file, config(600)).unwrap();
    velos.ok(&["apply", &file.to_string_lossy()]);
    let before = velos.pid("web");
    let terminal = Terminal::monit(&velos, &[]);
    terminal.wait_for("▾ shop (1)");
    std::fs::write(&file, config(700)).unwrap();
    terminal.keys("p");
    // The plan names the app it replaces (waited for: a capture may catch a frame half drawn).
    terminal.wait_for("plan shop");
    terminal.wait_for("replace web");
    assert_eq!(velos.pid("web"), before, "a plan changes nothing");
    terminal.keys("a");
    terminal.wait_for("Apply project shop's velos.toml");
    terminal.keys("y");
    terminal.wait_for("apply shop");
    wait_until(WAIT, "web replaced", || {
        let pid = velos.pid("web");
        pid != 0 && pid != before
    });
}

#[test]
fn survives_the_daemon_going_away_and_coming_back() {
    let velos = Velos::new();
    ticker(&velos);
    let terminal = Terminal::monit(&velos, &["--interval", "200ms"]);
    terminal.wait_for("● daemon up");
    terminal.keys("j");
    terminal.wait_for("out│tick-");
    velos.ok(&["kill"]);
    terminal.wait_for("✖ daemon down");
    // It says what would start it (the first failed refresh may be the connection closing mid-kill).
    terminal.wait_for("hint: its state file holds 2 apps");
    terminal.wait_for("velos resurrect");
    assert!(velos.daemon_pid().is_none_or(|pid| !velos_e2e::process_alive(pid)), "monit started no daemon");

    velos.ok(&["daemon"]);
    terminal.wait_for("● daemon up");
    // The log follow begins again by itself, on the app still selected.
    terminal.wait_for("logs · ticker");
    terminal.wait_for("out│tick-");
    // Ctrl-C quits too.
    terminal.keys("C-c");
    wait_until(WAIT, "monit to exit on Ctrl-C", || !terminal.running());
}

/// Does the text set a foreground or background colour (SGR 30-38, 40-48, 90-107; 39 and 49 are the
/// terminal's defaults)?
fn has_colour(styled: &str) -> bool {
    styled.split("\u{1b}[").skip(1).any(|sequence| {
        let parameters = sequence.split('m').next().unwrap_or("");
        parameters.split(';').any(|code| {
            code.parse::<u32>().is_ok_and(|code| {
                (30..=38).contains(&code) || (40..=48).contains(&code) || (90..=107).contains(&code)
            })
        })
    })
}

#[test]
fn no_color_and_the_no_color_variable_draw_without_colours() {
    let velos = Velos::new();
    ticker(&velos);
    let coloured = Terminal::monit(&velos, &[]);
    coloured.wait_for("● daemon up");
    assert!(has_colour(&coloured.styled_screen()), "colours by default:\n{}", coloured.styled_screen());
    drop(coloured);
    for args in [&["--no-color"][..], &[]] {
        let terminal = if args.is_empty() {
            Terminal::monit_with_env(&velos, "NO_COLOR=1")
        } else {
            Terminal::monit(&velos, args)
        };
        terminal.wait_for("● daemon up");
        let styled = terminal.styled_screen();
        assert!(!has_colour(&styled), "no colour with {args:?}:\n{styled}");
    }
}

#[test]
fn without_a_terminal_it_says_so() {
    let velos = Velos::new();
    let error = velos.fails(&["monit"]);
    assert!(error.contains("error: velos monit needs a terminal"), "{error}");
    assert!(error.contains("hint: velos list"), "{error}");
    assert!(velos.daemon_pid().is_none(), "no daemon started");
    let error = velos.fails(&["monit", "--interval", "10ms"]);
    assert!(error.contains("error: --interval 10 ms is too short: at least 100 ms"), "{error}");
}
