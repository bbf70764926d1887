//! `velos startup` / `velos unstartup`: start the daemon of this VELOS_HOME at boot, through systemd or
//! launchd. The service text comes from velos_ops::startup (pure); this writes it and runs the
//! service manager, or, when it may not (not root, no `--user`, another OS), prints what to run.
use super::Context;
use crate::cli::{InitArg, StartupArgs, UnstartupArgs};
use crate::error::CliError;
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use velos_ops::startup::{service, InitSystem, Request, Scope, Service};

pub fn startup(context: &Context, args: &StartupArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (service, can_act) = prepare(context, args.init, args.user)?;
    if args.print {
        write!(out, "{}", service.text)?;
        return Ok(());
    }
    if !can_act {
        writeln!(out, "{}", service.text)?;
        writeln!(out, "# To install it, save the text above as {} and run:", service.path.display())?;
        for command in &service.enable {
            writeln!(out, "sudo {}", command.join(" "))?;
        }
        writeln!(out, "# (or run `velos startup --user` for your own service manager, no sudo)")?;
        return Ok(());
    }
    write_file(&service)?;
    let running = context.ops.ping(velos_ops::PingRequest {}).is_ok();
    for command in &service.enable {
        let mut command = command.clone();
        if running {
            // `--now` would start a second daemon on this home: the first one holds its lock.
            command.retain(|word| word != "--now");
        }
        run(&command)?;
    }
    writeln!(out, "installed {} ({})", service.name, service.path.display())?;
    if running {
        writeln!(
            out,
            "a daemon runs already outside it: `velos kill`, then `{}` hands it over",
            start_line(&service)
        )?;
    } else {
        writeln!(out, "started: the daemon of {} now runs under it", context.ops.home().root().display())?;
    }
    if args.user && InitSystem::native() == InitSystem::Systemd {
        writeln!(out, "to start it at boot without logging in: loginctl enable-linger {}", user_name()?)?;
    }
    Ok(())
}

pub fn unstartup(context: &Context, args: &UnstartupArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (service, can_act) = prepare(context, args.init, args.user)?;
    if !service.path.exists() {
        writeln!(out, "no {} at {}: nothing to remove", service.name, service.path.display())?;
        return Ok(());
    }
    if !can_act {
        for command in &service.disable {
            writeln!(out, "sudo {}", command.join(" "))?;
        }
        writeln!(out, "sudo rm {}", service.path.display())?;
        for command in &service.after_remove {
            writeln!(out, "sudo {}", command.join(" "))?;
        }
        return Ok(());
    }
    for command in &service.disable {
        run(command)?;
    }
    std::fs::remove_file(&service.path).map_err(|error| {
        CliError::new(format!("could not remove {}", service.path.display())).cause(error.to_string())
    })?;
    for command in &service.after_remove {
        run(command)?;
    }
    writeln!(out, "removed {}; the daemon keeps running until `velos kill`", service.name)?;
    Ok(())
}

/// The service for this home, and whether this process may install it itself.
fn prepare(context: &Context, init: Option<InitArg>, user: bool) -> Result<(Service, bool), CliError> {
    let init = match init {
        Some(InitArg::Systemd) => InitSystem::Systemd,
        Some(InitArg::Launchd) => InitSystem::Launchd,
        None => InitSystem::native(),
    };
    let user_name = user_name()?;
    let scope = if user {
        let user_home =
            std::env::var_os("HOME").filter(|home| !home.is_empty()).map(PathBuf::from).ok_or_else(|| {
                CliError::new("HOME is not set: the user's service folder is under it")
                    .hint("export HOME=/home/you")
            })?;
        Scope::User { user: user_name, user_home }
    } else {
        Scope::System { user: user_name }
    };
    let exe = context.ops.velos_exe()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let request = Request { init, scope, exe, velos_home: context.ops.home().root().to_path_buf() };
    let service = service(&request)
        .map_err(|error| CliError::new(error.to_string()).hint("velos startup --home /absolute/path"))?;
    let can_act = init == InitSystem::native() && (user || is_root()?);
    Ok((service, can_act))
}

fn write_file(service: &Service) -> Result<(), CliError> {
    let failed = |error: std::io::Error| {
        CliError::new(format!("could not write {}", service.path.display()))
            .cause(error.to_string())
            .hint("velos startup --print shows the unit to install by hand")
    };
    if let Some(folder) = service.path.parent() {
        std::fs::create_dir_all(folder).map_err(failed)?;
    }
    // Written whole to a temporary file and renamed: a half-written unit is never seen.
    let temporary = service.path.with_extension("velos-tmp");
    std::fs::write(&temporary, &service.text).map_err(failed)?;
    std::fs::rename(&temporary, &service.path).map_err(failed)
}

fn run(command: &[String]) -> Result<(), CliError> {
    let line = command.join(" ");
    let (program, args) = command.split_first().ok_or_else(|| CliError::new("an empty command"))?;
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|error| CliError::new(format!("could not run `{line}`")).cause(error.to_string()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        return Err(CliError::new(format!("`{line}` failed ({})", output.status))
            .cause(stderr)
            .hint("velos startup --print shows the unit to install by hand"));
    }
    Ok(())
}

fn start_line(service: &Service) -> String {
    service
        .enable
        .last()
        .map(|command| command.join(" ").replace("enable --now", "start"))
        .unwrap_or_default()
}

fn id(flag: &str) -> Result<String, CliError> {
    let output = Command::new("id")
        .arg(flag)
        .output()
        .map_err(|error| CliError::new("could not run `id` to learn who you are").cause(error.to_string()))?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

fn user_name() -> Result<String, CliError> {
    id("-un")
}

fn is_root() -> Result<bool, CliError> {
    Ok(id("-u")? == "0")
}
