//! Live delivery: each node runs one hub that reads new events from the
//! stream log (`store::stream`) in id order and fans them out to the event
//! streams held on this node, by audience.
//!
//! The database is the only source of truth. A hub learns that there is
//! something to read from writers in this process ([`stream::committed`]),
//! on PostgreSQL from `LISTEN` (every node's appends `NOTIFY` their ids),
//! and, as a safety net, from a slow poll (`events_poll_secs`, 1 s by
//! default). It then reads every
//! event above the last id it dispatched, so a lost wake-up delays an event
//! but never loses it. A stream that falls behind (its queue is full) drops
//! its queue and re-reads from the database after the last id it sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use tokio::sync::{Notify, mpsc, watch};

use crate::service::access::Caller;
use crate::store::stream::{self, StreamEvent};
use crate::store::{Backend, Db, StoreResult};

/// Events read per query when fanning out.
const BATCH: i64 = 500;
/// The longest the PostgreSQL listener blocks waiting for a notification
/// before it checks that its hub still exists.
const LISTEN_WAIT: Duration = Duration::from_secs(1);
/// The listener's first and longest pause before reconnecting.
const RECONNECT_FIRST: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(5);
/// The PostgreSQL `application_name` prefix of listener connections (the
/// process id follows), so operators can tell them from the pool's.
pub const LISTENER_APPLICATION_NAME: &str = "zql-events-listen";
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
    /// from the current end of the log; without a wake-up the hub reads the
    /// log every `poll`.
    pub async fn start(db: Db, poll: Duration) -> anyhow::Result<Hub> {
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
        tokio::spawn(run(db, Arc::downgrade(&inner), inner.wake.clone(), poll));
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

async fn run(db: Db, hub: Weak<Inner>, wake: Arc<Notify>, poll: Duration) {
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
        let backoff = Duration::from_secs(1) * failures.min(10);
        tokio::select! {
            _ = wake.notified() => {}
            _ = commits.changed() => {}
            _ = tokio::time::sleep(poll + backoff) => {}
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

/// A thread holding one PostgreSQL connection (its own, outside the pool)
/// that `LISTEN`s for new event ids from every node and wakes the hub. It
/// blocks on the connection's socket, so a notification wakes the hub at
/// once and an idle node costs one wake-up per [`LISTEN_WAIT`]. When the
/// connection drops it reconnects with backoff and then has the hub re-read
/// the log (the hub's own poll covers the time in between); it ends with
/// the hub.
///
/// The connection is made without TLS, as the pool's are (`libpq` is built
/// without OpenSSL).
fn spawn_listener(url: String, hub: Weak<Inner>) -> anyhow::Result<()> {
    let mut config: postgres::Config = url
        .parse()
        .map_err(|e| anyhow::anyhow!("the database URL cannot be used for LISTEN: {e}"))?;
    config
        .application_name(&format!(
            "{LISTENER_APPLICATION_NAME}-{}",
            std::process::id()
        ))
        .connect_timeout(Duration::from_secs(10))
        // A server that vanished without closing the connection is noticed
        // within about a minute.
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30))
        .keepalives_interval(Duration::from_secs(10))
        .keepalives_retries(3);
    std::thread::Builder::new()
        .name("zql-events-listen".into())
        .spawn(move || {
            let mut failures = 0u32;
            loop {
                let Some(wake) = hub.upgrade().map(|h| h.wake.clone()) else {
                    return;
                };
                match listen(&config, &hub, &wake, &mut failures) {
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
                std::thread::sleep(reconnect_delay(failures));
            }
        })?;
    Ok(())
}

/// The pause before the listener's next connection attempt after
/// `failures` failed ones in a row: doubling from [`RECONNECT_FIRST`] up to
/// [`RECONNECT_MAX`].
fn reconnect_delay(failures: u32) -> Duration {
    RECONNECT_FIRST
        .saturating_mul(1 << failures.saturating_sub(1).min(16))
        .min(RECONNECT_MAX)
}

/// Listens until the hub is gone (`Ok`) or the connection fails. Resets
/// `failures` once listening.
fn listen(
    config: &postgres::Config,
    hub: &Weak<Inner>,
    wake: &Notify,
    failures: &mut u32,
) -> anyhow::Result<()> {
    let mut client = config.connect(postgres::NoTls)?;
    client.batch_execute(&format!("LISTEN {}", stream::PG_CHANNEL))?;
    if *failures > 0 {
        tracing::info!(failures, "event listener reconnected to PostgreSQL");
    }
    *failures = 0;
    // Whatever was appended while not listening.
    wake.notify_one();
    loop {
        let mut newest = None;
        let waited = std::time::Instant::now();
        {
            let mut notifications = client.notifications();
            // Sleeps on the socket until a notification arrives (or the
            // wait ends), then takes whatever else already came.
            let first = notifications.timeout_iter(LISTEN_WAIT).next()?;
            if let Some(n) = first {
                newest = n.payload().parse::<i64>().ok();
                let mut rest = notifications.iter();
                while let Some(n) = rest.next()? {
                    newest = newest.max(n.payload().parse::<i64>().ok());
                }
            }
        }
        // Nothing, and sooner than asked: the server may have closed the
        // connection (the wait ends at once then). A round trip tells.
        if client.is_closed()
            || (newest.is_none()
                && waited.elapsed() < LISTEN_WAIT
                && client.is_valid(LISTEN_WAIT * 5).is_err())
        {
            anyhow::bail!("the LISTEN connection was closed");
        }
        let Some(h) = hub.upgrade() else {
            return Ok(());
        };
        if newest.is_some_and(|id| id > h.dispatched.load(Ordering::SeqCst)) {
            wake.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delay_doubles_up_to_its_cap() {
        let ms = |f| reconnect_delay(f).as_millis();
        assert_eq!(
            [ms(1), ms(2), ms(3), ms(4), ms(5), ms(6), ms(7)],
            [100, 200, 400, 800, 1600, 3200, 5000]
        );
        assert_eq!(ms(1000), 5000);
    }
}
