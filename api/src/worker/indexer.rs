//! Keeps this node's search index in step with the database: one task tails
//! the listing change log from the sequence the index last committed (kept
//! in the tantivy commit payload), applies the changes through the single
//! writer and commits, so a write is searchable within about a second.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use chrono::{NaiveDate, NaiveTime};
use tokio::sync::{Notify, watch};
use zhiqilian_matcher::{Price, Quantity};
use zhiqilian_search_index::{ListingDoc, ListingIndex, VocabSources, Vocabulary};

use crate::store::listings::{self, ListingView};
use crate::store::{Db, StoreResult, changes, vocabulary};

/// Changes applied per commit while catching up.
const BATCH: i64 = 2_000;
/// How often an idle indexer looks for changes written by other nodes.
const POLL: Duration = Duration::from_millis(250);

/// Listings re-added per commit while re-tokenizing for a new vocabulary.
const REINDEX_PAGE: i64 = 500;

/// How far this node's re-index for a new park vocabulary has got.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReindexProgress {
    /// A re-index is under way.
    pub running: bool,
    /// The vocabulary version being (or last) applied.
    pub version: i64,
    /// Listings re-added so far, of `total`.
    pub done: u64,
    pub total: u64,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

struct ReindexJob {
    version: i64,
    after: Option<String>,
}

/// The vocabulary side of a node: the files (or shipped lists) the park
/// vocabulary is added to, and the progress of applying a new version.
pub struct VocabState {
    sources: VocabSources,
    /// The vocabulary of `sources` alone (no park has an entry).
    base: Arc<Vocabulary>,
    job: std::sync::Mutex<Option<ReindexJob>>,
    progress: std::sync::Mutex<ReindexProgress>,
}

impl VocabState {
    pub fn new(sources: VocabSources, base: Arc<Vocabulary>) -> VocabState {
        VocabState {
            sources,
            base,
            job: std::sync::Mutex::new(None),
            progress: std::sync::Mutex::new(ReindexProgress::default()),
        }
    }

    /// The shipped vocabulary alone.
    pub fn builtin() -> VocabState {
        VocabState::new(VocabSources::builtin(), Vocabulary::shared_builtin())
    }

    pub fn progress(&self) -> ReindexProgress {
        self.progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn set_progress(&self, f: impl FnOnce(&mut ReindexProgress)) {
        f(&mut self
            .progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner));
    }

    /// The database's vocabulary version and the vocabulary it stands for:
    /// the files plus every park's live words and synonym groups.
    pub fn current(&self, db: &Db) -> anyhow::Result<(i64, Arc<Vocabulary>)> {
        let mut conn = db.conn()?;
        let version = vocabulary::version(&mut conn)?;
        let entries = vocabulary::all_live(&mut conn)?;
        drop(conn);
        if entries.is_empty() {
            return Ok((version, self.base.clone()));
        }
        let mut words = Vec::new();
        let mut groups = Vec::new();
        for e in &entries {
            if e.kind == "word" {
                words.push(e.terms.clone());
            } else {
                groups.push(e.term_list());
            }
        }
        Ok((version, Arc::new(self.sources.build_with(&words, &groups))))
    }
}

/// One step of keeping the index's vocabulary in step with the database's
/// version: starts a re-index when the version moved, or re-adds the next
/// page of listings. True while there is more to do.
pub fn vocabulary_step(db: &Db, index: &ListingIndex, state: &VocabState) -> anyhow::Result<bool> {
    let mut job = state
        .job
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if job.is_none() {
        let version = vocabulary::version(&mut *db.conn()?)?;
        if version == index.vocab_version() {
            return Ok(false);
        }
        let (version, vocab) = state.current(db)?;
        let total = listings::count(&mut *db.conn()?)?.max(0) as u64;
        tracing::info!(version, listings = total, "vocabulary changed: re-indexing");
        // Documents re-added from now on use the new words; queries keep the
        // old vocabulary until every listing has been re-added.
        index.begin_vocabulary(vocab);
        state.set_progress(|p| {
            *p = ReindexProgress {
                running: true,
                version,
                done: 0,
                total,
                started_at: Some(chrono::Utc::now()),
                finished_at: None,
            }
        });
        *job = Some(ReindexJob {
            version,
            after: None,
        });
        return Ok(true);
    }
    let Some(current) = job.as_mut() else {
        return Ok(false);
    };
    let page = listings::scan(&mut *db.conn()?, current.after.as_deref(), REINDEX_PAGE)?;
    for v in &page {
        index.upsert(&doc_of(v))?;
    }
    index.commit(index.applied_seq())?;
    current.after = page.last().map(|v| v.listing.id.clone());
    let n = page.len() as u64;
    state.set_progress(|p| {
        p.done += n;
        p.total = p.total.max(p.done);
    });
    if (page.len() as i64) < REINDEX_PAGE {
        index.finish_vocabulary(current.version)?;
        tracing::info!(version = current.version, "vocabulary applied");
        state.set_progress(|p| {
            p.running = false;
            p.finished_at = Some(chrono::Utc::now());
        });
        *job = None;
        return Ok(false);
    }
    Ok(true)
}

/// The search side of a node: the index plus what has been applied.
#[derive(Clone)]
pub struct SearchIndex {
    pub index: Arc<ListingIndex>,
    /// The park vocabulary as this node applies it.
    pub vocab: Arc<VocabState>,
    applied: watch::Receiver<i64>,
    wake: Arc<Notify>,
    stop: Arc<AtomicBool>,
    task: Arc<std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>>,
}

impl SearchIndex {
    /// Asks the indexer to look for new changes now (after a local write).
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    pub fn applied_seq(&self) -> i64 {
        *self.applied.borrow()
    }

    /// Stops the indexer task after its current batch (a later write is
    /// picked up at the next start). Drop every clone afterwards to release
    /// the index's writer lock.
    pub async fn shutdown(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = task {
            let _ = t.await;
        }
    }

    /// Follows the applied sequence (the background matcher waits on it).
    pub fn applied_watch(&self) -> watch::Receiver<i64> {
        self.applied.clone()
    }

    /// Waits until change `seq` is searchable; false on timeout.
    pub async fn wait_for(&self, seq: i64, timeout: Duration) -> bool {
        self.poke();
        let mut rx = self.applied.clone();
        tokio::time::timeout(timeout, rx.wait_for(|applied| *applied >= seq))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

fn day_start(d: &str) -> Option<i64> {
    NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .ok()
        .map(|d| d.and_time(NaiveTime::MIN).and_utc().timestamp())
}

/// The index document for a listing.
pub fn doc_of(v: &ListingView) -> ListingDoc {
    let l = &v.listing;
    let attributes: serde_json::Value =
        serde_json::from_str(&l.attributes).unwrap_or(serde_json::Value::Null);
    let quantity_norm = l
        .quantity_amount
        .zip(l.quantity_unit.as_ref())
        .and_then(|(a, u)| Quantity::new(a, u.clone()).normalised())
        .map(|(v, _)| v);
    let price = l
        .price_amount
        .zip(l.price_unit.as_ref())
        .and_then(|(a, u)| Price::new(a, u.clone()).normalised())
        .map(|p| p.yuan);
    ListingDoc {
        id: l.id.clone(),
        side: l.side.clone(),
        kind: l.kind.clone(),
        status: l.status.as_str().to_string(),
        community: l.community_id.clone(),
        urgency: l.urgency.as_str().to_string(),
        visibility: l.visibility.as_str().to_string(),
        firm: l.firm_id.clone(),
        title: l.title.clone(),
        description: l.description.clone(),
        attributes_text: ListingDoc::attributes_text_from_json(&attributes),
        firm_name: v.firm_name.clone(),
        quantity_norm,
        price,
        available_from: l.available_from.as_deref().and_then(day_start),
        // The last day is available until its end.
        available_until: l
            .available_until
            .as_deref()
            .and_then(day_start)
            .map(|t| t + 86_399),
        created_at: l.created_at.and_utc().timestamp_millis(),
        expires_at: l.expires_at.map(|t| t.and_utc().timestamp()),
        lat: l.lat,
        lon: l.lon,
        verified: v.firm_verified,
    }
}

/// The vocabulary files (`dir`'s, each falling back to the shipped one) the
/// parks' entries are added to.
pub fn load_vocab_state(dir: &Path) -> anyhow::Result<VocabState> {
    if dir.is_dir() {
        let sources = VocabSources::load(dir)
            .with_context(|| format!("cannot load vocabulary from {}", dir.display()))?;
        let v = Arc::new(sources.build());
        tracing::info!(dir = %dir.display(), user_words = v.user_word_count(), synonym_groups = v.synonym_group_count(), "loaded vocabulary");
        Ok(VocabState::new(sources, v))
    } else {
        Ok(VocabState::builtin())
    }
}

/// Loads the vocabulary: files in `dir` override the shipped ones.
pub fn load_vocabulary(dir: &Path) -> anyhow::Result<Arc<Vocabulary>> {
    if dir.is_dir() {
        let v = Vocabulary::load(dir)
            .with_context(|| format!("cannot load vocabulary from {}", dir.display()))?;
        tracing::info!(dir = %dir.display(), user_words = v.user_word_count(), synonym_groups = v.synonym_group_count(), "loaded vocabulary");
        Ok(Arc::new(v))
    } else {
        Ok(Vocabulary::shared_builtin())
    }
}

/// Every listing in the database, in pages, for a rebuild.
pub fn all_docs(db: &Db) -> impl Iterator<Item = StoreResult<ListingDoc>> + '_ {
    let mut after: Option<String> = None;
    let mut page: std::vec::IntoIter<ListingView> = Vec::new().into_iter();
    let mut done = false;
    std::iter::from_fn(move || {
        loop {
            if let Some(v) = page.next() {
                return Some(Ok(doc_of(&v)));
            }
            if done {
                return None;
            }
            let next = db
                .conn()
                .and_then(|mut c| listings::scan(&mut c, after.as_deref(), 1_000));
            match next {
                Ok(rows) => {
                    done = rows.len() < 1_000;
                    after = rows.last().map(|v| v.listing.id.clone());
                    page = rows.into_iter();
                }
                Err(e) => {
                    done = true;
                    return Some(Err(e));
                }
            }
        }
    })
}

/// Rebuilds `index` from the database. The change-log head is read first, so
/// changes made during the rebuild are applied again afterwards (upserts are
/// idempotent) rather than lost.
pub fn rebuild(db: &Db, index: &ListingIndex, progress: impl FnMut(u64)) -> anyhow::Result<u64> {
    let head = changes::head(&mut *db.conn()?)?;
    let mut failure = None;
    let docs = all_docs(db).map_while(|r| match r {
        Ok(d) => Some(d),
        Err(e) => {
            failure = Some(e);
            None
        }
    });
    let n = index.rebuild(docs, head, progress)?;
    if let Some(e) = failure {
        // Never leave a partial index claiming `head`: empty it at seq 0, so
        // the indexer replays the whole change log (every listing has a row).
        index.rebuild(std::iter::empty(), 0, |_| {})?;
        return Err(anyhow::anyhow!(
            "reading listings failed during rebuild: {e}"
        ));
    }
    Ok(n)
}

/// Applies pending changes; returns the sequence now applied.
pub fn apply_pending(db: &Db, index: &ListingIndex) -> anyhow::Result<i64> {
    apply_changes(db, index).map(|(seq, _)| seq)
}

/// Applies pending changes; returns the sequence now applied and the ids of
/// the listings that changed.
pub fn apply_changes(db: &Db, index: &ListingIndex) -> anyhow::Result<(i64, Vec<String>)> {
    let mut changed = Vec::new();
    loop {
        let from = index.applied_seq();
        let mut conn = db.conn()?;
        let batch = changes::since(&mut conn, from, BATCH)?;
        let Some(last) = batch.last().map(|c| c.seq) else {
            return Ok((from, changed));
        };
        let mut ids: Vec<String> = batch.iter().map(|c| c.listing_id.clone()).collect();
        ids.sort();
        ids.dedup();
        let views = listings::get_many(&mut conn, &ids)?;
        drop(conn);
        for v in &views {
            index.upsert(&doc_of(v))?;
        }
        for id in ids
            .iter()
            .filter(|id| !views.iter().any(|v| &v.listing.id == *id))
        {
            index.delete(id)?;
        }
        index.commit(last)?;
        changed.extend(ids);
        if (batch.len() as i64) < BATCH {
            changed.sort();
            changed.dedup();
            return Ok((last, changed));
        }
    }
}

pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("index")
}

/// `zhiqilian reindex`: rebuilds into `index.new` beside the live index and
/// swaps it in. Holding the live index's writer while building proves no
/// server is using it.
pub fn reindex(
    db: &Db,
    data_dir: &Path,
    state: &VocabState,
    progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    let (version, vocab) = state.current(db)?;
    let live = index_dir(data_dir);
    let fresh = data_dir.join("index.new");
    let old = data_dir.join("index.old");
    let guard = if live.exists() {
        let outcome = ListingIndex::open_or_create(&live, vocab.clone()).map_err(|e| {
            anyhow::anyhow!(
                "the search index in {} is in use or unreadable ({e}); stop the server first",
                live.display()
            )
        })?;
        Some(outcome.index)
    } else {
        None
    };
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh)?;
    }
    let index = ListingIndex::rebuild_into(&fresh, vocab, std::iter::empty(), 0, |_| {})?;
    index.set_vocab_version(version);
    let n = rebuild(db, &index, progress)?;
    apply_pending(db, &index)?;
    index.close()?;
    if let Some(g) = guard {
        g.close()?;
    }
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    if live.exists() {
        std::fs::rename(&live, &old)?;
    }
    std::fs::rename(&fresh, &live)?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(n)
}

/// Opens (rebuilding if missing, corrupt or outdated) this node's index and
/// starts its indexer task.
pub async fn start(db: Db, data_dir: &Path, state: VocabState) -> anyhow::Result<SearchIndex> {
    let dir = index_dir(data_dir);
    let db2 = db.clone();
    let state = Arc::new(state);
    let state2 = state.clone();
    let index = tokio::task::spawn_blocking(move || -> anyhow::Result<ListingIndex> {
        // With the parks' words: a rebuild then needs no re-index after it,
        // and an index of an older version is re-indexed by the task.
        let (version, vocab) = state2.current(&db2)?;
        let outcome = ListingIndex::open_or_create(&dir, vocab)
            .with_context(|| format!("cannot open search index {}", dir.display()))?;
        let index = outcome.index;
        if outcome.needs_rebuild {
            index.set_vocab_version(version);
            let why = outcome.reason.map(|r| r.to_string()).unwrap_or_default();
            tracing::info!(reason = %why, "rebuilding the search index from the database");
            let started = std::time::Instant::now();
            let n = rebuild(&db2, &index, |_| {})?;
            tracing::info!(
                listings = n,
                secs = started.elapsed().as_secs_f64(),
                "search index rebuilt"
            );
        }
        let applied = apply_pending(&db2, &index)?;
        tracing::info!(
            seq = applied,
            docs = index.num_docs(),
            "search index caught up"
        );
        Ok(index)
    })
    .await??;
    let index = Arc::new(index);
    let (tx, rx) = watch::channel(index.applied_seq());
    let wake = Arc::new(Notify::new());
    let stop = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn(run(
        db,
        index.clone(),
        state.clone(),
        tx,
        wake.clone(),
        stop.clone(),
    ));
    Ok(SearchIndex {
        index,
        vocab: state,
        applied: rx,
        wake,
        stop,
        task: Arc::new(std::sync::Mutex::new(Some(task))),
    })
}

async fn run(
    db: Db,
    index: Arc<ListingIndex>,
    vocab: Arc<VocabState>,
    tx: watch::Sender<i64>,
    wake: Arc<Notify>,
    stop: Arc<AtomicBool>,
) {
    let mut failures = 0u32;
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let (db2, index2) = (db.clone(), index.clone());
        match tokio::task::spawn_blocking(move || apply_pending(&db2, &index2)).await {
            Ok(Ok(seq)) => {
                failures = 0;
                // Matching (once per change, on whichever node holds the
                // matching lease) follows this value: see `background`.
                tx.send_if_modified(|v| {
                    let changed = *v != seq;
                    *v = seq;
                    changed
                });
            }
            Ok(Err(e)) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "indexer could not apply changes; retrying");
                let _ = index.rollback();
            }
            Err(e) => tracing::error!(error = %e, "indexer task panicked; retrying"),
        }
        if tx.is_closed() {
            return;
        }
        let (db2, index2, vocab2) = (db.clone(), index.clone(), vocab.clone());
        match tokio::task::spawn_blocking(move || vocabulary_step(&db2, &index2, &vocab2)).await {
            // More pages to re-add: go on after applying new changes.
            Ok(Ok(true)) => continue,
            Ok(Ok(false)) => {}
            Ok(Err(e)) => {
                failures += 1;
                tracing::warn!(error = %e, failures, "could not apply the new vocabulary; retrying");
                let _ = index.rollback();
            }
            Err(e) => tracing::error!(error = %e, "vocabulary task panicked; retrying"),
        }
        let backoff = POLL * failures.min(20);
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL + backoff) => {}
        }
    }
}

/// An indexer thread for command-line tools (import): keeps this node's
/// index in step while the tool writes, when no server holds the index.
pub struct LocalIndexer {
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<anyhow::Result<i64>>,
}

impl LocalIndexer {
    /// Opens the local index (rebuilding it if needed) and starts applying
    /// changes; an error when the index is in use by a server.
    pub fn spawn(db: Db, data_dir: &Path, vocab_dir: &Path) -> anyhow::Result<LocalIndexer> {
        let (version, vocab) = load_vocab_state(vocab_dir)?.current(&db)?;
        let dir = index_dir(data_dir);
        let outcome = ListingIndex::open_or_create(&dir, vocab)
            .map_err(|e| anyhow::anyhow!("search index {} unavailable: {e}", dir.display()))?;
        if outcome.needs_rebuild {
            outcome.index.set_vocab_version(version);
        }
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let thread = std::thread::spawn(move || -> anyhow::Result<i64> {
            let index = outcome.index;
            if outcome.needs_rebuild {
                rebuild(&db, &index, |_| {})?;
            }
            while !flag.load(Ordering::SeqCst) {
                apply_pending(&db, &index)?;
                std::thread::sleep(POLL);
            }
            let seq = apply_pending(&db, &index)?;
            index.close()?;
            Ok(seq)
        });
        Ok(LocalIndexer { done, thread })
    }

    /// Applies what is left and closes the index; the sequence reached.
    pub fn finish(self) -> anyhow::Result<i64> {
        self.done.store(true, Ordering::SeqCst);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("indexer thread panicked"))?
    }
}
