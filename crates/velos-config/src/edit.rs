//! Every write of desired state goes through here (DESIGN §4): [`apply_edits`] changes the TOML document
//! with `toml_edit`, keeping comments, blank lines, key order and quoting, then validates the result; only
//! a valid file is returned. [`write_atomically`] puts it on disk without ever leaving a half-written file.
use crate::diagnostic::{did_you_mean, ConfigError, SourceMap};
use crate::{parse_file, DesiredState, Project};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, InlineTable, Item, Key, TableLike, Value};

/// One change to a velos.toml. Keys are those of `[apps.NAME]` (docs/CONFIG.md).
#[derive(Debug, Clone)]
pub enum Edit {
    /// `state = "running"` / `"stopped"` (`velos start` / `velos stop`). Setting `running` on an app without
    /// a `state` key changes nothing, since it is the default.
    SetState { app: String, state: DesiredState },
    /// `instances = N` (`velos scale`). Setting 1 on an app without an `instances` key changes nothing.
    SetInstances { app: String, instances: u32 },
    /// Sets a key of the app; `key` is dotted (`"kill_timeout"`, `"env.PORT"`, `"log.max_size"`), and the
    /// tables on the way are created as inline tables when missing (`env = { PORT = "8081" }`).
    Set { app: String, key: String, value: Value },
    /// Removes a key of the app (dotted like [`Edit::Set`]); removing an absent key changes nothing.
    Unset { app: String, key: String },
    /// Adds `[apps.NAME]` at the end of the file (`velos start server.js --name api`).
    AddApp { app: String, table: toml_edit::Table },
    /// Removes the app's table, its sub-tables and the comment lines right above it (`velos delete`).
    RemoveApp { app: String },
}

impl Edit {
    fn app(&self) -> &str {
        match self {
            Edit::SetState { app, .. }
            | Edit::SetInstances { app, .. }
            | Edit::Set { app, .. }
            | Edit::Unset { app, .. }
            | Edit::AddApp { app, .. }
            | Edit::RemoveApp { app } => app,
        }
    }
}

/// Applies `edits` in order to `source` (the text of the velos.toml at `path`) and validates the result.
/// Returns the new text and the project it describes (as [`crate::load`] will see it once written), or the
/// reason nothing can be written: an edit that does not apply, or a result that is not a valid velos.toml
/// (its diagnostics point into the new text).
pub fn apply_edits(source: &str, path: &Path, edits: &[Edit]) -> Result<(String, Project), ConfigError> {
    let mut document = parse_document(source, path)?;
    for edit in edits {
        apply_one(&mut document, edit, path)?;
    }
    let text = document.to_string();
    let file = crate::canonical_file_path(path)
        .or_else(|_| crate::absolute(path))
        .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    let project = parse_file(&text, path, file)?;
    Ok((text, project))
}

/// The document to edit; a file that is not TOML cannot be edited, only fixed by hand.
pub(crate) fn parse_document(source: &str, path: &Path) -> Result<DocumentMut, ConfigError> {
    source.parse().map_err(|error: toml_edit::TomlError| {
        let map = SourceMap::new(path, source);
        let diagnostic = map.diagnostic(
            error.span().unwrap_or(0..0),
            format!("invalid TOML: {}", error.message()),
            Some("fix the file by hand before editing it with velos".into()),
        );
        ConfigError::Invalid { file: path.to_path_buf(), diagnostics: vec![diagnostic] }
    })
}

fn apply_one(document: &mut DocumentMut, edit: &Edit, path: &Path) -> Result<(), ConfigError> {
    let bad_edit =
        |reason: String| ConfigError::BadEdit { file: path.to_path_buf(), app: edit.app().into(), reason };
    match edit {
        Edit::AddApp { app, table } => return add_app(document, app, table, path),
        Edit::RemoveApp { app } => {
            let removed = apps_table(document).and_then(|apps| apps.remove(app));
            return match removed {
                Some(_) => Ok(()),
                None => Err(unknown_app(&app_names(document), app, path)),
            };
        }
        _ => {}
    }
    let declared = document.get("apps").and_then(Item::as_table_like).and_then(|apps| apps.get(edit.app()));
    if !declared.is_some_and(Item::is_table_like) {
        return Err(unknown_app(&app_names(document), edit.app(), path));
    }
    let Some(table) = app_table(document, edit.app()) else {
        return Err(unknown_app(&[], edit.app(), path));
    };
    match edit {
        Edit::SetState { state, .. } => {
            if table.contains_key("state") || *state != DesiredState::Running {
                set_leaf(table, "state", Value::from(state.as_str()));
            }
        }
        Edit::SetInstances { instances, .. } => {
            if table.contains_key("instances") || *instances != 1 {
                set_leaf(table, "instances", Value::from(i64::from(*instances)));
            }
        }
        Edit::Set { key, value, .. } => {
            let keys = parse_key(key).map_err(bad_edit)?;
            let (leaf, parents) = keys.split_last().ok_or_else(|| bad_edit("empty key".into()))?;
            let mut current: &mut dyn TableLike = table;
            for parent in parents {
                if !current.contains_key(parent.get()) {
                    current.insert(parent.get(), Item::Value(Value::InlineTable(InlineTable::new())));
                }
                let item = current
                    .get_mut(parent.get())
                    .ok_or_else(|| bad_edit(format!("cannot create `{key}`")))?;
                current = item.as_table_like_mut().ok_or_else(|| {
                    bad_edit(format!("`{}` is not a table, so `{key}` cannot be set", parent.get()))
                })?;
            }
            set_leaf(current, leaf.get(), value.clone());
        }
        Edit::Unset { key, .. } => {
            let keys = parse_key(key).map_err(bad_edit)?;
            if keys.is_empty() {
                return Err(bad_edit("empty key".into()));
            }
            unset_path(table, &keys, key).map_err(bad_edit)?;
        }
        Edit::AddApp { .. } | Edit::RemoveApp { .. } => {}
    }
    Ok(())
}

/// Removes the key at `keys` below `table`; returns whether something was removed. A table on the way that
/// this leaves empty goes too (`velos unset web env.PORT` on `env = { PORT = "8081" }` removes `env`), so
/// unsetting what `set` added gives back the file as it was.
fn unset_path(table: &mut dyn TableLike, keys: &[Key], key: &str) -> Result<bool, String> {
    let Some((first, rest)) = keys.split_first() else { return Ok(false) };
    if rest.is_empty() {
        return Ok(table.remove(first.get()).is_some());
    }
    let Some(item) = table.get_mut(first.get()) else { return Ok(false) };
    let child = item
        .as_table_like_mut()
        .ok_or_else(|| format!("`{}` is not a table, so `{key}` cannot be unset", first.get()))?;
    let removed = unset_path(child, rest, key)?;
    if removed && child.is_empty() {
        table.remove(first.get());
    }
    Ok(removed)
}

fn parse_key(key: &str) -> Result<Vec<Key>, String> {
    Key::parse(key).map_err(|error| format!("`{key}` is not a key: {}", error.message()))
}

/// Replaces the value of `key`, keeping the spacing and comment around the old one, or adds `key`.
fn set_leaf(table: &mut dyn TableLike, key: &str, mut value: Value) {
    match table.get_mut(key) {
        Some(Item::Value(old)) => {
            let decor = old.decor().clone();
            *value.decor_mut() = decor;
            *old = value;
        }
        Some(item) => *item = Item::Value(value),
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

fn apps_table(document: &mut DocumentMut) -> Option<&mut dyn TableLike> {
    document.get_mut("apps").and_then(Item::as_table_like_mut)
}

fn app_table<'d>(document: &'d mut DocumentMut, app: &str) -> Option<&'d mut dyn TableLike> {
    apps_table(document)?.get_mut(app).and_then(Item::as_table_like_mut)
}

fn app_names(document: &DocumentMut) -> Vec<String> {
    document
        .get("apps")
        .and_then(Item::as_table_like)
        .map(|apps| apps.iter().map(|(name, _)| name.to_string()).collect())
        .unwrap_or_default()
}

fn unknown_app(names: &[String], app: &str, path: &Path) -> ConfigError {
    ConfigError::UnknownApp {
        file: path.to_path_buf(),
        app: app.to_string(),
        suggestion: did_you_mean(app, names.iter().map(String::as_str)),
    }
}

pub(crate) fn add_app(
    document: &mut DocumentMut,
    app: &str,
    table: &toml_edit::Table,
    path: &Path,
) -> Result<(), ConfigError> {
    // Comments at the very end of the file are printed after every table; keep them where they are in the
    // text (before the new table) by moving them into its prefix. A file of comments only (`#:schema`)
    // then still starts with them.
    let trailing = document.trailing().as_str().unwrap_or_default().to_string();
    let before = document.to_string();
    let separator = if !before.trim().is_empty() && !before.ends_with("\n\n") { "\n" } else { "" };
    let prefix = format!("{trailing}{separator}");
    if !document.contains_key("apps") {
        let mut apps = toml_edit::Table::new();
        apps.set_implicit(true);
        document.insert("apps", Item::Table(apps));
    }
    let not_a_table = || ConfigError::BadEdit {
        file: path.to_path_buf(),
        app: app.to_string(),
        reason: "`apps` is not a table".into(),
    };
    let exists =
        document.get("apps").and_then(Item::as_table_like).is_some_and(|apps| apps.contains_key(app));
    if exists {
        return Err(ConfigError::AppExists { file: path.to_path_buf(), app: app.to_string() });
    }
    let Some(apps) = document.get_mut("apps") else { return Err(not_a_table()) };
    match apps {
        Item::Table(apps) => {
            let mut table = table.clone();
            table.set_implicit(false);
            table.set_position(None);
            table.decor_mut().set_prefix(prefix);
            apps.insert(app, Item::Table(table));
            document.set_trailing("");
        }
        Item::Value(Value::InlineTable(apps)) => {
            apps.insert(app, Value::InlineTable(table.clone().into_inline_table()));
        }
        _ => return Err(not_a_table()),
    }
    Ok(())
}

/// Replaces the file at `path` with `contents` so that a reader sees the old file or the new one, never a
/// mix, even across a crash: write a temporary file in the same directory, fsync it, rename it over the
/// target, fsync the directory. Keeps the file's permissions (and owner, when allowed); writes through a
/// symlink to the file it points to. A new file gets mode 0666 less the umask.
pub fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    write_atomically_with_mode(path, contents, 0o666)
}

/// [`write_atomically`], a new file created with `mode` (less the umask; an existing file keeps its own):
/// `0o600` for what only Velos should read (history holds env values). The one atomic writer of Velos.
pub fn write_atomically_with_mode(path: &Path, contents: &str, mode: u32) -> std::io::Result<()> {
    let target = match std::fs::canonicalize(path) {
        Ok(target) => target,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => std::path::absolute(path)?,
        Err(error) => return Err(error),
    };
    let directory = target.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    let existing = std::fs::metadata(&target).ok();
    let mut builder = tempfile::Builder::new();
    let file_name = target.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let prefix = format!(".{file_name}.");
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        builder.permissions(std::fs::Permissions::from_mode(mode));
    }
    let mut temporary = builder.tempfile_in(&directory)?;
    temporary.write_all(contents.as_bytes())?;
    if let Some(existing) = &existing {
        temporary.as_file().set_permissions(existing.permissions())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            let current = temporary.as_file().metadata()?;
            if (current.uid(), current.gid()) != (existing.uid(), existing.gid()) {
                std::os::unix::fs::fchown(temporary.as_file(), Some(existing.uid()), Some(existing.gid()))?;
            }
        }
    }
    temporary.as_file().sync_all()?;
    temporary.persist(&target).map_err(|error| error.error)?;
    std::fs::File::open(&directory)?.sync_all()
}
