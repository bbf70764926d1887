//! Patches of a whole velos.toml from outside Velos (REST `PATCH`, MCP `propose_patch`): an RFC 7396 JSON
//! merge patch applied to the TOML document, or the full text of a new file. Like [`crate::apply_edits`], the
//! document is changed with `toml_edit`, so comments, blank lines, key order and quoting of everything the
//! patch does not touch are kept, and the result is validated by the loader before anyone may write it.
//!
//! Merge patch rules, read for TOML: `null` deletes a key (or an app: `{"apps": {"web": null}}`); an object
//! merges into the table at its key, creating it when missing; anything else (string, number, boolean,
//! array) replaces the value. TOML has no null, so a `null` inside an array is refused.
use crate::diagnostic::ConfigError;
use crate::edit::{add_app, parse_document};
use crate::{parse_file, Project};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::path::Path;
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, TableLike, Value};

/// A change to a whole velos.toml, as a face receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Patch {
    /// An RFC 7396 JSON merge patch of the file, read as JSON (`{"apps": {"web": {"env": {"PORT": "8081"}}}}`).
    Merge(Json),
    /// The full text of the new file.
    Toml(String),
}

impl Patch {
    /// A patch as a JSON face receives it: a string is the TOML text of the whole file, an object a merge
    /// patch. Anything else is refused, since a merge patch that is not an object would replace the file.
    pub fn from_json(value: Json) -> Result<Patch, String> {
        match value {
            Json::String(text) => Ok(Patch::Toml(text)),
            Json::Object(_) => Ok(Patch::Merge(value)),
            other => Err(format!(
                "a patch is a JSON object (a merge patch) or a string (the whole velos.toml), not {}",
                json_kind(&other)
            )),
        }
    }
}

/// Applies `patch` to `source` (the text of the velos.toml at `path`) and validates the result. Returns the
/// new text and the project it describes, or why nothing can be written: a patch that does not apply
/// ([`ConfigError::BadPatch`]) or a result that is not a valid velos.toml ([`ConfigError::Invalid`], its
/// diagnostics pointing into the new text).
pub fn apply_patch(source: &str, path: &Path, patch: &Patch) -> Result<(String, Project), ConfigError> {
    let text = match patch {
        Patch::Toml(text) => text.clone(),
        Patch::Merge(json) => {
            let Json::Object(object) = json else {
                return Err(bad_patch(
                    path,
                    format!("a merge patch must be an object, not {}", json_kind(json)),
                ));
            };
            let mut document: DocumentMut = parse_document(source, path)?;
            merge_root(&mut document, object, path)?;
            document.to_string()
        }
    };
    let file = crate::canonical_file_path(path)
        .or_else(|_| crate::absolute(path))
        .map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    let project = parse_file(&text, path, file)?;
    Ok((text, project))
}

fn bad_patch(path: &Path, reason: String) -> ConfigError {
    ConfigError::BadPatch { file: path.to_path_buf(), reason }
}

/// The top level: `apps.NAME` objects for apps the file lacks become `[apps.NAME]` tables placed as
/// `velos start` places them; the rest merges as any table does.
fn merge_root(document: &mut DocumentMut, patch: &Map<String, Json>, path: &Path) -> Result<(), ConfigError> {
    for (key, value) in patch {
        if key == "apps" {
            if let Json::Object(apps) = value {
                merge_apps(document, apps, path)?;
                continue;
            }
        }
        let mut context = vec![key.clone()];
        merge_entry(document.as_table_mut(), key, value, Style::Standard, &mut context)
            .map_err(|reason| bad_patch(path, reason))?;
    }
    Ok(())
}

fn merge_apps(document: &mut DocumentMut, apps: &Map<String, Json>, path: &Path) -> Result<(), ConfigError> {
    for (app, value) in apps {
        let exists =
            document.get("apps").and_then(Item::as_table_like).is_some_and(|table| table.contains_key(app));
        match value {
            Json::Object(fields) if !exists => {
                let mut context = vec!["apps".to_string(), app.clone()];
                let mut table = Table::new();
                merge_table(&mut table, in_documented_order(fields), Style::Inline, &mut context)
                    .map_err(|reason| bad_patch(path, reason))?;
                add_app(document, app, &table, path)?;
            }
            _ => {
                if !document.contains_key("apps") {
                    let mut table = Table::new();
                    table.set_implicit(true);
                    document.insert("apps", Item::Table(table));
                }
                let Some(table) = document.get_mut("apps").and_then(Item::as_table_like_mut) else {
                    return Err(bad_patch(path, "`apps` is not a table".into()));
                };
                let mut context = vec!["apps".to_string(), app.clone()];
                merge_entry(table, app, value, Style::Inline, &mut context)
                    .map_err(|reason| bad_patch(path, reason))?;
            }
        }
    }
    Ok(())
}

/// A new app's keys in the order docs/CONFIG.md lists them (`command` first), then unknown ones, so the
/// table reads as one written by hand (JSON objects arrive here sorted by key).
fn in_documented_order(fields: &Map<String, Json>) -> Vec<(&String, &Json)> {
    let rank = |key: &str| crate::read::APP.iter().position(|field| field.name == key).unwrap_or(usize::MAX);
    let mut entries: Vec<(&String, &Json)> = fields.iter().collect();
    entries.sort_by_key(|(key, _)| rank(key));
    entries
}

/// How a table the patch creates is written: `[header]` tables at the top two levels (`[project]`,
/// `[velos.git]`), inline tables below (`env = { PORT = "8081" }`), as `velos set` writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Standard,
    Inline,
}

fn merge_table<'p>(
    table: &mut dyn TableLike,
    patch: impl IntoIterator<Item = (&'p String, &'p Json)>,
    children: Style,
    context: &mut Vec<String>,
) -> Result<(), String> {
    for (key, value) in patch {
        context.push(key.clone());
        merge_entry(table, key, value, children, context)?;
        context.pop();
    }
    Ok(())
}

/// Merges `value` into `table[key]`; `style` is how a table created there is written.
fn merge_entry(
    table: &mut dyn TableLike,
    key: &str,
    value: &Json,
    style: Style,
    context: &mut Vec<String>,
) -> Result<(), String> {
    let fields = match value {
        Json::Null => {
            table.remove(key);
            return Ok(());
        }
        Json::Object(fields) => fields,
        other => {
            set_value(table, key, to_toml(other, context)?);
            return Ok(());
        }
    };
    if !table.get(key).is_some_and(Item::is_table_like) {
        let created = match style {
            Style::Standard => {
                let mut created = Table::new();
                created.decor_mut().set_prefix("\n");
                Item::Table(created)
            }
            Style::Inline => Item::Value(Value::InlineTable(InlineTable::new())),
        };
        table.insert(key, created);
    }
    let Some(item) = table.get_mut(key) else { return Err(format!("cannot create `{}`", context.join("."))) };
    // Below a `[header]` table at the top level, tables may have headers too; deeper, they are inline.
    let standard_child = matches!(item, Item::Table(_)) && context.len() < 2;
    let children = if standard_child { Style::Standard } else { Style::Inline };
    let Some(child) = item.as_table_like_mut() else {
        return Err(format!("`{}` is not a table", context.join(".")));
    };
    merge_table(child, fields, children, context)
}

/// Replaces the value at `key`, keeping the spacing and comment around the old one, or adds it.
fn set_value(table: &mut dyn TableLike, key: &str, mut value: Value) {
    match table.get_mut(key) {
        Some(Item::Value(old)) => {
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        Some(item) => *item = Item::Value(value),
        None => {
            table.insert(key, Item::Value(value));
        }
    }
}

/// A JSON value (not an object at a key, which merges) as a TOML value.
fn to_toml(value: &Json, context: &[String]) -> Result<Value, String> {
    Ok(match value {
        Json::Null => return Err(format!("`{}`: TOML has no null inside an array", context.join("."))),
        Json::Bool(flag) => Value::from(*flag),
        Json::String(text) => Value::from(text.as_str()),
        Json::Number(number) => match (number.as_i64(), number.as_f64()) {
            (Some(integer), _) => Value::from(integer),
            (None, Some(float)) if number.is_f64() => Value::from(float),
            _ => return Err(format!("`{}`: {number} does not fit in a TOML integer", context.join("."))),
        },
        Json::Array(elements) => {
            let mut array = Array::new();
            for element in elements {
                array.push(to_toml(element, context)?);
            }
            Value::Array(array)
        }
        Json::Object(fields) => {
            let mut table = InlineTable::new();
            for (key, field) in fields {
                if !field.is_null() {
                    table.insert(key, to_toml(field, context)?);
                }
            }
            Value::InlineTable(table)
        }
    })
}

fn json_kind(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_objects_and_strings_are_patches() {
        assert!(matches!(Patch::from_json(json!("[apps]")), Ok(Patch::Toml(_))));
        assert!(matches!(Patch::from_json(json!({})), Ok(Patch::Merge(_))));
        let refused = Patch::from_json(json!([1])).err().unwrap_or_default();
        assert!(refused.contains("not an array"), "{refused}");
        assert!(Patch::from_json(Json::Null).is_err());
    }

    #[test]
    fn arrays_and_scalars_convert() {
        let value = to_toml(&json!(["a", 1, 1.5, true]), &[]).map(|value| value.to_string());
        assert_eq!(value.as_deref(), Ok("[\"a\", 1, 1.5, true]"));
        assert!(to_toml(&json!([null]), &["args".into()]).is_err());
        assert!(to_toml(&json!(u64::MAX), &["n".into()]).is_err());
    }
}
