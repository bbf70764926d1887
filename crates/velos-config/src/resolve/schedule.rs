//! `cron_restart` and `watch`: checked here, carried to the controller as in-place labels (see
//! velos-reconcile's `diff::labels`), so a mistake is a `file:line:col` error at `velos validate` time
//! rather than a controller that silently never restarts the app.
use super::Resolver;
use crate::raw::{RawApp, RawWatch};
use crate::units::parse_duration_ms;
use std::path::{Component, Path, PathBuf};
use velos_schedule::{Cron, Glob, WatchSpec, DEBOUNCE_MS_DEFAULT, LABEL_VALUE_BYTES_MAX};

/// The range of `watch.debounce`.
const DEBOUNCE_MS_MIN: u64 = 10;
const DEBOUNCE_MS_MAX: u64 = 3_600_000;

impl Resolver<'_> {
    /// The checked `cron_restart` of app `name`, as written.
    pub(super) fn cron_restart(&mut self, name: &str, raw: &RawApp) -> Option<String> {
        let text = raw.cron_restart.as_ref()?;
        let path = ["apps", name, "cron_restart"];
        if text.len() > LABEL_VALUE_BYTES_MAX {
            let span = self.value_span(&path);
            self.error(span, format!("`cron_restart` is longer than {LABEL_VALUE_BYTES_MAX} bytes"), None);
            return None;
        }
        match Cron::parse(text) {
            Ok(_) => Some(text.trim().to_string()),
            Err(error) => {
                let span = self.inner_span(&path, text, error.span.start, error.span.len());
                let help = error.help.clone().or_else(|| {
                    Some("five fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\"".into())
                });
                self.error(span, format!("invalid `cron_restart`: {}", error.message), help);
                None
            }
        }
    }

    /// The resolved `watch` of app `name` running in `cwd`; `None` for none (`false`) or an error.
    pub(super) fn watch(&mut self, name: &str, raw: &RawApp, cwd: &str) -> Option<WatchSpec> {
        let settings = match raw.watch.as_ref()? {
            RawWatch::Enabled(false) => return None,
            RawWatch::Enabled(true) => Default::default(),
            RawWatch::Settings(settings) => settings.clone(),
        };
        let errors_before = self.diagnostics.len();
        let base = Path::new(cwd);
        let mut paths = Vec::new();
        match &settings.paths {
            None => paths.push(cwd.to_string()),
            Some(list) if list.is_empty() => {
                let span = self.value_span(&["apps", name, "watch", "paths"]);
                self.error(
                    span,
                    "`watch.paths` is empty: nothing would be watched",
                    Some("name a file or folder (relative to cwd), or remove `paths` to watch cwd".into()),
                );
            }
            Some(list) => {
                for (index, path) in list.iter().enumerate() {
                    let element = ["apps", name, "watch", "paths", &index.to_string()];
                    if path.is_empty() || path.contains('\0') || path.starts_with('~') {
                        let span = self.value_span(&element);
                        let help = "write a path relative to the app's cwd (`\"src\"`), or an absolute one";
                        self.error(span, format!("invalid watch path {path:?}"), Some(help.into()));
                        continue;
                    }
                    let joined = normalize(&base.join(path));
                    paths.push(joined.to_string_lossy().into_owned());
                }
            }
        }
        let mut ignore = Vec::new();
        for (index, pattern) in settings.ignore.iter().flatten().enumerate() {
            match Glob::new(pattern.trim_end_matches('/')) {
                Ok(_) => ignore.push(pattern.clone()),
                Err(error) => {
                    let span = self.value_span(&["apps", name, "watch", "ignore", &index.to_string()]);
                    let help = "patterns read like .gitignore: `*.log`, `node_modules`, `build/**`";
                    self.error(
                        span,
                        format!("invalid ignore pattern {pattern:?}: {error}"),
                        Some(help.into()),
                    );
                }
            }
        }
        let debounce_ms = match &settings.debounce {
            None => DEBOUNCE_MS_DEFAULT,
            Some(text) => {
                let path = ["apps", name, "watch", "debounce"];
                match parse_duration_ms(&text.0) {
                    Ok(ms) if (DEBOUNCE_MS_MIN..=DEBOUNCE_MS_MAX).contains(&ms) => ms,
                    Ok(_) => {
                        self.out_of_range(&path, &text.0, "10ms", "1h");
                        DEBOUNCE_MS_DEFAULT
                    }
                    Err(error) => {
                        self.unit_error(&path, error);
                        DEBOUNCE_MS_DEFAULT
                    }
                }
            }
        };
        paths.sort();
        paths.dedup();
        let spec = WatchSpec { paths, ignore, debounce_ms };
        let bytes = spec.to_label().len();
        if bytes > LABEL_VALUE_BYTES_MAX {
            let span = self.value_span(&["apps", name, "watch"]);
            self.error(
                span,
                format!("`watch` takes {bytes} bytes once resolved, more than the {LABEL_VALUE_BYTES_MAX} an app can carry"),
                Some("watch a few parent folders instead of many files".into()),
            );
        }
        (self.diagnostics.len() == errors_before).then_some(spec)
    }
}

/// `path` without `.` components and with `a/..` folded (lexically: watch paths are looked up when the
/// controller starts watching, not here).
fn normalize(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normalized.pop() {
                    normalized.push(component);
                }
            }
            other => normalized.push(other),
        }
    }
    normalized
}
