//! Invariant checkers: each reads what one seeded run recorded (an [`Outcome`]) and says whether
//! a property held (the replay checker also holds the workflow code it replays against). A checker never
//! asks a node; everything it reads was recorded outside the nodes (synced histories, the
//! acknowledged-events log, the effect ledger, the services' durable state).
//!
//! The built-in invariants, one per file:
//! - [`ExactlyOnce`] (`exactly-once`): no activity lineage applied an external effect twice, no
//!   completed activity lost its effect, no failed/timed-out/canceled activity left one applied.
//! - [`Conservation`] (`conservation`): a bank-like service's total equals its initial total.
//!   Not in [`default_invariants`]: only for money-moving scenarios.
//! - [`Liveness`] (`liveness`): every workflow the client started closed, in time.
//! - [`HistoryWellFormed`] (`history-well-formed`): every history is structurally valid.
//! - [`ReplayDeterminism`] (`replay`): every closed history replays against the registry.
//! - [`Durability`] (`durability`): every acknowledged event is in the final history.
//! - [`ExpectedOutcome`] (`expected-outcome`): every workflow the scenario states an ending for
//!   ended that way (status, result, failure).
//! - [`RetryPolicyHeld`] (`retry-policy`): activity attempts never exceed the policy's maximum,
//!   non-retryable failures are not retried, retries wait the policy's backoff (and, without
//!   faults, no more), start-to-close timeouts fire no earlier than their deadline.
//! - [`SingleDispatch`] (`dispatch`): no activity attempt runs on two workers at once.
//! - [`TimersOnTime`] (`timers`): a durable timer's firing reaches a worker no earlier than its
//!   duration after the task that started it arrived (times as the workers saw them).
//! - [`IncompatibleReplay`] (`incompatible-replay`): histories fail to replay against a
//!   known-incompatible version of their workflow. Not in [`default_invariants`]: a scenario
//!   adds it with the version.
//!
//! A checker returns at most one [`Violation`] per run; when it finds several problems it lists
//! them all in the one message (separated by `"; "`), so the report stays one line per
//! invariant and the order is stable.
//!
//! # Writing your own invariant
//!
//! Implement [`Invariant`] and add it to the list you pass to [`check_all`]:
//!
//! ```
//! use std::sync::Arc;
//! use sim::checkers::{check_all, default_invariants, Invariant, Violation};
//! use sim::{Outcome, Registry};
//!
//! /// No run may have more than `max` events.
//! struct ShortHistories {
//!     max: usize,
//! }
//!
//! impl Invariant for ShortHistories {
//!     fn name(&self) -> &str {
//!         "short-histories"
//!     }
//!
//!     fn check(&self, outcome: &Outcome) -> Result<(), Violation> {
//!         for (exec, history) in &outcome.histories {
//!             if history.len() > self.max {
//!                 return Err(Violation::new(
//!                     self.name(),
//!                     format!("{exec} has {} events (max {})", history.len(), self.max),
//!                 ));
//!             }
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let registry = Registry::new(); // the workflow code the replay invariant replays against
//! let mut invariants = default_invariants(&registry);
//! invariants.push(Arc::new(ShortHistories { max: 100 }));
//! assert_eq!(invariants.last().unwrap().name(), "short-histories");
//!
//! // Checked against a recorded run (here an empty one: nothing was expected, nothing ran).
//! let outcome = Outcome {
//!     scenario: "empty".into(),
//!     seed: 1,
//!     plan: Default::default(),
//!     histories: Default::default(),
//!     acked: vec![],
//!     observed_acks: vec![],
//!     effects: vec![],
//!     unrecorded_effects: vec![],
//!     service_use: vec![],
//!     activity_failures: vec![],
//!     observed_attempts: vec![],
//!     observed_workflow_tasks: vec![],
//!     coverage: None,
//!     services: Default::default(),
//!     client: Default::default(),
//!     expected_workflows: vec![],
//!     expectations: vec![],
//!     trace_hash: 0,
//!     trace: vec![],
//!     messages_sent: 0,
//!     heal_at: Default::default(),
//!     ended_at: Default::default(),
//!     liveness_deadline: Default::default(),
//!     applied_faults: vec![],
//!     node_kills: vec![],
//!     requested_closes: vec![],
//!     updates: vec![],
//! };
//! assert!(check_all(&invariants, &outcome).is_empty());
//! ```

use std::fmt;
use std::sync::Arc;

use crate::record::Outcome;
use crate::sdk::Registry;

pub mod conservation;
pub mod dispatch;
pub mod durability;
pub mod exactly_once;
pub mod expected;
pub mod incompatible;
pub mod liveness;
pub mod replay;
pub mod retry_policy;
pub mod timers;
pub mod well_formed;

#[cfg(test)]
mod testkit;

pub use conservation::Conservation;
pub use dispatch::SingleDispatch;
pub use durability::Durability;
pub use exactly_once::ExactlyOnce;
pub use expected::ExpectedOutcome;
pub use incompatible::IncompatibleReplay;
pub use liveness::Liveness;
pub use replay::ReplayDeterminism;
pub use retry_policy::RetryPolicyHeld;
pub use timers::TimersOnTime;
pub use well_formed::HistoryWellFormed;

/// An invariant that did not hold: which one, and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// The invariant's name (`exactly-once`).
    pub invariant: String,
    /// Every problem found, separated by `"; "`, each naming the run, event or effect.
    pub message: String,
}

impl Violation {
    /// A violation of `invariant`, described by `message`.
    pub fn new(invariant: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            invariant: invariant.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.invariant, self.message)
    }
}

impl std::error::Error for Violation {}

/// A property of one recorded run.
pub trait Invariant: Send + Sync {
    /// A short, stable, kebab-case name (`"exactly-once"`).
    fn name(&self) -> &str;
    /// Checks the recorded run. Reads only `outcome` (and what the invariant was built with).
    fn check(&self, outcome: &Outcome) -> Result<(), Violation>;
}

/// The invariants every scenario gets: exactly-once, liveness, history-well-formed, replay,
/// durability, expected-outcome, retry-policy, dispatch (in that order); `replay` replays against `registry`.
pub fn default_invariants(registry: &Registry) -> Vec<Arc<dyn Invariant>> {
    vec![
        Arc::new(ExactlyOnce),
        Arc::new(Liveness),
        Arc::new(HistoryWellFormed),
        Arc::new(ReplayDeterminism::new(registry.clone())),
        Arc::new(Durability),
        Arc::new(ExpectedOutcome),
        Arc::new(RetryPolicyHeld),
        Arc::new(SingleDispatch),
        Arc::new(TimersOnTime),
    ]
}

/// Runs each invariant in order, returning every violation (in the invariants' order).
pub fn check_all(invariants: &[Arc<dyn Invariant>], outcome: &Outcome) -> Vec<Violation> {
    invariants
        .iter()
        .filter_map(|inv| inv.check(outcome).err())
        .collect()
}

/// Joins problems into one violation (none -> `Ok`).
pub(crate) fn verdict(name: &str, problems: Vec<String>) -> Result<(), Violation> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Violation::new(name, problems.join("; ")))
    }
}

/// Like [`verdict`], but spells out only the first `shown` problems and counts the rest.
pub(crate) fn verdict_capped(
    name: &str,
    problems: Vec<String>,
    shown: usize,
) -> Result<(), Violation> {
    if problems.is_empty() {
        return Ok(());
    }
    let shown = problems.len().min(shown.max(1));
    let mut message = problems[..shown].join("; ");
    if problems.len() > shown {
        message.push_str(&format!("; and {} more", problems.len() - shown));
    }
    Err(Violation::new(name, message))
}

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;

    struct AlwaysFails;
    impl Invariant for AlwaysFails {
        fn name(&self) -> &str {
            "always-fails"
        }
        fn check(&self, _: &Outcome) -> Result<(), Violation> {
            Err(Violation::new("always-fails", "as designed"))
        }
    }

    #[test]
    fn default_invariants_are_the_nine_in_order() {
        let names: Vec<String> = default_invariants(&registry())
            .iter()
            .map(|i| i.name().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "exactly-once",
                "liveness",
                "history-well-formed",
                "replay",
                "durability",
                "expected-outcome",
                "retry-policy",
                "dispatch",
                "timers"
            ]
        );
    }

    #[test]
    fn check_all_keeps_order_and_reports_every_violation() {
        let o = outcome();
        let mut invs = default_invariants(&registry());
        assert!(check_all(&invs, &o).is_empty());
        invs.insert(0, Arc::new(AlwaysFails));
        invs.push(Arc::new(AlwaysFails));
        let v = check_all(&invs, &o);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].to_string(), "always-fails: as designed");
        // A run whose expected workflow never started: liveness fails, between the two.
        let mut o = outcome();
        o.expected_workflows.push("wf-missing".into());
        let v = check_all(&invs, &o);
        let names: Vec<&str> = v.iter().map(|v| v.invariant.as_str()).collect();
        assert_eq!(names, ["always-fails", "liveness", "always-fails"]);
    }
}
