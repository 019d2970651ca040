//! Live delivery: each node runs one hub that reads new events from the
//! stream log (`store::stream`) in id order and fans them out to the event
//! streams held on this node, by audience.
//!
//! The database is the only source of truth. A hub learns that there is
//! something to read from writers in this process ([`stream::committed`]),
//! on PostgreSQL from `LISTEN` (every node's appends `NOTIFY` their ids),
//! and, as a safety net, from a poll every second. It then reads every
//! event above the last id it dispatched, so a lost wake-up delays an event
//! but never loses it. A stream that falls behind (its queue is full) drops
//! its queue and re-reads from the database after the last id it sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use diesel::{Connection, PgConnection, RunQueryDsl};
use tokio::sync::{Notify, mpsc, watch};

use crate::service::access::Caller;
use crate::store::stream::{self, StreamEvent};
use crate::store::{Backend, Db, StoreResult};

/// Events read per query when fanning out.
const BATCH: i64 = 500;
/// How often a hub reads the log without being told to.
const FALLBACK_POLL: Duration = Duration::from_secs(1);
/// How often the PostgreSQL listener checks its connection for
/// notifications (diesel exposes no socket to wait on).
const LISTEN_POLL: Duration = Duration::from_millis(5);
/// Events queued per stream before it is considered behind.
const QUEUE: usize = 256;

/// The audiences a caller's streams receive: their own events, their
/// firm's, and (staff) their community's.
pub fn audience_of(caller: &Caller) -> Vec<String> {
    let mut a = vec![stream::user(&caller.user_id)];
    if let Some(f) = &caller.firm {
        a.push(stream::firm(&f.firm_id));
    }
    if let Some(c) = &caller.staff_community {
        a.push(stream::community(c));
    }
    a
}

static SHUTDOWN: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::channel(false).0);

/// Ends every event stream of this process (the server is stopping).
pub fn shutdown_streams() {
    SHUTDOWN.send_replace(true);
}

/// Becomes true when the process stops serving streams.
pub fn shutdown_signal() -> watch::Receiver<bool> {
    SHUTDOWN.subscribe()
}

/// This node's fan-out of new events to its streams.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

impl Hub {
    /// Event streams open on this node.
    pub fn stream_count(&self) -> usize {
        self.inner.registry().subs.len()
    }

    /// The last event id this node fanned out.
    pub fn dispatched(&self) -> i64 {
        self.inner
            .dispatched
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

struct Inner {
    registry: Mutex<Registry>,
    next_id: AtomicU64,
    /// The last event id fanned out.
    dispatched: AtomicI64,
    wake: Arc<Notify>,
}

#[derive(Default)]
struct Registry {
    by_audience: HashMap<String, Vec<u64>>,
    subs: HashMap<u64, Entry>,
}

struct Entry {
    audience: Vec<String>,
    tx: mpsc::Sender<Arc<StreamEvent>>,
    lagged: Arc<AtomicBool>,
}

/// One stream's registration; dropping it unregisters.
pub struct Subscription {
    id: u64,
    pub rx: mpsc::Receiver<Arc<StreamEvent>>,
    /// Set when events were dropped because the queue was full.
    pub lagged: Arc<AtomicBool>,
    hub: Weak<Inner>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(h) = self.hub.upgrade() {
            h.unregister(self.id);
            tracing::debug!(streams = h.registry().subs.len(), "event stream closed");
        }
    }
}

impl Inner {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn unregister(&self, id: u64) {
        let mut reg = self.registry();
        if let Some(e) = reg.subs.remove(&id) {
            for a in e.audience {
                if let Some(ids) = reg.by_audience.get_mut(&a) {
                    ids.retain(|x| *x != id);
                    if ids.is_empty() {
                        reg.by_audience.remove(&a);
                    }
                }
            }
        }
    }

    /// Hands each event to the streams of its audience.
    fn dispatch(&self, batch: Vec<stream::Addressed>) {
        let reg = self.registry();
        let mut targets: Vec<u64> = Vec::new();
        for a in batch {
            targets.clear();
            for key in &a.audience {
                if let Some(ids) = reg.by_audience.get(key) {
                    targets.extend(ids);
                }
            }
            if targets.is_empty() {
                continue;
            }
            targets.sort_unstable();
            targets.dedup();
            let ev = Arc::new(a.event);
            for id in &targets {
                if let Some(e) = reg.subs.get(id)
                    && let Err(mpsc::error::TrySendError::Full(_)) = e.tx.try_send(ev.clone())
                {
                    e.lagged.store(true, Ordering::SeqCst);
                }
            }
        }
    }
}

impl Hub {
    /// Starts the fan-out task (and, on PostgreSQL, the listener thread)
    /// from the current end of the log.
    pub async fn start(db: Db) -> anyhow::Result<Hub> {
        let head = db.run(stream::head).await?;
        let inner = Arc::new(Inner {
            registry: Mutex::new(Registry::default()),
            next_id: AtomicU64::new(1),
            dispatched: AtomicI64::new(head),
            wake: Arc::new(Notify::new()),
        });
        if let Backend::Postgres { url } = db.backend() {
            spawn_listener(url.clone(), Arc::downgrade(&inner))?;
        }
        tokio::spawn(run(db, Arc::downgrade(&inner), inner.wake.clone()));
        Ok(Hub { inner })
    }

    /// Registers a stream for these audiences.
    pub fn subscribe(&self, audience: Vec<String>) -> Subscription {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(QUEUE);
        let lagged = Arc::new(AtomicBool::new(false));
        let mut reg = self.inner.registry();
        for a in &audience {
            reg.by_audience.entry(a.clone()).or_default().push(id);
        }
        reg.subs.insert(
            id,
            Entry {
                audience,
                tx,
                lagged: lagged.clone(),
            },
        );
        tracing::debug!(streams = reg.subs.len(), "event stream opened");
        Subscription {
            id,
            rx,
            lagged,
            hub: Arc::downgrade(&self.inner),
        }
    }

    /// Streams held on this node.
    pub fn streams(&self) -> usize {
        self.inner.registry().subs.len()
    }
}

async fn run(db: Db, hub: Weak<Inner>, wake: Arc<Notify>) {
    let mut commits = stream::commits();
    let mut failures = 0u32;
    loop {
        {
            let Some(h) = hub.upgrade() else { return };
            match fan_out(&db, &h).await {
                Ok(()) => failures = 0,
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, failures, "event fan-out could not read the log; retrying");
                }
            }
        }
        let backoff = FALLBACK_POLL * failures.min(10);
        tokio::select! {
            _ = wake.notified() => {}
            _ = commits.changed() => {}
            _ = tokio::time::sleep(FALLBACK_POLL + backoff) => {}
        }
    }
}

async fn fan_out(db: &Db, h: &Inner) -> StoreResult<()> {
    loop {
        let after = h.dispatched.load(Ordering::SeqCst);
        let batch = db.run(move |c| stream::after(c, after, BATCH)).await?;
        let n = batch.len() as i64;
        if let Some(last) = batch.last().map(|a| a.event.id) {
            h.dispatch(batch);
            h.dispatched.store(last, Ordering::SeqCst);
        }
        if n < BATCH {
            return Ok(());
        }
    }
}

/// A thread holding one PostgreSQL connection that `LISTEN`s for new event
/// ids from every node and wakes the hub; it reconnects when the connection
/// drops (and then has the hub re-read the log) and ends with the hub.
fn spawn_listener(url: String, hub: Weak<Inner>) -> anyhow::Result<()> {
    std::thread::Builder::new()
        .name("zql-events-listen".into())
        .spawn(move || {
            let mut failures = 0u32;
            loop {
                let Some(wake) = hub.upgrade().map(|h| h.wake.clone()) else {
                    return;
                };
                match listen(&url, &hub, &wake) {
                    Ok(()) => return,
                    Err(e) => {
                        failures += 1;
                        if failures == 1 || failures.is_power_of_two() {
                            tracing::warn!(error = %e, failures, "event listener lost PostgreSQL; reconnecting");
                        }
                    }
                }
                wake.notify_one();
                drop(wake);
                std::thread::sleep(Duration::from_millis(100 * u64::from(failures.min(50))));
            }
        })?;
    Ok(())
}

/// Listens until the hub is gone (`Ok`) or the connection fails.
fn listen(url: &str, hub: &Weak<Inner>, wake: &Notify) -> anyhow::Result<()> {
    let mut conn = PgConnection::establish(url)?;
    diesel::sql_query(format!("LISTEN {}", stream::PG_CHANNEL)).execute(&mut conn)?;
    // Whatever was appended while not listening.
    wake.notify_one();
    loop {
        let Some(h) = hub.upgrade() else {
            return Ok(());
        };
        let mut newest = None;
        for n in conn.notifications_iter() {
            let n = n?;
            if let Ok(id) = n.payload.parse::<i64>() {
                newest = newest.max(Some(id));
            }
        }
        if newest.is_some_and(|id| id > h.dispatched.load(Ordering::SeqCst)) {
            wake.notify_one();
        }
        drop(h);
        std::thread::sleep(LISTEN_POLL);
    }
}
