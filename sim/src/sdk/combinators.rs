//! Deterministic combinators over workflow futures: children are polled in the order they were
//! listed, and the first-listed ready child wins a tie. (Never `tokio::select!`: it picks at
//! random unless `biased;`.)

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// The output of [`select2`]: which side finished first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Either<A, B> {
    /// The first future (`a`) finished first, with this output.
    Left(A),
    /// The second future (`b`) finished first, with this output.
    Right(B),
}

/// Waits for the first of two futures; `a` wins a tie. Pass `&mut fut` to keep using the loser
/// (for instance to cancel a timer after a signal won).
pub fn select2<A, B>(a: A, b: B) -> Select2<A, B>
where
    A: Future + Unpin,
    B: Future + Unpin,
{
    Select2 { a, b }
}

/// The future of [`select2`]. Resolves to [`Either`]; the losing future is dropped with it (pass
/// `&mut fut` to keep it).
#[derive(Debug)]
pub struct Select2<A, B> {
    a: A,
    b: B,
}

impl<A: Future + Unpin, B: Future + Unpin> Future for Select2<A, B> {
    type Output = Either<A::Output, B::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(v) = Pin::new(&mut self.a).poll(cx) {
            return Poll::Ready(Either::Left(v));
        }
        if let Poll::Ready(v) = Pin::new(&mut self.b).poll(cx) {
            return Poll::Ready(Either::Right(v));
        }
        Poll::Pending
    }
}

/// Waits for the first of many futures; resolves to `(output, index)`. The lowest index wins a
/// tie. Panics if `futures` is empty (it would never resolve).
pub fn select_all<F: Future + Unpin>(futures: Vec<F>) -> SelectAll<F> {
    assert!(!futures.is_empty(), "select_all of no futures");
    SelectAll { futures }
}

/// The future of [`select_all`]. Resolves to `(output, index)` of the first future ready.
#[derive(Debug)]
pub struct SelectAll<F> {
    futures: Vec<F>,
}

impl<F: Future + Unpin> Future for SelectAll<F> {
    type Output = (F::Output, usize);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        for (i, f) in self.futures.iter_mut().enumerate() {
            if let Poll::Ready(v) = Pin::new(f).poll(cx) {
                return Poll::Ready((v, i));
            }
        }
        Poll::Pending
    }
}

enum MaybeDone<F: Future> {
    Pending(Pin<Box<F>>),
    Done(Option<F::Output>),
}

impl<F: Future> MaybeDone<F> {
    fn poll_step(&mut self, cx: &mut Context<'_>) -> bool {
        match self {
            MaybeDone::Pending(f) => match f.as_mut().poll(cx) {
                Poll::Ready(v) => {
                    *self = MaybeDone::Done(Some(v));
                    true
                }
                Poll::Pending => false,
            },
            MaybeDone::Done(_) => true,
        }
    }

    fn take(&mut self) -> F::Output {
        match self {
            MaybeDone::Done(v) => v.take().expect("join output taken twice"),
            MaybeDone::Pending(_) => unreachable!("join output taken before it was ready"),
        }
    }
}

/// Waits for both futures; polls `a` before `b` every time.
pub fn join<A: Future, B: Future>(a: A, b: B) -> Join<A, B> {
    Join {
        a: MaybeDone::Pending(Box::pin(a)),
        b: MaybeDone::Pending(Box::pin(b)),
    }
}

/// The future of [`join`]. Resolves to both outputs once both futures are ready.
pub struct Join<A: Future, B: Future> {
    a: MaybeDone<A>,
    b: MaybeDone<B>,
}

// The children are boxed; outputs are plain values, never pinned.
impl<A: Future, B: Future> Unpin for Join<A, B> {}

impl<A: Future, B: Future> Future for Join<A, B> {
    type Output = (A::Output, B::Output);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let a = this.a.poll_step(cx);
        let b = this.b.poll_step(cx);
        if a && b {
            Poll::Ready((this.a.take(), this.b.take()))
        } else {
            Poll::Pending
        }
    }
}

/// Waits for all futures; polls them in index order; outputs in index order.
pub fn join_all<F: Future>(futures: Vec<F>) -> JoinAll<F> {
    JoinAll {
        futures: futures
            .into_iter()
            .map(|f| MaybeDone::Pending(Box::pin(f)))
            .collect(),
    }
}

/// The future of [`join_all`]. Resolves to every output, in index order, once all are ready.
pub struct JoinAll<F: Future> {
    futures: Vec<MaybeDone<F>>,
}

impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut all = true;
        for f in self.futures.iter_mut() {
            all &= f.poll_step(cx);
        }
        if all {
            Poll::Ready(self.futures.iter_mut().map(MaybeDone::take).collect())
        } else {
            Poll::Pending
        }
    }
}
