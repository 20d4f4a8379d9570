//! The futures [`WorkflowContext`] hands out: activities, timers, signals, conditions and
//! cancellation. Each reads and changes the run's [`State`] it shares with the context; none
//! registers a waker (the machine polls the workflow until nothing makes progress, and every
//! change a future can observe bumps `State::progress`).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use serde::de::DeserializeOwned;

#[cfg(doc)]
use super::context::{ActivityOptions, WorkflowContext};
use super::context::{Emitted, Link, State, TimerResult};
use super::error::ActivityFailed;
use crate::history::{Command, Failure, PayloadError};

/// The future of [`WorkflowContext::start_activity`].
#[must_use = "an activity future does nothing unless awaited"]
pub struct ActivityFuture<O> {
    pub(super) st: Rc<RefCell<State>>,
    pub(super) seq: u32,
    pub(super) done: bool,
    pub(super) _out: PhantomData<fn() -> O>,
}

impl<O> std::fmt::Debug for ActivityFuture<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivityFuture")
            .field("seq", &self.seq)
            .finish()
    }
}

impl<O> ActivityFuture<O> {
    /// Cancels the activity as its [`ActivityOptions::cancellation_type`] says (default
    /// TryCancel: request cancellation, and the future resolves at once with a cancelled
    /// `ActivityFailure`). If the schedule command was not sent yet, it is not sent.
    pub fn cancel(&self) {
        super::cancellation::cancel_activity(&mut self.st.borrow_mut(), self.seq);
    }
}

impl<O: DeserializeOwned> Future for ActivityFuture<O> {
    type Output = Result<O, ActivityFailed>;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        assert!(!self.done, "activity future polled after completion");
        let mut st = self.st.borrow_mut();
        let ready = st
            .activities
            .get_mut(&self.seq)
            .and_then(|slot| slot.result.take());
        let Some(result) = ready else {
            return Poll::Pending;
        };
        st.activities.remove(&self.seq);
        st.progress += 1;
        drop(st);
        self.done = true;
        Poll::Ready(match *result {
            Ok(payloads) => {
                let decoded = match &payloads {
                    Some(p) => p.decode_first(),
                    None => serde_json::from_value(serde_json::Value::Null)
                        .map_err(|e| PayloadError(e.to_string())),
                };
                decoded.map_err(|e| ActivityFailed {
                    failure: Failure::application(
                        format!("activity result: {e}"),
                        "PayloadDecodeError",
                        true,
                    ),
                })
            }
            Err(failure) => Err(ActivityFailed { failure }),
        })
    }
}

/// The future of [`WorkflowContext::timer`].
#[must_use = "a timer future does nothing unless awaited"]
pub struct TimerFuture {
    pub(super) st: Rc<RefCell<State>>,
    pub(super) seq: u32,
    pub(super) done: bool,
}

impl std::fmt::Debug for TimerFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerFuture")
            .field("seq", &self.seq)
            .finish()
    }
}

impl std::fmt::Debug for CancelledFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelledFuture").finish()
    }
}

impl TimerFuture {
    /// Cancels the timer (CancelTimer, or nothing if StartTimer was not sent yet); the future
    /// resolves to [`TimerResult::Cancelled`].
    pub fn cancel(&self) {
        let mut st = self.st.borrow_mut();
        let st = &mut *st;
        let Some(slot) = st.timers.get_mut(&self.seq) else {
            return;
        };
        if slot.result.is_some() {
            return;
        }
        if let Some(idx) = slot.cmd_index.take() {
            st.commands[idx].dropped = true;
        } else if slot.started {
            st.commands.push(Emitted {
                cmd: Command::CancelTimer {
                    timer_id: slot.timer_id.clone(),
                },
                link: Link::None,
                dropped: false,
            });
        }
        slot.result = Some(TimerResult::Cancelled);
        st.progress += 1;
    }
}

impl Future for TimerFuture {
    type Output = TimerResult;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<TimerResult> {
        assert!(!self.done, "timer future polled after completion");
        let mut st = self.st.borrow_mut();
        let ready = st
            .timers
            .get_mut(&self.seq)
            .and_then(|slot| slot.result.take());
        let Some(result) = ready else {
            return Poll::Pending;
        };
        if let Some(slot) = st.timers.remove(&self.seq) {
            st.timer_by_id.remove(&slot.timer_id);
        }
        st.progress += 1;
        drop(st);
        self.done = true;
        Poll::Ready(result)
    }
}

/// A typed view of one signal name's buffer.
pub struct SignalChannel<T> {
    pub(super) st: Rc<RefCell<State>>,
    pub(super) name: String,
    pub(super) _t: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for SignalChannel<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalChannel")
            .field("name", &self.name)
            .finish()
    }
}

impl<T: DeserializeOwned> SignalChannel<T> {
    /// The next signal of this name, in history order.
    pub fn recv(&self) -> SignalFuture<T> {
        SignalFuture {
            st: Rc::clone(&self.st),
            name: self.name.clone(),
            _t: PhantomData,
        }
    }

    /// The next buffered signal, if any.
    pub fn try_recv(&self) -> Option<Result<T, PayloadError>> {
        take_signal(&self.st, &self.name)
    }

    /// How many signals are buffered.
    pub fn pending(&self) -> usize {
        self.st
            .borrow()
            .signals
            .get(&self.name)
            .map_or(0, VecDeque::len)
    }
}

fn take_signal<T: DeserializeOwned>(
    st: &Rc<RefCell<State>>,
    name: &str,
) -> Option<Result<T, PayloadError>> {
    let mut st = st.borrow_mut();
    let input = st.signals.get_mut(name)?.pop_front()?;
    st.progress += 1;
    drop(st);
    Some(match input {
        Some(p) => p.decode_first(),
        None => serde_json::from_value(serde_json::Value::Null)
            .map_err(|e| PayloadError(format!("signal without input: {e}"))),
    })
}

/// The future of [`SignalChannel::recv`].
#[must_use = "a signal future does nothing unless awaited"]
pub struct SignalFuture<T> {
    pub(super) st: Rc<RefCell<State>>,
    pub(super) name: String,
    pub(super) _t: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for SignalFuture<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalFuture")
            .field("name", &self.name)
            .finish()
    }
}

impl<T: DeserializeOwned> Future for SignalFuture<T> {
    type Output = Result<T, PayloadError>;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
        match take_signal(&self.st, &self.name) {
            Some(v) => Poll::Ready(v),
            None => Poll::Pending,
        }
    }
}

/// The future of [`WorkflowContext::wait_condition`].
#[must_use = "a condition future does nothing unless awaited"]
pub struct ConditionFuture<F> {
    pub(super) st: Rc<RefCell<State>>,
    pub(super) condition: F,
    pub(super) registered: bool,
    pub(super) done: bool,
}

impl<F> std::fmt::Debug for ConditionFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConditionFuture")
            .field("done", &self.done)
            .finish()
    }
}

impl<F: FnMut() -> bool + Unpin> Future for ConditionFuture<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(());
        }
        if (this.condition)() {
            this.done = true;
            let mut st = this.st.borrow_mut();
            if this.registered {
                st.waiting_conditions -= 1;
                this.registered = false;
            }
            st.progress += 1;
            return Poll::Ready(());
        }
        if !this.registered {
            this.registered = true;
            this.st.borrow_mut().waiting_conditions += 1;
        }
        Poll::Pending
    }
}

impl<F> Drop for ConditionFuture<F> {
    fn drop(&mut self) {
        if self.registered {
            if let Ok(mut st) = self.st.try_borrow_mut() {
                st.waiting_conditions = st.waiting_conditions.saturating_sub(1);
            }
        }
    }
}

/// The future of [`WorkflowContext::cancelled`].
#[must_use = "a cancellation future does nothing unless awaited"]
pub struct CancelledFuture {
    pub(super) st: Rc<RefCell<State>>,
}

impl Future for CancelledFuture {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.st.borrow().cancel_requested {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
