//! Open-loop load: requests go out at scheduled times whatever the server
//! does, and each one's latency runs from its scheduled time, so a server
//! that stalls shows its queueing instead of hiding it (no coordinated
//! omission). Used by the `mixed-load` binary; kept apart so that the
//! scheduler and the percentiles are tested on their own.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// How one scheduled request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with this status.
    Status(u16),
    /// No answer within the client's timeout.
    Timeout,
    /// Connecting, sending or reading failed.
    Failed,
    /// Not sent: the most requests allowed in flight were already out.
    Unsent,
}

impl Outcome {
    pub fn is_ok(self) -> bool {
        matches!(self, Outcome::Status(s) if (200..300).contains(&s))
    }

    /// Refused at once by an overloaded server (429 or 503): shed load.
    pub fn is_shed(self) -> bool {
        matches!(self, Outcome::Status(429 | 503))
    }

    /// Key for counts by status.
    pub fn key(self) -> String {
        match self {
            Outcome::Status(s) => s.to_string(),
            Outcome::Timeout => "timeout".into(),
            Outcome::Failed => "failed".into(),
            Outcome::Unsent => "unsent".into(),
        }
    }
}

/// One scheduled request, as it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// Index of the route (the caller's numbering).
    pub route: usize,
    /// Scheduled send time, from the start of the schedule.
    pub due: Duration,
    /// From the scheduled send time to the end of the answer (zero for
    /// requests never sent).
    pub latency: Duration,
    pub outcome: Outcome,
}

/// Evenly spaced arrivals: request `i` is due `i / rate` seconds after the
/// start, computed from `i` (no accumulated rounding drift).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub rate: f64,
    pub count: u64,
}

impl Schedule {
    /// `rate` requests a second for `secs` seconds.
    pub fn new(rate: f64, secs: f64) -> Schedule {
        Schedule {
            rate,
            count: (rate * secs).round().max(0.0) as u64,
        }
    }

    pub fn offset(&self, i: u64) -> Duration {
        Duration::from_nanos((i as f64 * 1e9 / self.rate).round() as u64)
    }
}

/// Runs `schedule`: at each due time `pick(i)` chooses the route and the
/// request, and `send` is started for it in its own task, without waiting
/// for earlier requests to end. When `max_outstanding` requests are still
/// out, the due request is not sent and counts as [`Outcome::Unsent`]. Returns
/// once every sent request has ended, the records in no particular order.
pub async fn run_open_loop<J, P, S, F>(
    schedule: Schedule,
    max_outstanding: usize,
    mut pick: P,
    send: S,
) -> Vec<Record>
where
    J: Send + 'static,
    P: FnMut(u64) -> (usize, J),
    S: Fn(J) -> F + Send + Sync + 'static,
    F: Future<Output = Outcome> + Send + 'static,
{
    let send = Arc::new(send);
    let outstanding = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Record>();
    let mut records = Vec::with_capacity(schedule.count as usize);
    let start = Instant::now();
    for i in 0..schedule.count {
        let offset = schedule.offset(i);
        let due = start + offset;
        // Timers fire late by up to a millisecond or so: whatever is due by
        // then goes out at once, its latency still counted from `due`.
        if due > Instant::now() {
            tokio::time::sleep_until(due).await;
        }
        let (route, job) = pick(i);
        if outstanding.load(Ordering::Acquire) >= max_outstanding {
            records.push(Record {
                route,
                due: offset,
                latency: Duration::ZERO,
                outcome: Outcome::Unsent,
            });
            continue;
        }
        outstanding.fetch_add(1, Ordering::AcqRel);
        let (send, outstanding, tx) = (send.clone(), outstanding.clone(), tx.clone());
        tokio::spawn(async move {
            let outcome = send(job).await;
            let latency = Instant::now().saturating_duration_since(due);
            outstanding.fetch_sub(1, Ordering::AcqRel);
            let _ = tx.send(Record {
                route,
                due: offset,
                latency,
                outcome,
            });
        });
    }
    drop(tx);
    while let Some(r) = rx.recv().await {
        records.push(r);
    }
    records
}

/// The value at percentile `p` (0–100) of ascending `sorted` values, by
/// nearest rank: the smallest value with at least `p` % of the values at or
/// below it. `None` when there are none.
pub fn percentile<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Latency figures of a set of requests, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Latency {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(latencies: impl Iterator<Item = Duration>) -> Latency {
        let mut v: Vec<Duration> = latencies.collect();
        v.sort_unstable();
        let ms = |d: Option<Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        Latency {
            count: v.len(),
            p50: ms(percentile(&v, 50.0)),
            p90: ms(percentile(&v, 90.0)),
            p99: ms(percentile(&v, 99.0)),
            p999: ms(percentile(&v, 99.9)),
            max: ms(v.last().copied()),
        }
    }
}

/// Picks routes by integer weight from a seeded stream.
pub struct Mix {
    cumulative: Vec<u32>,
}

impl Mix {
    /// `weights[i]` is route `i`'s share; at least one must be positive.
    pub fn new(weights: &[u32]) -> Mix {
        let mut total = 0;
        let cumulative = weights
            .iter()
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Mix { cumulative }
    }

    pub fn pick(&self, rng: &mut crate::rng::Rng) -> usize {
        let total = *self.cumulative.last().unwrap_or(&0);
        if total == 0 {
            return 0;
        }
        let x = rng.below(total as usize) as u32;
        self.cumulative.partition_point(|&c| c <= x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> Duration {
        Duration::from_millis(x)
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), Some(50));
        assert_eq!(percentile(&v, 90.0), Some(90));
        assert_eq!(percentile(&v, 99.0), Some(99));
        assert_eq!(percentile(&v, 100.0), Some(100));
        assert_eq!(percentile(&v, 0.0), Some(1));
        // Few samples: p99 is the largest, never an interpolation below it.
        assert_eq!(percentile(&[3, 7, 400], 99.0), Some(400));
        assert_eq!(percentile(&[5], 50.0), Some(5));
        assert_eq!(percentile::<u32>(&[], 50.0), None);
        let l = Latency::of([ms(3), ms(1), ms(2)].into_iter());
        assert_eq!((l.count, l.p50, l.max), (3, 2.0, 3.0));
    }

    #[test]
    fn schedule_spacing_has_no_drift() {
        let s = Schedule::new(3.0, 10.0);
        assert_eq!(s.count, 30);
        assert_eq!(s.offset(0), Duration::ZERO);
        assert_eq!(s.offset(3), Duration::from_secs(1));
        assert_eq!(s.offset(29_999), Duration::from_nanos(9_999_666_666_667));
        assert_eq!(
            Schedule::new(20_000.0, 60.0).offset(1_199_999).as_micros(),
            59_999_950
        );
    }

    /// A server that works one request at a time for 20 ms, offered 100
    /// requests a second (twice what it can do): request k is due at 10k ms
    /// and answered at 20(k + 1) ms, so its latency is 10k + 20 ms. A closed
    /// loop (or latency from the actual send) would report 20 ms for all.
    #[tokio::test(start_paused = true)]
    async fn latency_runs_from_the_scheduled_time() {
        let server = Arc::new(tokio::sync::Mutex::new(()));
        let records = run_open_loop(
            Schedule::new(100.0, 1.0),
            1000,
            |i| (0, i),
            move |_| {
                let server = server.clone();
                async move {
                    let _busy = server.lock().await;
                    tokio::time::sleep(ms(20)).await;
                    Outcome::Status(200)
                }
            },
        )
        .await;
        assert_eq!(records.len(), 100);
        let mut by_due = records.clone();
        by_due.sort_by_key(|r| r.due);
        for (k, r) in by_due.iter().enumerate() {
            assert_eq!(r.due, ms(10 * k as u64));
            assert_eq!(r.latency, ms(10 * k as u64 + 20), "request {k}");
        }
        let l = Latency::of(records.iter().map(|r| r.latency));
        assert_eq!(l.p50, 510.0);
        assert_eq!(l.p99, 1000.0);
        assert_eq!(l.max, 1010.0);
    }

    /// When the sender itself falls behind (here its only thread is blocked
    /// for 200 ms), the late requests still count their latency from their
    /// scheduled time, not from when they finally went out.
    #[tokio::test(flavor = "current_thread")]
    async fn a_late_send_counts_from_its_scheduled_time() {
        tokio::spawn(async { std::thread::sleep(ms(200)) });
        let records = run_open_loop(
            Schedule::new(100.0, 0.3),
            1000,
            |i| (0, i),
            |_| async { Outcome::Status(200) },
        )
        .await;
        assert_eq!(records.len(), 30);
        let late: Vec<_> = records
            .iter()
            .filter(|r| r.due > Duration::ZERO && r.due <= ms(150))
            .collect();
        assert_eq!(late.len(), 15);
        for r in late {
            assert!(
                r.latency + r.due >= ms(195),
                "due {:?}, latency {:?}",
                r.due,
                r.latency
            );
        }
    }

    /// Slow answers never hold back later sends: 10 requests at 10/s to a
    /// server that takes 10 s each all go out on time and end at 10.9 s.
    #[tokio::test(start_paused = true)]
    async fn sends_do_not_wait_for_answers() {
        let t0 = Instant::now();
        let records = run_open_loop(
            Schedule::new(10.0, 1.0),
            100,
            |i| (0, i),
            |_| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Outcome::Status(200)
            },
        )
        .await;
        assert_eq!(t0.elapsed(), ms(10_900));
        assert!(records.iter().all(|r| r.latency == Duration::from_secs(10)));
    }

    /// With at most 5 requests out and none answered within the run, the
    /// other 15 due requests are counted as not sent.
    #[tokio::test(start_paused = true)]
    async fn the_outstanding_cap_counts_unsent_requests() {
        let records = run_open_loop(
            Schedule::new(100.0, 0.2),
            5,
            |i| ((i % 2) as usize, i),
            |_| async {
                tokio::time::sleep(Duration::from_secs(1)).await;
                Outcome::Status(503)
            },
        )
        .await;
        assert_eq!(records.len(), 20);
        let unsent: Vec<_> = records
            .iter()
            .filter(|r| r.outcome == Outcome::Unsent)
            .collect();
        assert_eq!(unsent.len(), 15);
        assert!(unsent.iter().all(|r| r.due >= ms(50)));
        assert!(records.iter().all(|r| !r.outcome.is_ok()));
        assert_eq!(records.iter().filter(|r| r.outcome.is_shed()).count(), 5);
    }

    #[test]
    fn mix_follows_weights_and_seed() {
        let mix = Mix::new(&[60, 20, 10, 5, 5]);
        let draw = |seed| {
            let mut rng = crate::rng::Rng::new(seed);
            let mut n = [0usize; 5];
            for _ in 0..100_000 {
                n[mix.pick(&mut rng)] += 1;
            }
            n
        };
        let n = draw(7);
        assert_eq!(n, draw(7));
        for (got, want) in n.iter().zip([60_000, 20_000, 10_000, 5_000, 5_000]) {
            assert!(got.abs_diff(want) < 800, "{n:?}");
        }
        // A zero weight is never drawn.
        let mut rng = crate::rng::Rng::new(1);
        let only = Mix::new(&[0, 3, 0]);
        assert!((0..1000).all(|_| only.pick(&mut rng) == 1));
    }
}
