//! The service definitions `velos startup` installs: a systemd unit or a launchd job that runs
//! `velos daemon --foreground` for one VELOS_HOME. Pure text generation (the e2e tests check the unit with
//! `systemd-analyze verify`); a face writes the file and runs `systemctl` / `launchctl`.
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Longest a stop may take before what is left is SIGKILLed: the daemon stops each app with its own
/// kill signal and `kill_timeout`, then gives up 5 s after the longest one.
pub const STOP_TIMEOUT_SECONDS: u32 = 300;
/// The launchd job's label.
pub const LAUNCHD_LABEL: &str = "dev.velos.daemon";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitSystem {
    Systemd,
    Launchd,
}

impl InitSystem {
    /// The one this host runs.
    pub fn native() -> InitSystem {
        if cfg!(target_os = "macos") {
            InitSystem::Launchd
        } else {
            InitSystem::Systemd
        }
    }
}

/// Whose service manager runs the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The system's, as this user (`User=`): starts at boot.
    System { user: String },
    /// The user's own (`systemctl --user`, a LaunchAgent): starts when the user's manager does (at boot
    /// with `loginctl enable-linger`).
    User { user: String, user_home: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub init: InitSystem,
    pub scope: Scope,
    /// The velos executable, absolute.
    pub exe: PathBuf,
    /// The VELOS_HOME the daemon serves, absolute.
    pub velos_home: PathBuf,
}

/// A service definition and how to turn it on and off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// `velos-USER.service`, `velos.service`, `dev.velos.daemon`.
    pub name: String,
    /// Where the file goes.
    pub path: PathBuf,
    pub text: String,
    /// The commands that load and enable it (and start it now).
    pub enable: Vec<Vec<String>>,
    /// The commands that disable it (the file is removed between the two).
    pub disable: Vec<Vec<String>>,
    /// Run after `disable` once the file is gone.
    pub after_remove: Vec<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("{what} {} is not an absolute path", path.display())]
    NotAbsolute { what: &'static str, path: PathBuf },
    #[error("{what} {} cannot be written into a service file (a newline or a control character)", path.display())]
    Unquotable { what: &'static str, path: PathBuf },
}

pub fn service(request: &Request) -> Result<Service, StartupError> {
    check_path("the velos executable", &request.exe)?;
    check_path("VELOS_HOME", &request.velos_home)?;
    Ok(match request.init {
        InitSystem::Systemd => systemd(request),
        InitSystem::Launchd => launchd(request),
    })
}

fn check_path(what: &'static str, path: &Path) -> Result<(), StartupError> {
    if !path.is_absolute() {
        return Err(StartupError::NotAbsolute { what, path: path.to_path_buf() });
    }
    if path.to_string_lossy().chars().any(char::is_control) {
        return Err(StartupError::Unquotable { what, path: path.to_path_buf() });
    }
    Ok(())
}

fn command(words: &[&str]) -> Vec<String> {
    words.iter().map(|word| word.to_string()).collect()
}

fn systemd(request: &Request) -> Service {
    let (name, path, systemctl, wanted_by, user_line) = match &request.scope {
        Scope::System { user } => (
            format!("velos-{user}.service"),
            PathBuf::from("/etc/systemd/system"),
            vec!["systemctl"],
            "multi-user.target",
            Some(format!("User={}\n", systemd_escape(user))),
        ),
        Scope::User { user_home, .. } => (
            "velos.service".to_string(),
            user_home.join(".config/systemd/user"),
            vec!["systemctl", "--user"],
            "default.target",
            None,
        ),
    };
    let home = request.velos_home.to_string_lossy();
    let exe = request.exe.to_string_lossy();
    let mut text = String::new();
    text.push_str("# Written by `velos startup`; `velos unstartup` removes it.\n[Unit]\n");
    let _ = writeln!(text, "Description=Velos process manager (VELOS_HOME={})", systemd_escape(&home));
    text.push_str("After=network-online.target\nWants=network-online.target\n\n[Service]\nType=simple\n");
    text.push_str(user_line.as_deref().unwrap_or(""));
    let _ = writeln!(text, "Environment=\"VELOS_HOME={}\"", systemd_quote_inner(&home));
    let _ = writeln!(text, "ExecStart=\"{}\" daemon --foreground", systemd_quote_inner(&exe));
    let _ = write!(
        text,
        "\
# SIGTERM to the daemon alone: it stops every app as `velos kill` does (each app's kill_signal, SIGKILL
# after its kill_timeout). Whatever is left after TimeoutStopSec is SIGKILLed, so nothing outlives the unit.
KillMode=mixed
KillSignal=SIGTERM
TimeoutStopSec={STOP_TIMEOUT_SECONDS}
# A crash brings the daemon back (and it brings back its apps); a clean exit (`velos kill`) keeps it down.
Restart=on-failure
RestartSec=1s
# The apps live in this unit's cgroup; the daemon may arrange it.
Delegate=yes
# The daemon's own log lines go to the journal (journalctl -u {name}); the apps' to VELOS_HOME/logs.
StandardOutput=journal
StandardError=journal
SyslogIdentifier=velos
LimitNOFILE=65536

[Install]
WantedBy={wanted_by}
"
    );
    let with = |words: &[&str]| {
        let mut all = systemctl.clone();
        all.extend_from_slice(words);
        command(&all)
    };
    Service {
        path: path.join(&name),
        enable: vec![with(&["daemon-reload"]), with(&["enable", "--now", &name])],
        disable: vec![with(&["disable", &name])],
        after_remove: vec![with(&["daemon-reload"])],
        name,
        text,
    }
}

/// systemd specifiers start with `%`; a literal one is `%%`. In a quoted word `\` and `"` are escaped,
/// and `$` would start a variable (`$$` is a literal one).
fn systemd_escape(text: &str) -> String {
    text.replace('%', "%%")
}

fn systemd_quote_inner(text: &str) -> String {
    systemd_escape(text).replace('\\', "\\\\").replace('"', "\\\"").replace('$', "$$")
}

fn launchd(request: &Request) -> Service {
    let (path, user_line, domain) = match &request.scope {
        Scope::System { user } => (
            PathBuf::from("/Library/LaunchDaemons"),
            format!("  <key>UserName</key><string>{}</string>\n", xml(user)),
            "system".to_string(),
        ),
        Scope::User { user_home, .. } => {
            (user_home.join("Library/LaunchAgents"), String::new(), "gui/$(id -u)".to_string())
        }
    };
    let name = LAUNCHD_LABEL.to_string();
    let path = path.join(format!("{name}.plist"));
    let home = xml(&request.velos_home.to_string_lossy());
    let log = xml(&request.velos_home.join("daemon.log").to_string_lossy());
    let exe = xml(&request.exe.to_string_lossy());
    let text = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by `velos startup`; `velos unstartup` removes it. -->
<plist version="1.0">
<dict>
  <key>Label</key><string>{name}</string>
{user_line}  <key>ProgramArguments</key>
  <array><string>{exe}</string><string>daemon</string><string>--foreground</string></array>
  <key>EnvironmentVariables</key>
  <dict><key>VELOS_HOME</key><string>{home}</string></dict>
  <key>RunAtLoad</key><true/>
  <!-- Back after a crash; a clean exit (`velos kill`) keeps it down. -->
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
  <!-- SIGTERM makes the daemon stop every app as `velos kill` does; SIGKILL after this many seconds. -->
  <key>ExitTimeOut</key><integer>{STOP_TIMEOUT_SECONDS}</integer>
  <key>StandardOutPath</key><string>{log}</string>
  <key>StandardErrorPath</key><string>{log}</string>
</dict>
</plist>
"#
    );
    let path_text = path.to_string_lossy().into_owned();
    Service {
        enable: vec![command(&["launchctl", "bootstrap", &domain, &path_text])],
        disable: vec![command(&["launchctl", "bootout", &domain, &path_text])],
        after_remove: Vec::new(),
        name,
        path,
        text,
    }
}

fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(init: InitSystem, scope: Scope) -> Request {
        Request { init, scope, exe: "/usr/local/bin/velos".into(), velos_home: "/srv/velos 100%".into() }
    }

    #[test]
    fn a_system_unit_runs_the_daemon_as_the_user_for_this_home() {
        let service =
            service(&request(InitSystem::Systemd, Scope::System { user: "op".into() })).expect("a unit");
        assert_eq!(service.name, "velos-op.service");
        assert_eq!(service.path, PathBuf::from("/etc/systemd/system/velos-op.service"));
        assert!(service.text.contains("User=op\n"));
        assert!(service.text.contains("Environment=\"VELOS_HOME=/srv/velos 100%%\"\n"));
        assert!(service.text.contains("ExecStart=\"/usr/local/bin/velos\" daemon --foreground\n"));
        assert!(service.text.contains("KillMode=mixed\n") && service.text.contains("Restart=on-failure\n"));
        assert!(service.text.contains("WantedBy=multi-user.target\n"));
        assert_eq!(service.enable[1], ["systemctl", "enable", "--now", "velos-op.service"]);
    }

    #[test]
    fn a_user_unit_goes_to_the_users_config() {
        let scope = Scope::User { user: "op".into(), user_home: "/home/op".into() };
        let service = service(&request(InitSystem::Systemd, scope)).expect("a unit");
        assert_eq!(service.path, PathBuf::from("/home/op/.config/systemd/user/velos.service"));
        assert!(!service.text.contains("User="));
        assert!(service.text.contains("WantedBy=default.target\n"));
        assert_eq!(service.disable[0], ["systemctl", "--user", "disable", "velos.service"]);
    }

    #[test]
    fn quotes_and_dollars_are_escaped() {
        let mut unusual = request(InitSystem::Systemd, Scope::System { user: "op".into() });
        unusual.exe = PathBuf::from("/opt/a \"b\" $c/velos");
        let text = service(&unusual).expect("a unit").text;
        assert!(text.contains("ExecStart=\"/opt/a \\\"b\\\" $$c/velos\" daemon --foreground\n"), "{text}");
    }

    #[test]
    fn a_launchd_job_keeps_the_daemon_alive_unless_it_exits_cleanly() {
        let scope = Scope::User { user: "op".into(), user_home: "/Users/op".into() };
        let service = service(&request(InitSystem::Launchd, scope)).expect("a job");
        assert_eq!(service.path, PathBuf::from("/Users/op/Library/LaunchAgents/dev.velos.daemon.plist"));
        assert!(service.text.contains("<key>SuccessfulExit</key><false/>"));
        assert!(service.text.contains("<string>/srv/velos 100%</string>"));
    }

    #[test]
    fn relative_or_unprintable_paths_are_refused() {
        let mut relative = request(InitSystem::Systemd, Scope::System { user: "op".into() });
        relative.velos_home = PathBuf::from("velos");
        assert!(matches!(service(&relative), Err(StartupError::NotAbsolute { .. })));
        relative.velos_home = PathBuf::from("/a\nb");
        assert!(matches!(service(&relative), Err(StartupError::Unquotable { .. })));
    }
}
