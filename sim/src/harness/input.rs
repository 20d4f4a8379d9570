//! What a sweep is given from outside: plan files (the one loader, [`load_plan`]), the
//! environment's `SIM_SEED`/`SIM_PLAN` (read once per sweep), and the seed set they select.
//! Every problem is a [`HarnessError`] naming the input.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::faults::{FaultPlan, Topology};
use crate::history::json::truncated;

/// Why a sweep could not start: its input (an environment variable, a plan file) is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HarnessError {
    /// An environment variable the harness reads has a value it cannot use.
    Env {
        /// The variable (`SIM_SEED`, `MADSIM_TEST_SEED`, `SIM_PLAN`).
        var: &'static str,
        /// What is wrong with its value.
        message: String,
    },
    /// A fault plan file that cannot be read, parsed or carried out.
    Plan {
        /// The file as given.
        path: PathBuf,
        /// What is wrong, with the line and column or the event where that applies.
        message: String,
    },
    /// The sweep holds no seed (an empty range, or a shard holding none of its seeds).
    NoSeeds {
        /// The seeds asked for and the shard, as text.
        asked: String,
    },
    /// The scenario uses a workflow or activity type its registry does not hold (found before
    /// the first seed: statically for the client's starts, by a fault-free run for the rest).
    Unregistered {
        /// `workflow` or `activity`.
        kind: &'static str,
        /// The type name used.
        name: String,
        /// Who uses it (`the client's start of order-1`, `workflow order-1`).
        used_by: String,
        /// The registered types of that kind.
        known: Vec<String>,
    },
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HarnessError::Env { var, message } => write!(f, "{var}: {message}"),
            HarnessError::Plan { path, message } => write!(f, "{}: {message}", path.display()),
            HarnessError::NoSeeds { asked } => write!(f, "no seed to run ({asked})"),
            HarnessError::Unregistered {
                kind,
                name,
                used_by,
                known,
            } => {
                write!(
                    f,
                    "{kind} type {name:?} (used by {used_by}) is not registered in the \
                     scenario's Registry"
                )?;
                if let Some(g) = crate::suggest::closest(name, known.iter().map(|k| k.as_str())) {
                    write!(f, "; did you mean {g:?}?")?;
                }
                if known.is_empty() {
                    write!(f, " (no {kind} is registered)")
                } else {
                    write!(f, " (registered: {})", known.join(", "))
                }
            }
        }
    }
}

impl std::error::Error for HarnessError {}

/// Reads a fault plan file (JSON, as `--out` writes it) and checks that a run of a scenario
/// with these `nodes` can carry it out. Every error names the file, and the line and column
/// (malformed JSON) or the event (an impossible fault).
pub fn load_plan(path: &Path, topology: &Topology) -> Result<FaultPlan, HarnessError> {
    // The message names the place; a long value it quotes (a 100 KB node name) is cut short.
    let err = |message: String| HarnessError::Plan {
        path: path.to_path_buf(),
        message: truncated(&message, MAX_MESSAGE_CHARS),
    };
    // A plan is read whole (its errors quote numbers as written); the plans `generate` and
    // `--out` write are a few KB, and `/dev/zero` is not a plan.
    const MAX_PLAN_BYTES: u64 = 16 << 20;
    let text = super::InputReader::open(path, MAX_PLAN_BYTES)
        .and_then(super::InputReader::read_text)
        .map_err(|e| err(e.to_string()))?;
    let plan = FaultPlan::from_json(&text).map_err(err)?;
    plan.validate(topology).map_err(err)?;
    Ok(plan)
}

/// The most characters of a plan error's message that are printed.
const MAX_MESSAGE_CHARS: usize = 2000;

/// What the environment asks of one sweep, read once when it starts.
#[derive(Default)]
pub(super) struct EnvOverrides {
    pub(super) seed: Option<u64>,
    pub(super) plan: Option<FaultPlan>,
    /// `SIM_OUT`: where failing seeds' artifacts go (created, and checked writable).
    pub(super) out: Option<PathBuf>,
    /// What was overridden, one line each, for the report.
    pub(super) notes: Vec<String>,
}

impl EnvOverrides {
    pub(super) fn read(topology: &Topology) -> Result<EnvOverrides, HarnessError> {
        let mut env = EnvOverrides::default();
        for var in ["SIM_SEED", "MADSIM_TEST_SEED"] {
            let Some(value) = std::env::var_os(var) else {
                continue;
            };
            let text = value.to_str().ok_or_else(|| HarnessError::Env {
                var,
                message: "not UTF-8".into(),
            })?;
            let seed = text.trim().parse::<u64>().map_err(|_| HarnessError::Env {
                var,
                message: format!("{text:?} is not a seed (a number from 0 to 2^64-1)"),
            })?;
            env.seed = Some(seed);
            env.notes.push(format!(
                "{var}={seed} from the environment: only seed {seed} runs"
            ));
            break;
        }
        if let Some(path) = std::env::var_os("SIM_PLAN") {
            // A plan the user asked for by name must be used as given, or not at all.
            let plan = load_plan(Path::new(&path), topology).map_err(|e| HarnessError::Env {
                var: "SIM_PLAN",
                message: e.to_string(),
            })?;
            env.plan = Some(plan);
            env.notes.push(format!(
                "SIM_PLAN={} from the environment: every seed runs that plan",
                Path::new(&path).display()
            ));
        }
        if let Some(dir) = std::env::var_os("SIM_OUT") {
            let dir = PathBuf::from(dir);
            let err = |e: std::io::Error| HarnessError::Env {
                var: "SIM_OUT",
                message: format!("{}: {e}", dir.display()),
            };
            std::fs::create_dir_all(&dir).map_err(err)?;
            let probe = dir.join(format!(".durasim-write-check-{}", std::process::id()));
            std::fs::write(&probe, b"").map_err(err)?;
            std::fs::remove_file(&probe).map_err(err)?;
            env.notes.push(format!(
                "SIM_OUT={} from the environment: failing seeds' plans, traces and histories \
                 are written there",
                dir.display()
            ));
            env.out = Some(dir);
        }
        Ok(env)
    }
}

/// The seeds a sweep runs: every `step`-th seed from `first`, `count` of them. Computed, never
/// listed: a sweep over `0..u64::MAX` costs no memory before it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SeedSet {
    pub(super) first: u64,
    pub(super) step: u64,
    pub(super) count: u64,
}

impl SeedSet {
    /// The seeds of `first..=last` with `seed % n == i % n`.
    pub(super) fn new(first: u64, last: u64, (i, n): (u64, u64)) -> SeedSet {
        let n = n.max(1);
        let offset = (i % n + n - first % n) % n;
        match first.checked_add(offset) {
            Some(start) if start <= last => SeedSet {
                first: start,
                step: n,
                count: (last - start) / n + 1,
            },
            _ => SeedSet {
                first,
                step: n,
                count: 0,
            },
        }
    }

    pub(super) fn get(&self, k: u64) -> Option<u64> {
        (k < self.count).then(|| self.first + k * self.step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes() -> Topology {
        Topology {
            workers: vec!["worker-1".into()],
            services: vec!["bank".into()],
            effect_operations: [("bank".to_string(), vec!["deposit".into()])].into(),
            workflows: vec!["transfer-1".into()],
        }
    }

    #[test]
    fn seed_sets_are_computed_not_listed() {
        let all = |first, last, shard| {
            let set = SeedSet::new(first, last, shard);
            (0..set.count)
                .map(|k| set.get(k).unwrap())
                .collect::<Vec<u64>>()
        };
        assert_eq!(all(0, 9, (1, 3)), vec![1, 4, 7]);
        assert_eq!(all(5, 5, (0, 1)), vec![5]);
        assert_eq!(all(u64::MAX, u64::MAX, (0, 1)), vec![u64::MAX]);
        assert_eq!(all(10, 12, (5, 7)), vec![12]);
        assert_eq!(all(10, 12, (6, 7)), Vec::<u64>::new());
        let huge = SeedSet::new(0, u64::MAX, (3, 4));
        assert_eq!(huge.count, 1 << 62);
        assert_eq!(huge.get(0), Some(3));
        assert_eq!(huge.get(huge.count - 1), Some(u64::MAX));
        assert_eq!(huge.get(huge.count), None);
    }

    #[test]
    fn load_plan_names_the_file_and_the_position_of_every_problem() {
        let dir = std::env::temp_dir().join(format!("durasim-load-plan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).unwrap();
            p
        };
        let cases: Vec<(PathBuf, &str)> = vec![
            (dir.join("absent.json"), "absent.json: "),
            (write("huge.json", &vec![b' '; (16 << 20) + 1]), "larger than 16 MiB"),
            (write("latin1.json", &[b'{', 0xe9, b'}']), "not UTF-8 (invalid byte at offset 1)"),
            (write("trunc.json", b"{\"events\": ["), "line 1 column"),
            (
                write(
                    "node.json",
                    br#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"kill","node":{"named":"worker-9"},"restart_after_ms":10}}],"heal_at_ms":1000}"#,
                ),
                "worker-9",
            ),
            (
                write("field.json", br#"{"events":[],"heal_at_ms":10,"heal_at":5}"#),
                "unknown field `heal_at`",
            ),
            (
                write(
                    "inner-field.json",
                    br#"{"events":[{"when":{"on":"at","ms":5,"sec":1},"fault":{"kind":"kill","node":"caller","restart_after_ms":10}}],"heal_at_ms":1000}"#,
                ),
                "unknown field `sec`",
            ),
            (
                write(
                    "partition.json",
                    br#"{"events":[{"when":{"on":"at","ms":5},"fault":{"kind":"partition","nodes":[],"duration_ms":10}}],"heal_at_ms":1000}"#,
                ),
                "a partition of no nodes cuts nothing off",
            ),
            (
                write(
                    "event-type.json",
                    br#"{"events":[{"when":{"on":"history","event_type":"ActivityStarted","nth":1},"fault":{"kind":"kill","node":"caller","restart_after_ms":10}}],"heal_at_ms":1000}"#,
                ),
                "\"ActivityStarted\" is not a history event type",
            ),
            (
                write(
                    "operation.json",
                    br#"{"events":[{"when":{"on":"effect","service":"bank","operation":"refund","nth":1},"fault":{"kind":"kill","node":"caller","restart_after_ms":10}}],"heal_at_ms":1000}"#,
                ),
                "bank records no effect \"refund\" (its effect operations: deposit)",
            ),
        ];
        for (path, expect) in cases {
            let e = load_plan(&path, &nodes()).unwrap_err();
            let text = e.to_string();
            assert!(text.starts_with(&path.display().to_string()), "{text}");
            assert!(text.contains(expect), "{text}");
        }
        let good = write("good.json", FaultPlan::none().to_json().as_bytes());
        assert_eq!(load_plan(&good, &nodes()), Ok(FaultPlan::none()));
        let bom = format!("\u{feff}{}", FaultPlan::none().to_json());
        let bom = write("bom.json", bom.as_bytes());
        assert_eq!(load_plan(&bom, &nodes()), Ok(FaultPlan::none()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
