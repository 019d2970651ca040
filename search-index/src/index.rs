//! The listing index on disk: opening (and telling when a rebuild is due), the single writer,
//! commits that record the change-log sequence applied, and rebuilds.
//!
//! The commit payload is JSON, `{"schema_version":1,"seq":123}`: the sequence is published in
//! the same atomic step as the segments that reflect it, so after a crash the indexer resumes
//! from exactly what is searchable.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use serde::{Deserialize, Serialize};
use tantivy::schema::Term;
use tantivy::tokenizer::Tokenizer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy};

use crate::error::IndexError;
use crate::query::{self, SearchRequest, SearchResults};
use crate::schema::{Fields, ListingDoc, SCHEMA_VERSION, build_schema};
use crate::tokenizer::{
    CHAR_TOKENIZER, VecTokenStream, WORD_TOKENIZER, ZhCharTokenizer, ZhTokenizer,
};
use crate::vocab::Vocabulary;

/// Per indexing thread; tantivy wants at least 15 MB.
const WRITER_MEMORY_PER_THREAD: usize = 40_000_000;
const MAX_WRITER_THREADS: usize = 4;
/// How often a rebuild reports progress.
const PROGRESS_EVERY: u64 = 1_000;

#[derive(Debug, Serialize, Deserialize)]
struct CommitPayload {
    schema_version: u32,
    seq: i64,
    /// The vocabulary version the documents were tokenized with (0: the
    /// shipped or file vocabulary alone; indexes written before it existed).
    #[serde(default)]
    vocab_version: i64,
}

/// The "zh" tokenizer registered on the index: reads the document
/// vocabulary each time, so a new vocabulary applies to every document
/// written after [`ListingIndex::begin_vocabulary`] without reopening.
#[derive(Clone)]
struct LiveZhTokenizer(Arc<RwLock<Arc<Vocabulary>>>);

impl Tokenizer for LiveZhTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let vocab = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        ZhTokenizer::new(vocab).token_stream(text)
    }
}

/// Why [`ListingIndex::open_or_create`] left an empty index that must be rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebuildReason {
    /// There was no index in the directory.
    Missing,
    /// The index could not be opened or read.
    Corrupt(String),
    /// The index was written for another schema version.
    SchemaVersion { found: u32, expected: u32 },
    /// The schema differs although the version is the same (a forgotten version bump).
    SchemaMismatch,
    /// The last commit carries no payload, so the applied sequence is unknown.
    NoPayload,
}

impl fmt::Display for RebuildReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RebuildReason::Missing => write!(f, "no index found"),
            RebuildReason::Corrupt(why) => write!(f, "index unreadable: {why}"),
            RebuildReason::SchemaVersion { found, expected } => {
                write!(f, "index schema version {found}, expected {expected}")
            }
            RebuildReason::SchemaMismatch => write!(f, "index schema differs from this build"),
            RebuildReason::NoPayload => write!(f, "index has no commit payload"),
        }
    }
}

/// What [`ListingIndex::open_or_create`] found.
#[derive(Debug)]
pub struct OpenOutcome {
    /// Ready to use; empty when `needs_rebuild`.
    pub index: ListingIndex,
    /// The caller must feed every listing ([`ListingIndex::rebuild`]) before trusting results.
    pub needs_rebuild: bool,
    pub reason: Option<RebuildReason>,
}

/// A tantivy index of listings with its single writer and a manually reloaded reader.
///
/// `ListingIndex` is `Send + Sync`: share it in an `Arc`; searches run concurrently, writes
/// serialise on the one writer.
pub struct ListingIndex {
    index: Index,
    fields: Fields,
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
    /// What queries are analysed with.
    vocab: RwLock<Arc<Vocabulary>>,
    /// What documents are tokenized with (the registered tokenizer reads it).
    doc_vocab: Arc<RwLock<Arc<Vocabulary>>>,
    vocab_version: AtomicI64,
    applied_seq: AtomicI64,
    dir: Option<PathBuf>,
}

impl fmt::Debug for ListingIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListingIndex")
            .field("dir", &self.dir)
            .field("applied_seq", &self.applied_seq())
            .finish_non_exhaustive()
    }
}

enum Inspection {
    Usable(Box<ListingIndex>),
    Rebuild(RebuildReason),
}

impl ListingIndex {
    /// Opens the index in `dir`, or creates an empty one. A missing, unreadable or outdated
    /// index is replaced by an empty one and reported with `needs_rebuild`; a directory
    /// holding anything but index files is left alone and reported as an error.
    pub fn open_or_create(dir: &Path, vocab: Arc<Vocabulary>) -> Result<OpenOutcome, IndexError> {
        match inspect(dir, vocab.clone())? {
            Inspection::Usable(index) => Ok(OpenOutcome {
                index: *index,
                needs_rebuild: false,
                reason: None,
            }),
            Inspection::Rebuild(reason) => {
                clear_index_dir(dir)?;
                let index = ListingIndex::create_in_dir(dir, vocab)?;
                Ok(OpenOutcome {
                    index,
                    needs_rebuild: true,
                    reason: Some(reason),
                })
            }
        }
    }

    /// An index in memory, for tests and tools.
    pub fn create_in_ram(vocab: Arc<Vocabulary>) -> Result<ListingIndex, IndexError> {
        let index = ListingIndex::from_index(Index::create_in_ram(build_schema()), vocab, None)?;
        index.commit(0)?;
        Ok(index)
    }

    /// Builds a fresh index in `dir` from `docs`, committed with `last_seq`. Existing index
    /// files in `dir` are replaced; build into a new directory and swap it in to keep serving
    /// the old one meanwhile. `progress` receives the number of documents added so far.
    pub fn rebuild_into<I, F>(
        dir: &Path,
        vocab: Arc<Vocabulary>,
        docs: I,
        last_seq: i64,
        progress: F,
    ) -> Result<ListingIndex, IndexError>
    where
        I: IntoIterator<Item = ListingDoc>,
        F: FnMut(u64),
    {
        clear_index_dir(dir)?;
        let index = ListingIndex::create_in_dir(dir, vocab)?;
        index.rebuild(docs, last_seq, progress)?;
        Ok(index)
    }

    fn create_in_dir(dir: &Path, vocab: Arc<Vocabulary>) -> Result<ListingIndex, IndexError> {
        std::fs::create_dir_all(dir).map_err(|source| IndexError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let index = Index::create_in_dir(dir, build_schema())?;
        let index = ListingIndex::from_index(index, vocab, Some(dir.to_path_buf()))?;
        // Stamp the version right away: an index without a payload reads as foreign.
        index.commit(0)?;
        Ok(index)
    }

    fn from_index(
        index: Index,
        vocab: Arc<Vocabulary>,
        dir: Option<PathBuf>,
    ) -> Result<ListingIndex, IndexError> {
        let doc_vocab = Arc::new(RwLock::new(vocab.clone()));
        register_tokenizers(&index, &doc_vocab);
        let fields = Fields::resolve(&index.schema())?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, MAX_WRITER_THREADS);
        let writer = index.writer_with_num_threads(threads, threads * WRITER_MEMORY_PER_THREAD)?;
        let payload = read_payload(&index)?;
        let seq = payload.as_ref().map_or(0, |p| p.seq);
        let vocab_version = payload.as_ref().map_or(0, |p| p.vocab_version);
        Ok(ListingIndex {
            index,
            fields,
            writer: Mutex::new(writer),
            reader,
            vocab: RwLock::new(vocab),
            doc_vocab,
            vocab_version: AtomicI64::new(vocab_version),
            applied_seq: AtomicI64::new(seq),
            dir,
        })
    }

    /// Adds a listing or replaces the one with the same id. Visible after [`commit`](Self::commit).
    pub fn upsert(&self, doc: &ListingDoc) -> Result<(), IndexError> {
        let document = doc.to_document(&self.fields)?;
        let writer = self.writer();
        writer.delete_term(self.id_term(&doc.id));
        writer.add_document(document)?;
        Ok(())
    }

    /// Removes a listing (a no-op for an unknown id). Visible after [`commit`](Self::commit).
    pub fn delete(&self, id: &str) -> Result<(), IndexError> {
        self.writer().delete_term(self.id_term(id));
        Ok(())
    }

    /// Commits pending changes together with the change-log sequence they bring the index up
    /// to, then reloads the reader, so a search right after sees the changes.
    pub fn commit(&self, seq: i64) -> Result<(), IndexError> {
        let payload = serde_json::json!({
            "schema_version": SCHEMA_VERSION,
            "seq": seq,
            "vocab_version": self.vocab_version(),
        });
        {
            let mut writer = self.writer();
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&payload.to_string());
            prepared.commit()?;
        }
        self.applied_seq.store(seq, Ordering::SeqCst);
        self.reader.reload()?;
        Ok(())
    }

    /// Drops uncommitted changes (e.g. after a failed batch).
    pub fn rollback(&self) -> Result<(), IndexError> {
        self.writer().rollback()?;
        Ok(())
    }

    /// The change-log sequence of the last commit (0 for a new index).
    pub fn applied_seq(&self) -> i64 {
        self.applied_seq.load(Ordering::SeqCst)
    }

    /// Replaces the whole content with `docs` and commits `last_seq`. On error nothing is
    /// committed and the previous content stays. Pending uncommitted changes are discarded,
    /// so call it from the task that owns the writing. Returns the number of documents.
    pub fn rebuild<I, F>(&self, docs: I, last_seq: i64, mut progress: F) -> Result<u64, IndexError>
    where
        I: IntoIterator<Item = ListingDoc>,
        F: FnMut(u64),
    {
        let added = {
            let mut writer = self.writer();
            let result = self.fill(&writer, docs, &mut progress);
            if result.is_err() {
                writer.rollback()?;
            }
            result?
        };
        if added == 0 || !added.is_multiple_of(PROGRESS_EVERY) {
            progress(added);
        }
        self.commit(last_seq)?;
        Ok(added)
    }

    fn fill<I, F>(&self, writer: &IndexWriter, docs: I, progress: &mut F) -> Result<u64, IndexError>
    where
        I: IntoIterator<Item = ListingDoc>,
        F: FnMut(u64),
    {
        writer.delete_all_documents()?;
        let mut seen = HashSet::new();
        let mut added = 0u64;
        for doc in docs {
            let document = doc.to_document(&self.fields)?;
            // The source should not repeat an id, but if it does the last one wins, as it
            // would incrementally.
            if !seen.insert(doc.id.trim().to_string()) {
                writer.delete_term(self.id_term(&doc.id));
            }
            writer.add_document(document)?;
            added += 1;
            if added.is_multiple_of(PROGRESS_EVERY) {
                progress(added);
            }
        }
        Ok(added)
    }

    /// Runs a search on the last committed state.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, IndexError> {
        let vocab = self.vocabulary();
        query::execute(&self.reader.searcher(), &self.fields, &vocab, request)
    }

    /// Number of listings searchable now.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The vocabulary queries are analysed with.
    pub fn vocabulary(&self) -> Arc<Vocabulary> {
        self.vocab
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The vocabulary version the committed documents were tokenized with
    /// (see [`finish_vocabulary`](Self::finish_vocabulary)).
    pub fn vocab_version(&self) -> i64 {
        self.vocab_version.load(Ordering::SeqCst)
    }

    /// Starts re-tokenizing with `vocab`: every document written from now
    /// on is analysed with it, while queries keep the current vocabulary
    /// until [`finish_vocabulary`](Self::finish_vocabulary). Re-add every
    /// document in between (searches keep working on the committed state).
    pub fn begin_vocabulary(&self, vocab: Arc<Vocabulary>) {
        *self
            .doc_vocab
            .write()
            .unwrap_or_else(PoisonError::into_inner) = vocab;
    }

    /// Ends a re-tokenization: commits (at the applied sequence) that the
    /// documents are of vocabulary `version`, then queries use the document
    /// vocabulary too.
    pub fn finish_vocabulary(&self, version: i64) -> Result<(), IndexError> {
        self.vocab_version.store(version, Ordering::SeqCst);
        self.commit(self.applied_seq())?;
        let current = self
            .doc_vocab
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        *self.vocab.write().unwrap_or_else(PoisonError::into_inner) = current;
        Ok(())
    }

    /// Records that the documents are of vocabulary `version` from the next
    /// commit on (a rebuild with the vocabulary the index was opened with).
    pub fn set_vocab_version(&self, version: i64) {
        self.vocab_version.store(version, Ordering::SeqCst);
    }

    /// The underlying tantivy index: an escape hatch for diagnostics and tests. Writing
    /// through it bypasses the single writer and is not supported.
    pub fn tantivy_index(&self) -> &Index {
        &self.index
    }

    /// The directory, or `None` for an in-memory index.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Blocks until background merges are done and releases the writer lock; for clean
    /// shutdowns and before copying the directory.
    pub fn close(self) -> Result<(), IndexError> {
        let writer = self
            .writer
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        writer.wait_merging_threads()?;
        Ok(())
    }

    /// Takes the writer lock of the index in `dir` without opening it: a
    /// proof that no process (a server, `reindex`) is writing there while
    /// the guard lives. `None` when the lock is held elsewhere.
    pub fn lock_writer(dir: &Path) -> Result<Option<WriterLock>, IndexError> {
        use tantivy::directory::error::LockError;
        use tantivy::directory::{Directory, INDEX_WRITER_LOCK, MmapDirectory};
        let directory = MmapDirectory::open(dir).map_err(|e| IndexError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?;
        match directory.acquire_lock(&INDEX_WRITER_LOCK) {
            Ok(lock) => Ok(Some(WriterLock { _lock: lock })),
            Err(LockError::LockBusy) => Ok(None),
            Err(LockError::IoError(e)) => Err(IndexError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::new(e.kind(), e.to_string()),
            }),
        }
    }

    fn writer(&self) -> MutexGuard<'_, IndexWriter> {
        // A panic while holding the lock leaves tantivy's writer itself consistent (it only
        // queues operations), so carry on rather than poison every later write.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn id_term(&self, id: &str) -> Term {
        Term::from_field_text(self.fields.id, id.trim())
    }
}

fn register_tokenizers(index: &Index, vocab: &Arc<RwLock<Arc<Vocabulary>>>) {
    let tokenizers = index.tokenizers();
    tokenizers.register(WORD_TOKENIZER, LiveZhTokenizer(vocab.clone()));
    tokenizers.register(CHAR_TOKENIZER, ZhCharTokenizer);
}

fn read_payload(index: &Index) -> Result<Option<CommitPayload>, IndexError> {
    let meta = index.load_metas()?;
    Ok(meta
        .payload
        .as_deref()
        .and_then(|p| serde_json::from_str::<CommitPayload>(p).ok()))
}

/// Decides whether the index in `dir` can be used as it is.
fn inspect(dir: &Path, vocab: Arc<Vocabulary>) -> Result<Inspection, IndexError> {
    if !dir.join("meta.json").is_file() {
        let empty = match std::fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_none(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
            Err(source) => {
                return Err(IndexError::Io {
                    path: dir.to_path_buf(),
                    source,
                });
            }
        };
        return Ok(Inspection::Rebuild(if empty {
            RebuildReason::Missing
        } else {
            RebuildReason::Corrupt("meta.json missing".into())
        }));
    }
    let index = match Index::open_in_dir(dir) {
        Ok(index) => index,
        Err(e) => return Ok(Inspection::Rebuild(RebuildReason::Corrupt(e.to_string()))),
    };
    let meta = match index.load_metas() {
        Ok(meta) => meta,
        Err(e) => return Ok(Inspection::Rebuild(RebuildReason::Corrupt(e.to_string()))),
    };
    let Some(payload) = meta.payload else {
        return Ok(Inspection::Rebuild(RebuildReason::NoPayload));
    };
    let payload: CommitPayload = match serde_json::from_str(&payload) {
        Ok(p) => p,
        Err(e) => {
            return Ok(Inspection::Rebuild(RebuildReason::Corrupt(format!(
                "commit payload: {e}"
            ))));
        }
    };
    if payload.schema_version != SCHEMA_VERSION {
        return Ok(Inspection::Rebuild(RebuildReason::SchemaVersion {
            found: payload.schema_version,
            expected: SCHEMA_VERSION,
        }));
    }
    if index.schema() != build_schema() {
        return Ok(Inspection::Rebuild(RebuildReason::SchemaMismatch));
    }
    match ListingIndex::from_index(index, vocab, Some(dir.to_path_buf())) {
        Ok(index) => {
            // Opening the reader only maps the files; a real search touches the postings, the
            // fast fields and the store of every segment.
            match index.search(&SearchRequest {
                limit: 1,
                status: None,
                ..SearchRequest::default()
            }) {
                Ok(_) => Ok(Inspection::Usable(Box::new(index))),
                Err(e) => Ok(Inspection::Rebuild(RebuildReason::Corrupt(e.to_string()))),
            }
        }
        // Another process holding the writer lock is not corruption: wiping would hurt it.
        Err(IndexError::Tantivy(tantivy::TantivyError::LockFailure(e, msg))) => Err(
            IndexError::Tantivy(tantivy::TantivyError::LockFailure(e, msg)),
        ),
        Err(e) => Ok(Inspection::Rebuild(RebuildReason::Corrupt(e.to_string()))),
    }
}

/// Empties `dir` (creating it if needed), provided everything in it is a tantivy file: a
/// mistyped path must never cost someone their files.
fn clear_index_dir(dir: &Path) -> Result<(), IndexError> {
    let io = |source| IndexError::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let is_file = entry.file_type().map_err(io)?.is_file();
        let name = entry.file_name();
        if !is_file || !name.to_str().is_some_and(is_tantivy_file) {
            return Err(IndexError::ForeignDirectory(dir.to_path_buf()));
        }
        files.push(entry.path());
    }
    for file in files {
        std::fs::remove_file(&file).map_err(|source| IndexError::Io { path: file, source })?;
    }
    Ok(())
}

/// Names tantivy writes: its metadata and lock files, temporary files of atomic writes, and
/// segment files named by a 32-hex-digit segment id.
fn is_tantivy_file(name: &str) -> bool {
    if matches!(
        name,
        "meta.json" | ".managed.json" | ".tantivy-meta.lock" | ".tantivy-writer.lock"
    ) || name.starts_with(".tmp")
    {
        return true;
    }
    let stem = name.split('.').next().unwrap_or_default();
    stem.len() == 32 && stem.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Held writer lock of an index directory (see [`ListingIndex::lock_writer`]).
pub struct WriterLock {
    _lock: tantivy::directory::DirectoryLock,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tantivy_file_names() {
        assert!(is_tantivy_file("meta.json"));
        assert!(is_tantivy_file(".managed.json"));
        assert!(is_tantivy_file("0c9d5f6a2e8b4c1d9e7f3a2b1c0d9e8f.idx"));
        assert!(is_tantivy_file("0c9d5f6a2e8b4c1d9e7f3a2b1c0d9e8f.12.del"));
        assert!(!is_tantivy_file("notes.txt"));
        assert!(!is_tantivy_file("listings.db"));
    }

    #[test]
    fn foreign_directory_is_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let precious = dir.path().join("listings.db");
        std::fs::write(&precious, b"do not delete").expect("write");
        let err = ListingIndex::open_or_create(dir.path(), Vocabulary::shared_builtin())
            .expect_err("must refuse");
        assert!(matches!(err, IndexError::ForeignDirectory(_)), "{err}");
        assert!(precious.exists());
    }

    fn doc(id: &str, title: &str) -> ListingDoc {
        ListingDoc {
            id: id.into(),
            side: "offer".into(),
            kind: "equipment".into(),
            status: "open".into(),
            community: "c1".into(),
            urgency: "normal".into(),
            visibility: "public".into(),
            firm: "f1".into(),
            title: title.into(),
            ..ListingDoc::default()
        }
    }

    fn ids(index: &ListingIndex, q: &str) -> Vec<String> {
        index
            .search(&SearchRequest::text(q))
            .expect("search")
            .hits
            .into_iter()
            .map(|h| h.id)
            .collect()
    }

    #[test]
    fn a_new_vocabulary_applies_to_re_added_documents_and_to_queries_once_finished() {
        let sources = crate::VocabSources::builtin();
        let index = ListingIndex::create_in_ram(Vocabulary::shared_builtin()).expect("index");
        index
            .upsert(&doc("a", "炮头出租 带操作手"))
            .expect("upsert");
        index.upsert(&doc("b", "叉车出租")).expect("upsert");
        index.commit(7).expect("commit");
        assert!(ids(&index, "破碎锤").is_empty());
        assert_eq!(index.vocab_version(), 0);

        let group = vec![vec!["炮头".to_string(), "破碎锤".to_string()]];
        let new = Arc::new(sources.build_with(&[], &group));
        index.begin_vocabulary(new);
        // Queries keep the current vocabulary while documents are re-added.
        index
            .upsert(&doc("a", "炮头出租 带操作手"))
            .expect("upsert");
        index.commit(7).expect("commit");
        assert!(ids(&index, "破碎锤").is_empty());
        assert_eq!(ids(&index, "叉车"), vec!["b"]);
        index.upsert(&doc("b", "叉车出租")).expect("upsert");
        index.finish_vocabulary(3).expect("finish");
        assert_eq!(index.vocab_version(), 3);
        assert_eq!(index.applied_seq(), 7);
        assert_eq!(ids(&index, "破碎锤"), vec!["a"]);
        assert_eq!(index.num_docs(), 2);
        let payload = read_payload(index.tantivy_index())
            .expect("payload")
            .expect("some");
        assert_eq!((payload.seq, payload.vocab_version), (7, 3));
    }

    /// How long re-adding documents with a new vocabulary takes, and how
    /// long searches take meanwhile: `cargo test -p zhiqilian-search-index
    /// --release reindex_timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, not a check"]
    fn reindex_timing() {
        let titles = [
            "炮头出租 带操作手 按天计",
            "叉车出租 三吨 柴油",
            "注塑机共享 海天 450 吨",
            "冷库仓储 零下十八度 五百平",
            "求购二手辊道窑一条",
            "标准厂房出租 一楼 层高八米",
        ];
        let n = 20_000;
        let docs: Vec<ListingDoc> = (0..n)
            .map(|i| {
                doc(
                    &format!("l{i:06}"),
                    &format!("{} 第{i}号", titles[i % titles.len()]),
                )
            })
            .collect();
        let index = ListingIndex::create_in_ram(Vocabulary::shared_builtin()).expect("index");
        index.rebuild(docs.clone(), 1, |_| {}).expect("rebuild");
        let group = vec![vec!["炮头".to_string(), "破碎锤".to_string()]];
        let started = std::time::Instant::now();
        let new = Arc::new(crate::VocabSources::builtin().build_with(&[], &group));
        let build = started.elapsed();
        index.begin_vocabulary(new);
        let started = std::time::Instant::now();
        let mut worst = std::time::Duration::ZERO;
        for page in docs.chunks(500) {
            for d in page {
                index.upsert(d).expect("upsert");
            }
            index.commit(1).expect("commit");
            let t = std::time::Instant::now();
            assert!(!ids(&index, "叉车").is_empty());
            worst = worst.max(t.elapsed());
        }
        index.finish_vocabulary(1).expect("finish");
        println!(
            "{n} listings: vocabulary built in {build:?}, re-added in {:?}, slowest search meanwhile {worst:?}, {} hits for 破碎锤 after",
            started.elapsed(),
            index
                .search(&SearchRequest::text("破碎锤"))
                .expect("search")
                .total
        );
    }
}
