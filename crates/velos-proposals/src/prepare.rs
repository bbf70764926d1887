//! What a reviewer reads about a patch, computed without writing anything: the patched text, its unified
//! diff, whether it is valid (with the problems found, placed in the patched text), and the plan.
use crate::Problem;
use std::path::Path;
use velos_config::{ConfigError, Patch, Project};
use velos_core::ProcessRecord;

/// A patch of one file, looked at.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The file's text after the patch (empty when the patch could not be applied at all).
    pub text: String,
    /// Unified diff, `a/velos.toml` → `b/velos.toml`; empty when nothing changes.
    pub diff: String,
    /// The plan against `live` as `velos plan` prints it; empty when the file is not valid.
    pub plan: String,
    /// The plan as data (`None` when the file is not valid).
    pub plan_data: Option<velos_reconcile::Plan>,
    /// The project the patched file describes, when valid.
    pub project: Option<Project>,
    pub diagnostics: Vec<Problem>,
}

impl Prepared {
    pub fn valid(&self) -> bool {
        self.project.is_some() && self.diagnostics.is_empty()
    }
}

/// Applies `patch` (a JSON merge patch object or the whole file as a string) to `source`, the current text
/// of `file` (the project `project`), and plans the result against `live`. Writes nothing; a patch that
/// renames the project is refused, since approving it would change another project.
pub fn prepare(
    file: &Path,
    source: &str,
    project: &str,
    patch: &serde_json::Value,
    live: &[ProcessRecord],
) -> Prepared {
    let mut prepared = Prepared {
        text: String::new(),
        diff: String::new(),
        plan: String::new(),
        plan_data: None,
        project: None,
        diagnostics: vec![],
    };
    let patch = match Patch::from_json(patch.clone()) {
        Ok(patch) => patch,
        Err(reason) => {
            prepared.diagnostics.push(unplaced(reason, None));
            return prepared;
        }
    };
    prepared.text = match velos_config::patched_text(source, file, &patch) {
        Ok(text) => text,
        Err(error) => {
            prepared.diagnostics = problems(&error);
            return prepared;
        }
    };
    prepared.diff = unified_diff(source, &prepared.text);
    let patched = match velos_config::parse_as(&prepared.text, file, file) {
        Ok(patched) => patched,
        Err(error) => {
            prepared.diagnostics = problems(&error);
            return prepared;
        }
    };
    if patched.name != project {
        prepared.diagnostics.push(unplaced(
            format!("the patch renames project `{project}` to `{}`", patched.name),
            Some("keep `[project] name`; propose a change of one project at a time".into()),
        ));
        return prepared;
    }
    match velos_reconcile::plan(&patched, live) {
        Ok(plan) => {
            prepared.plan = velos_reconcile::render(&plan, false);
            prepared.plan_data = Some(plan);
            prepared.project = Some(patched);
        }
        Err(error) => prepared.diagnostics.push(unplaced(error.to_string(), None)),
    }
    prepared
}

/// `a/velos.toml` → `b/velos.toml`, three lines of context.
pub fn unified_diff(old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header("a/velos.toml", "b/velos.toml")
        .to_string()
}

fn unplaced(message: String, help: Option<String>) -> Problem {
    Problem { line: 0, column: 0, message, help }
}

fn problems(error: &ConfigError) -> Vec<Problem> {
    match error.diagnostics() {
        [] => vec![unplaced(error.to_string(), None)],
        diagnostics => diagnostics
            .iter()
            .map(|diagnostic| Problem {
                line: diagnostic.line,
                column: diagnostic.column,
                message: diagnostic.message.clone(),
                help: diagnostic.help.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SOURCE: &str =
        "[project]\nname = \"shop\"\n\n[apps.web]\ncommand = \"/bin/sleep\"\nargs = [\"60\"] # one minute\n";

    #[test]
    fn a_valid_patch_gets_a_diff_and_a_plan_of_creates_on_an_empty_host() {
        let prepared = prepare(
            Path::new("/srv/shop/velos.toml"),
            SOURCE,
            "shop",
            &json!({"apps": {"web": {"args": ["90"]}}}),
            &[],
        );
        assert!(prepared.valid(), "{:?}", prepared.diagnostics);
        assert!(
            prepared.diff.contains("-args = [\"60\"] # one minute\n+args = [\"90\"] # one minute\n"),
            "{}",
            prepared.diff
        );
        assert!(prepared.diff.starts_with("--- a/velos.toml\n+++ b/velos.toml\n"), "{}", prepared.diff);
        assert!(prepared.plan.contains("+ create web"), "{}", prepared.plan);
    }

    #[test]
    fn an_invalid_patch_is_kept_with_its_problems_and_its_diff() {
        let prepared = prepare(
            Path::new("/srv/shop/velos.toml"),
            SOURCE,
            "shop",
            &json!({"apps": {"web": {"comand": "x"}}}),
            &[],
        );
        assert!(!prepared.valid());
        assert!(prepared.diff.contains("+comand = \"x\""), "{}", prepared.diff);
        let first = &prepared.diagnostics[0];
        assert_eq!((first.line, first.message.as_str()), (7, "unknown key `comand` in [apps.web]"));
        assert!(prepared.plan.is_empty());
    }

    #[test]
    fn renaming_the_project_or_a_bad_patch_is_refused() {
        let renamed = prepare(
            Path::new("/srv/shop/velos.toml"),
            SOURCE,
            "shop",
            &json!({"project": {"name": "x"}}),
            &[],
        );
        assert!(renamed.diagnostics[0].message.contains("renames project"), "{:?}", renamed.diagnostics);
        let bad = prepare(Path::new("/srv/shop/velos.toml"), SOURCE, "shop", &json!(42), &[]);
        assert!(!bad.valid() && bad.diff.is_empty());
    }
}
