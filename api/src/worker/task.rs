//! A node's outbox task (webhook deliveries, WeChat subscribe messages):
//! rounds of work, each followed by a wait until the next commit on this
//! node, the round's own deadline, or a stop. The handle stops the task on
//! `shutdown` or when it is dropped.

use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::store::{StoreResult, stream};

/// A running task; stops on `shutdown` or when dropped.
pub struct Task {
    _alive: Arc<()>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Task {
    /// Runs `round` until stopped: after each round, waits for the next
    /// commit on this node, the wait the round returned, or the stop. A
    /// failed round is logged (as `what`) and retried after a second.
    pub fn rounds<S, F>(what: &'static str, state: S, round: F) -> Task
    where
        S: Send + Sync + 'static,
        F: for<'a> RoundFn<'a, S> + Send + 'static,
    {
        let alive = Arc::new(());
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(what, state, round, Arc::downgrade(&alive), stopped));
        Task {
            _alive: alive,
            stop,
            task: Mutex::new(Some(task)),
        }
    }

    /// Stops the task; work in flight is abandoned (its lease runs out and
    /// another node, or the next start, does it).
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = task {
            t.abort();
            let _ = t.await;
        }
    }
}

/// One round over the task's state: how long to wait before the next.
pub trait RoundFn<'a, S: 'a> {
    type Fut: Future<Output = StoreResult<Duration>> + Send + 'a;
    fn call(&self, state: &'a S) -> Self::Fut;
}

impl<'a, S: 'a, F, Fut> RoundFn<'a, S> for F
where
    F: Fn(&'a S) -> Fut,
    Fut: Future<Output = StoreResult<Duration>> + Send + 'a,
{
    type Fut = Fut;
    fn call(&self, state: &'a S) -> Fut {
        self(state)
    }
}

async fn run<S, F>(
    what: &'static str,
    state: S,
    round: F,
    alive: Weak<()>,
    mut stopped: watch::Receiver<bool>,
) where
    F: for<'a> RoundFn<'a, S>,
{
    let mut commits = stream::commits();
    while alive.strong_count() > 0 && !*stopped.borrow() {
        let wait = match round.call(&state).await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, task = what, "round failed");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = commits.changed() => {}
            _ = stopped.changed() => {}
            _ = tokio::time::sleep(wait) => {}
        }
    }
}
