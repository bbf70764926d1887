//! Comparing two desired states without a daemon (`velos diff FILE --against OTHER_FILE|GIT_REV`): the
//! other side is turned into the live records a host would hold right after applying it, and the first is
//! planned against those. The result reads exactly like a plan: what applying `desired` would change on a
//! host that runs `against`.
use crate::diff::spec_to_send;
use crate::plan::{plan, Plan, PlanError};
use velos_config::{DesiredState, Project};
use velos_core::{ProcessRecord, Status};

/// The records a host would hold after applying `project` and waiting: one per desired app, with the spec
/// and labels apply sends (in-place settings and dependencies included, so in-place changes compare too),
/// `running` or `stopped` as the file says, and labelled as project `as_project` so that a plan of that
/// project takes them as its own.
pub fn pseudo_live(project: &Project, as_project: &str) -> Vec<ProcessRecord> {
    project
        .apps
        .iter()
        .map(|desired| {
            let mut depends_on_apps: Vec<&str> = desired
                .depends_on
                .iter()
                .filter_map(|name| project.app(name))
                .map(|dependency| dependency.app.as_str())
                .collect();
            depends_on_apps.sort_unstable();
            depends_on_apps.dedup();
            let mut spec = spec_to_send(desired, &depends_on_apps);
            spec.labels.insert(crate::labels::PROJECT.to_string(), as_project.to_string());
            let status = match desired.state {
                DesiredState::Running => Status::Running,
                DesiredState::Stopped => Status::Stopped,
            };
            ProcessRecord::fresh(spec, status, 0)
        })
        .collect()
}

/// What applying `desired` would change on a host converged on `against` (same project, whatever name
/// `against` declares): [`plan()`] of `desired` against [`pseudo_live`]`(against)`. Empty when the two
/// describe the same processes, even if the files differ in comments, layout or key order.
pub fn diff_projects(desired: &Project, against: &Project) -> Result<Plan, PlanError> {
    plan(desired, &pseudo_live(against, &desired.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ActionType;
    use std::path::Path;

    const SHOP: &str = r#"[project]
name = "shop"

[apps.db]
command = "/bin/sleep"
args = ["3600"]

[apps.web]
command = "/bin/sleep"
args = ["3600"]
env = { PORT = "8080" }
depends_on = ["db"]
max_memory = "256M"

[apps.cron]
command = "/bin/sleep"
args = ["60"]
state = "stopped"
"#;

    fn project(text: &str) -> Project {
        velos_config::parse(text, Path::new("/srv/shop/velos.toml"))
            .unwrap_or_else(|error| panic!("{}", error.render()))
    }

    fn actions(desired: &str, against: &str) -> Vec<String> {
        let plan =
            diff_projects(&project(desired), &project(against)).unwrap_or_else(|error| panic!("{error}"));
        plan.describe_actions()
    }

    #[test]
    fn a_project_against_itself_is_empty_whatever_the_layout() {
        assert_eq!(actions(SHOP, SHOP), Vec::<String>::new());
        let reordered = format!(
            "# a comment\n{}",
            SHOP.replace(
                "args = [\"3600\"]\nenv = { PORT = \"8080\" }",
                "env = { PORT = \"8080\" }  # the port\nargs = [\"3600\"]"
            )
        );
        assert!(reordered.contains("# the port"));
        assert_eq!(actions(&reordered, SHOP), Vec::<String>::new());
    }

    #[test]
    fn pseudo_records_follow_the_file() {
        let records = pseudo_live(&project(SHOP), "other");
        let summary: Vec<(&str, Status, &str)> = records
            .iter()
            .map(|record| (record.name.as_str(), record.status, record.spec.labels["project"].as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("cron", Status::Stopped, "other"),
                ("db", Status::Running, "other"),
                ("web", Status::Running, "other")
            ]
        );
        let web = &records[2];
        assert_eq!(web.spec.spec_hash, web.spec.compute_hash());
        assert_eq!(web.spec.labels[crate::labels::DEPENDS_ON], "db");
        assert_eq!(web.spec.max_memory_bytes, 256u64 << 20);
    }

    #[test]
    fn each_kind_of_change_reads_like_a_plan() {
        let changed = SHOP
            .replace("8080", "8081")
            .replace("256M", "512M")
            .replace("state = \"stopped\"", "state = \"running\"")
            .replace("[apps.db]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n", "[apps.db]\ncommand = \"/bin/sleep\"\nargs = [\"3600\"]\n\n[apps.api]\ncommand = \"/bin/true\"\n");
        assert_eq!(actions(&changed, SHOP), ["create api", "start cron", "replace web"]);
        let plan =
            diff_projects(&project(&changed), &project(SHOP)).unwrap_or_else(|error| panic!("{error}"));
        let fields: Vec<&str> = plan
            .actions
            .iter()
            .filter(|action| action.kind.kind() == ActionType::Replace)
            .flat_map(|action| match &action.kind {
                crate::ActionKind::Replace { changes, .. } => {
                    changes.iter().map(|c| c.field.as_str()).collect()
                }
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(fields, ["env.PORT", "max_memory"]);

        let in_place_only = SHOP.replace("256M", "512M");
        assert_eq!(actions(&in_place_only, SHOP), ["update web"]);
        assert_eq!(actions(SHOP, &in_place_only), ["update web"]);
    }

    #[test]
    fn removed_apps_are_deleted_and_an_empty_side_creates_everything() {
        let without_cron = SHOP.split("[apps.cron]").next().unwrap_or_default().to_string();
        assert_eq!(actions(&without_cron, SHOP), ["delete cron"]);
        let empty = "[project]\nname = \"shop\"\n";
        assert_eq!(actions(SHOP, empty), ["create cron", "create db", "create web"]);
        // The other side's project name does not matter: it is compared as the same project.
        let renamed = SHOP.replace("name = \"shop\"", "name = \"old-shop\"");
        assert_eq!(actions(SHOP, &renamed), Vec::<String>::new());
    }
}
