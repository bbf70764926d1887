//! `velos start PROGRAM ...` as velos.toml: the `[apps.NAME]` table added to the default project. Pure, so
//! the defaults are testable.
use crate::error::OpError;
use crate::verbs::start::{NewAppOptions, StartRequest};
use std::collections::BTreeMap;
use std::path::Path;
use toml_edit::{value, Array, InlineTable, Item, Table};
use velos_config::human as units;

/// The caller's variables an app gets unless `inherit_env` passes them all.
pub const PASSED_ENV: [&str; 8] = ["PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LC_ALL", "TZ"];

/// The app's name and its `[apps.NAME]` table.
#[derive(Debug, Clone)]
pub struct NewApp {
    pub name: String,
    pub table: Table,
}

/// `command` (quoted if the program has spaces), `args`, `cwd` (absolute: the app runs where the caller
/// is, not in VELOS_HOME), `[apps.NAME.env]` (the passed variables and `env`, or everything with
/// `inherit_env`), then each option given, in velos.toml syntax.
pub fn build_app(request: &StartRequest) -> Result<NewApp, OpError> {
    let options = &request.options;
    let name = match &options.name {
        Some(name) => name.clone(),
        None => Path::new(&request.target)
            .file_stem()
            .and_then(|stem| stem.to_str())
            .map(str::to_string)
            .unwrap_or_default(),
    };
    velos_core::validate_name(&name).map_err(|error| {
        let op_error = OpError::invalid(error.to_string());
        if options.name.is_none() {
            op_error.hint(format!("name the app: velos start --name NAME {}", request.target))
        } else {
            op_error.hint("use letters, digits, '.', '_' and '-' (at most 64, not starting with '.')")
        }
    })?;
    let cwd = match &options.cwd {
        Some(cwd) => request.caller_dir.join(cwd),
        None => request.caller_dir.clone(),
    };
    let cwd = cwd
        .to_str()
        .ok_or_else(|| OpError::invalid(format!("the directory {} is not valid UTF-8", cwd.display())))?
        .to_string();
    let mut table = Table::new();
    table.insert("command", value(velos_config::quote_program(&request.target)));
    if !request.args.is_empty() {
        table.insert("args", value(request.args.iter().collect::<Array>()));
    }
    table.insert("cwd", value(cwd));
    insert_options(&mut table, options);
    let env = environment(options, &request.caller_env);
    if !env.is_empty() {
        let mut env_table = Table::new();
        for (key, text) in env {
            env_table.insert(&key, value(text));
        }
        table.insert("env", Item::Table(env_table));
    }
    Ok(NewApp { name, table })
}

fn insert_options(table: &mut Table, options: &NewAppOptions) {
    if let Some(restart) = options.restart {
        table.insert("restart", value(restart.as_str()));
    }
    if let Some(max_restarts) = options.max_restarts {
        table.insert("max_restarts", value(i64::from(max_restarts)));
    }
    let duration = |milliseconds: u64| value(units::format_duration_ms(milliseconds));
    if let Some(window) = options.restart_window_ms {
        table.insert("restart_window", duration(window));
    }
    if options.backoff_initial_ms.is_some() || options.backoff_max_ms.is_some() {
        let mut backoff = InlineTable::new();
        if let Some(initial) = options.backoff_initial_ms {
            backoff.insert("initial", units::format_duration_ms(initial).into());
        }
        if let Some(max) = options.backoff_max_ms {
            backoff.insert("max", units::format_duration_ms(max).into());
        }
        table.insert("backoff", value(backoff));
    }
    if let Some(min_uptime) = options.min_uptime_ms {
        table.insert("min_uptime", duration(min_uptime));
    }
    if let Some(signal) = options.kill_signal {
        let name = units::format_signal(signal);
        table.insert(
            "kill_signal",
            if name.starts_with("SIG") { value(name) } else { value(i64::from(signal)) },
        );
    }
    if let Some(timeout) = options.kill_timeout_ms {
        table.insert("kill_timeout", duration(timeout));
    }
}

/// The passed variables of the caller (all of them with `inherit_env`), then `env` over them.
fn environment(options: &NewAppOptions, caller_env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = caller_env
        .iter()
        .filter(|(key, _)| options.inherit_env || PASSED_ENV.contains(&key.as_str()))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    env.extend(options.env.iter().map(|(key, value)| (key.clone(), value.clone())));
    env
}
