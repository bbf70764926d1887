//! The app table's rows: grouped by project, sorted, filtered. Pure functions of the records.
use std::cmp::Ordering;
use velos_core::ProcessRecord;

/// Shown as the project of an app that carries no `project` label (started before labels existed).
pub const NO_PROJECT: &str = "-";

/// The column the table is sorted by, inside each project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Status,
    Cpu,
    Memory,
    Restarts,
    Uptime,
}

impl SortKey {
    const ORDER: [SortKey; 6] =
        [SortKey::Name, SortKey::Status, SortKey::Cpu, SortKey::Memory, SortKey::Restarts, SortKey::Uptime];

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Status => "status",
            SortKey::Cpu => "cpu",
            SortKey::Memory => "memory",
            SortKey::Restarts => "restarts",
            SortKey::Uptime => "uptime",
        }
    }

    /// The next key to the right (`delta` 1) or left (-1), wrapping.
    pub fn step(self, delta: isize) -> SortKey {
        let count = Self::ORDER.len() as isize;
        let index = Self::ORDER.iter().position(|key| *key == self).unwrap_or(0) as isize;
        Self::ORDER[(index + delta).rem_euclid(count) as usize]
    }

    /// Bigger numbers first reads best for the measures; names and statuses read best A→Z.
    pub fn descending_by_default(self) -> bool {
        matches!(self, SortKey::Cpu | SortKey::Memory | SortKey::Restarts | SortKey::Uptime)
    }
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewRow {
    /// A project's heading, with how many of its apps are shown.
    Project { name: String, shown: usize },
    /// An app: its index in the listed records.
    App(usize),
}

pub fn project_of(record: &ProcessRecord) -> &str {
    record.spec.labels.get("project").map_or(NO_PROJECT, String::as_str)
}

/// The app a process is an instance of (`web` for `web-1`): what stop, start and scale act on.
pub fn app_of(record: &ProcessRecord) -> &str {
    record.spec.labels.get("app").map_or(record.name.as_str(), String::as_str)
}

pub fn instance_of(record: &ProcessRecord) -> Option<&str> {
    record.spec.labels.get("instance").map(String::as_str)
}

/// Does the record match a filter typed after `/`: a case-insensitive part of its name, project or
/// status.
pub fn matches(record: &ProcessRecord, filter: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    let filter = filter.to_lowercase();
    [record.name.as_str(), project_of(record), record.status.as_str()]
        .iter()
        .any(|field| field.to_lowercase().contains(&filter))
}

/// The rows to show: projects A→Z, each with a heading then its apps in `sort` order (name breaks ties,
/// so the order is total and the table does not jump between refreshes).
pub fn build(records: &[ProcessRecord], filter: &str, sort: SortKey, descending: bool) -> Vec<ViewRow> {
    let mut shown: Vec<usize> =
        (0..records.len()).filter(|index| matches(&records[*index], filter)).collect();
    shown.sort_by(|a, b| {
        let (a, b) = (&records[*a], &records[*b]);
        let by_key = compare(a, b, sort);
        project_of(a)
            .cmp(project_of(b))
            .then(if descending { by_key.reverse() } else { by_key })
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut rows = Vec::with_capacity(shown.len() + 8);
    let mut index = 0;
    while index < shown.len() {
        let project = project_of(&records[shown[index]]);
        let count = shown[index..].iter().take_while(|at| project_of(&records[**at]) == project).count();
        rows.push(ViewRow::Project { name: project.to_string(), shown: count });
        rows.extend(shown[index..index + count].iter().map(|at| ViewRow::App(*at)));
        index += count;
    }
    rows
}

fn compare(a: &ProcessRecord, b: &ProcessRecord, sort: SortKey) -> Ordering {
    match sort {
        SortKey::Name => a.name.cmp(&b.name),
        SortKey::Status => a.status.as_str().cmp(b.status.as_str()),
        SortKey::Cpu => a.cpu.total_cmp(&b.cpu),
        SortKey::Memory => a.memory.cmp(&b.memory),
        SortKey::Restarts => a.restarts.cmp(&b.restarts),
        SortKey::Uptime => a.uptime_ms.cmp(&b.uptime_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use velos_core::{AppSpec, Status};

    fn record(name: &str, project: &str, cpu: f64) -> ProcessRecord {
        let mut spec = AppSpec::new(name, "/bin/true", "/");
        spec.labels.insert("project".into(), project.into());
        let mut record = ProcessRecord::fresh(spec, Status::Running, 1);
        record.cpu = cpu;
        record
    }

    #[test]
    fn groups_by_project_then_sorts_inside_each() {
        let records = vec![record("a", "shop", 1.0), record("b", "api", 5.0), record("c", "shop", 9.0)];
        let rows = build(&records, "", SortKey::Cpu, true);
        assert_eq!(
            rows,
            vec![
                ViewRow::Project { name: "api".into(), shown: 1 },
                ViewRow::App(1),
                ViewRow::Project { name: "shop".into(), shown: 2 },
                ViewRow::App(2),
                ViewRow::App(0),
            ]
        );
    }

    #[test]
    fn filter_matches_name_project_or_status_ignoring_case() {
        let records = vec![record("web", "shop", 0.0), record("worker", "jobs", 0.0)];
        assert_eq!(build(&records, "SHOP", SortKey::Name, false).len(), 2);
        assert_eq!(build(&records, "work", SortKey::Name, false)[1], ViewRow::App(1));
        assert!(build(&records, "nothing", SortKey::Name, false).is_empty());
    }

    #[test]
    fn sort_key_steps_wrap_both_ways() {
        assert_eq!(SortKey::Name.step(-1), SortKey::Uptime);
        assert_eq!(SortKey::Uptime.step(1), SortKey::Name);
    }
}
