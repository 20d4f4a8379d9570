//! A sleep that costs one madsim timer however often it is polled.
//!
//! madsim's `Sleep` adds an entry to the simulation's timer heap on every pending poll, and an
//! entry is only removed when it fires. A sleep polled in a loop (a `select!` whose other
//! branches keep waking the task) therefore fills the heap with copies, and every copy holds a
//! waker, which keeps its task's memory alive until the deadline. With thousands of live
//! workflows that heap grew to hundreds of thousands of entries and was one of the costs that
//! grew with scale. An [`Alarm`] registers once per deadline and waker.
//!
//! Invariant: an alarm becomes ready at the first poll at or after its deadline (virtual time),
//! exactly like `tokio::time::sleep_until`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio::time::{Instant, Sleep};

pub struct Alarm {
    deadline: Instant,
    sleep: Pin<Box<Sleep>>,
    /// The waker the timer entry wakes, once one is registered for this deadline.
    armed: Option<Waker>,
}

impl Alarm {
    pub fn at(deadline: Instant) -> Self {
        Alarm {
            deadline,
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
            armed: None,
        }
    }

    /// Moves the alarm to `deadline` (a no-op when it is already set there).
    pub fn reset(&mut self, deadline: Instant) {
        if deadline != self.deadline {
            *self = Alarm::at(deadline);
        }
    }

    /// The alarm kept in `slot` (as a loop keeps one across iterations), set to `deadline`.
    pub fn arm(slot: &mut Option<Alarm>, deadline: Instant) -> &mut Alarm {
        match slot {
            Some(alarm) => {
                alarm.reset(deadline);
                alarm
            }
            None => slot.insert(Alarm::at(deadline)),
        }
    }
}

impl Future for Alarm {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        if crate::clock::instant_now() >= this.deadline {
            return Poll::Ready(());
        }
        if this.armed.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        let poll = this.sleep.as_mut().poll(cx);
        this.armed = Some(cx.waker().clone());
        poll
    }
}

/// The deadline passed before the future finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed;

/// `fut`'s output, or `Elapsed` once `duration` of virtual time has passed (the future wins a
/// tie). Unlike madsim's `timeout`, which re-registers its timer every time `fut` wakes, this
/// costs one timer.
pub async fn timeout<F: Future>(
    duration: std::time::Duration,
    fut: F,
) -> Result<F::Output, Elapsed> {
    let alarm = Alarm::at(crate::clock::instant_now() + duration);
    tokio::select! {
        biased;
        out = fut => Ok(out),
        _ = alarm => Err(Elapsed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// madsim advances virtual time by a few nanoseconds per poll: "at" means within 1 ms.
    fn assert_at(start: Instant, secs: u64) {
        let elapsed = crate::clock::instant_now() - start;
        let want = Duration::from_secs(secs);
        assert!(
            elapsed >= want && elapsed < want + Duration::from_millis(1),
            "woke at {elapsed:?}, want {want:?}"
        );
    }

    #[test]
    fn fires_at_its_deadline_and_not_before() {
        let rt = madsim::runtime::Runtime::with_seed_and_config(1, madsim::Config::default());
        rt.block_on(async {
            let start = crate::clock::instant_now();
            let mut alarm = Alarm::at(start + Duration::from_secs(5));
            // Polled repeatedly before the deadline (as a select! loop does): stays pending.
            for _ in 0..3 {
                let woke = tokio::time::timeout(Duration::from_secs(1), &mut alarm).await;
                assert!(woke.is_err());
            }
            (&mut alarm).await;
            assert_at(start, 5);
            // Moved later: pending again until the new deadline.
            alarm.reset(start + Duration::from_secs(7));
            alarm.await;
            assert_at(start, 7);
        });
    }

    #[test]
    fn timeout_returns_the_output_or_elapsed() {
        let rt = madsim::runtime::Runtime::with_seed_and_config(1, madsim::Config::default());
        rt.block_on(async {
            let start = crate::clock::instant_now();
            let quick = timeout(Duration::from_secs(2), async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                7
            });
            assert_eq!(quick.await, Ok(7));
            let slow = timeout(
                Duration::from_secs(2),
                tokio::time::sleep(Duration::from_secs(3)),
            );
            assert_eq!(slow.await, Err(Elapsed));
            assert_at(start, 3);
        });
    }
}
