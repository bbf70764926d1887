//! The controller's answer to "did it work?" and its `[project] on_failure` (docs/CONFIG.md, rollout).
//!
//! After a pass that applied a new revision, the apps it started are waited for (velos-reconcile's
//! [`wait_ready`], the same [`velos_reconcile::ReadyCheck`] as `velos apply`), and the revision is marked
//! ready or not in the history. When it is not: report it (`degraded`), or roll back to the last revision
//! that became ready, or stop the apps that are not ready; the remediation goes into the registry.
//!
//! Never flapping: a revision the registry says was rolled back (or stopped) is **held** — not applied
//! again at the next look, webhook or resync — and reported as the cause until another revision (a new
//! commit, a saved file) arrives. Meanwhile the host runs what the remediation left.
use super::*;
use velos_reconcile::ready_wait::{started, wait_ready, NotReady};
use velos_reconcile::remediation::{
    held_revision, last_ready, mark_ready, project_of_entry, record_remediation, Remediation, RemedyAction,
};

/// The shortest poll of the readiness wait (the apply's own poll is finer than a controller needs).
const READY_POLL_MIN: Duration = Duration::from_millis(20);

impl Controller {
    /// The status of a revision held back by a remediation, if it is.
    pub(crate) fn held(&self, project: &Project) -> Option<Converged> {
        let remediation = held_revision(&self.home, &project.name, &project.revision).ok()??;
        Some(Converged {
            state: SyncState::Degraded,
            message: remediation.describe(),
            class: None,
            hint: Some("push (or save) a fixed revision: it is applied as usual".into()),
        })
    }

    /// After `converged` applied `project`'s new revision: waits for what it started, marks the revision,
    /// and on failure does what `on_failure` says. Returns the status to write.
    pub(crate) fn settle(
        &self,
        project: &Project,
        converged: &velos_reconcile::Converged,
        daemon: &mut dyn Daemon,
        clock: &mut dyn Clock,
    ) -> Converged {
        let not_ready = self.await_ready(project, &converged.plan, &converged.report, daemon, clock);
        if let Err(error) = mark_ready(&self.home, &project.name, &project.revision, not_ready.is_empty()) {
            self.log(&format!("{}: cannot note readiness in the history: {error}", project.name));
        }
        if not_ready.is_empty() {
            return Converged { state: SyncState::Synced, message: String::new(), class: None, hint: None };
        }
        let reason = NotReady::describe(&not_ready);
        let short = velos_reconcile::short_revision(&project.revision);
        self.log(&format!("{}: {short} is not ready: {reason}", project.name));
        let remediation = match project.on_failure {
            velos_config::OnFailure::Report => {
                let hint = format!("velos logs {} --stderr shows why; push a fix", not_ready[0].name);
                return Converged {
                    state: SyncState::Degraded,
                    message: reason,
                    class: None,
                    hint: Some(hint),
                };
            }
            velos_config::OnFailure::Rollback => self.roll_back(project, &reason, daemon, clock),
            velos_config::OnFailure::Stop => Ok(self.stop(project, &reason, &not_ready, daemon, clock)),
        };
        match remediation {
            Ok(remediation) => {
                if let Err(error) = record_remediation(&self.home, &project.name, &remediation) {
                    self.log(&format!("{}: cannot record the remediation: {error}", project.name));
                }
                self.log(&format!("{}: {}", project.name, remediation.describe()));
                Converged {
                    state: SyncState::Degraded,
                    message: remediation.describe(),
                    class: None,
                    hint: Some("push (or save) a fixed revision: it is applied as usual".into()),
                }
            }
            Err(why) => Converged {
                state: SyncState::Degraded,
                message: format!("{reason}; on_failure = {}: {why}", project.on_failure.as_str()),
                class: None,
                hint: None,
            },
        }
    }

    fn await_ready(
        &self,
        project: &Project,
        plan: &Plan,
        report: &velos_reconcile::ApplyReport,
        daemon: &mut dyn Daemon,
        clock: &mut dyn Clock,
    ) -> Vec<NotReady> {
        let names = started(plan, report);
        let deadline = clock.now() + self.options.apply.timeout;
        let poll = self.options.apply.poll_interval.max(READY_POLL_MIN);
        // Judged as the controller's passes judge `depends_on`: by what its prober found (the record when
        // the prober's state is stale).
        let mut readiness = crate::ProbedReadiness::new(&self.home);
        wait_ready(project, &names, daemon, clock, &mut readiness, deadline, poll)
    }

    /// Applies the last revision that became ready, waits for it and records it.
    fn roll_back(
        &self,
        project: &Project,
        reason: &str,
        daemon: &mut dyn Daemon,
        clock: &mut dyn Clock,
    ) -> Result<Remediation, String> {
        let entry = last_ready(&self.home, &project.name, &project.revision)
            .map_err(|error| format!("cannot read the history: {error}"))?
            .ok_or_else(|| {
                format!("no earlier revision of {} became ready: nothing was rolled back", project.name)
            })?;
        let previous = project_of_entry(&entry)
            .map_err(|error| format!("apply #{} cannot be read back: {error}", entry.seq))?;
        let pass = Pass {
            home: &self.home,
            project: &previous,
            text: &entry.source_text,
            scope: Scope::Project,
            options: self.options.apply,
        };
        let converged = pass
            .run(daemon, clock, &mut |_, _, _| Gate::Apply, &mut |_| {})
            .map_err(|error| format!("the rollback could not be applied: {error}"))?;
        let short = velos_reconcile::short_revision(&previous.revision);
        if !converged.report.ok() {
            return Err(format!("the rollback to {short} failed too: {}", converged.report.summary()));
        }
        let not_ready = self.await_ready(&previous, &converged.plan, &converged.report, daemon, clock);
        let _ = mark_ready(&self.home, &previous.name, &previous.revision, not_ready.is_empty());
        if !not_ready.is_empty() {
            return Err(format!(
                "the rollback to {short} is not ready either: {}",
                NotReady::describe(&not_ready)
            ));
        }
        Ok(Remediation {
            action: RemedyAction::Rollback,
            from: project.revision.clone(),
            to: Some(previous.revision.clone()),
            reason: reason.to_string(),
            apps: Vec::new(),
            time_unix_ms: clock.unix_ms(),
        })
    }

    /// Stops the apps that are not ready (a STOP each; the daemon finishes them on its own).
    fn stop(
        &self,
        project: &Project,
        reason: &str,
        not_ready: &[NotReady],
        daemon: &mut dyn Daemon,
        clock: &mut dyn Clock,
    ) -> Remediation {
        let mut apps = Vec::new();
        for app in not_ready {
            match daemon.stop(&app.name) {
                Ok(_) => apps.push(app.name.clone()),
                Err(error) => self.log(&format!("{}: cannot stop {}: {error}", project.name, app.name)),
            }
        }
        Remediation {
            action: RemedyAction::Stop,
            from: project.revision.clone(),
            to: None,
            reason: reason.to_string(),
            apps,
            time_unix_ms: clock.unix_ms(),
        }
    }
}
