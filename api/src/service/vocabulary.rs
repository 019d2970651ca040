//! The park's own vocabulary: staff of a community (and platform admins, for
//! any community) add dictionary words and synonym groups on top of the
//! shipped vocabulary, remove them, and undo any change. Every change is
//! audited and bumps the deployment-wide vocabulary version, which every
//! node's indexer polls: it then re-tokenizes its index in the background
//! (`worker::indexer::vocabulary_step`) and switches queries — search and
//! matching — to the new vocabulary once every listing is re-added.
//!
//! A tantivy index has one tokenizer, so entries apply deployment-wide: a
//! word only refines how text is cut into words, and a synonym group makes
//! its terms find each other in every park. The park that added an entry
//! owns it (only its staff see, remove or undo it) and is named in the audit
//! log.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use zhiqilian_matcher::FieldError;
use zhiqilian_matcher::errors::codes;
use zhiqilian_search_index::tokenizer::normalize_term;

use crate::service::access::Caller;
use crate::service::error::{ApiError, Code};
use crate::store::audit;
use crate::store::vocabulary::{self as store, Change, Entry};
use crate::store::{Db, StoreError, accounts, begin_write};
use crate::worker::indexer::{ReindexProgress, SearchIndex};

/// Longest term, in characters.
pub const MAX_TERM_CHARS: usize = 20;
/// Most terms in one synonym group.
pub const MAX_GROUP_TERMS: usize = 10;
/// Most live entries per park (each one is in every node's dictionary).
pub const MAX_ENTRIES: usize = 2_000;
/// Characters the vocabulary files use as separators or comment marks.
const RESERVED: [char; 5] = ['/', ',', '，', '、', '#'];

#[derive(Debug, Serialize)]
pub struct EntryOut {
    pub id: String,
    pub kind: String,
    pub terms: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

fn entry_out(e: &Entry) -> EntryOut {
    EntryOut {
        id: e.id.clone(),
        kind: e.kind.clone(),
        terms: e.term_list(),
        created_by: e.created_by.clone(),
        created_at: e.created_at.and_utc(),
    }
}

#[derive(Debug, Serialize)]
pub struct ChangeOut {
    pub id: String,
    pub version: i64,
    pub action: String,
    pub entry_id: String,
    pub kind: String,
    pub terms: Vec<String>,
    pub actor_user_id: String,
    pub at: DateTime<Utc>,
    pub undone_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct VocabularyOut {
    pub community_id: String,
    /// The deployment-wide vocabulary version now.
    pub version: i64,
    pub entries: Vec<EntryOut>,
    /// The park's latest changes, newest first.
    pub changes: Vec<ChangeOut>,
}

/// What a change left: the entry and the version to wait for.
#[derive(Debug, Serialize)]
pub struct ChangeResult {
    pub version: i64,
    pub change_id: String,
    pub entry: EntryOut,
}

#[derive(Debug, Serialize)]
pub struct UndoResult {
    pub version: i64,
    /// The change that was reverted.
    pub undone: ChangeOut,
}

#[derive(Debug, Serialize)]
pub struct ReindexStatus {
    /// The database's vocabulary version.
    pub version: i64,
    /// The version this node's index and queries use.
    pub applied_version: i64,
    pub up_to_date: bool,
    pub running: bool,
    pub done: u64,
    pub total: u64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewEntry {
    /// Platform admins name the park; staff may leave it out.
    pub community_id: Option<String>,
    /// `word` or `synonyms`.
    pub kind: String,
    pub terms: Vec<String>,
    /// Accepted from the suggestion list (recorded in the audit log).
    #[serde(default)]
    pub from_suggestion: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UndoIn {
    pub community_id: Option<String>,
    /// The change to revert; the park's newest change not undone yet when absent.
    pub change_id: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Suggestion {
    pub kind: String,
    pub terms: Vec<String>,
    /// Listings of the park it occurs in (a pair: either term).
    pub listings: usize,
    /// The evidence in words, for the reviewer.
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct SuggestionsOut {
    pub community_id: String,
    /// Open listings read.
    pub listings: usize,
    pub suggestions: Vec<Suggestion>,
}

/// The park the caller manages: staff their own (naming another is
/// refused), platform admins the one they name. API clients never.
pub fn park_of(caller: &Caller, asked: Option<&str>) -> Result<String, ApiError> {
    if caller.client.is_some() {
        return Err(ApiError::forbidden("需要社区工作人员权限"));
    }
    if caller.platform_admin {
        return match asked.map(str::trim).filter(|s| !s.is_empty()) {
            Some(c) => Ok(c.to_string()),
            None => Err(ApiError::validation(vec![FieldError::new(
                "community_id",
                codes::REQUIRED,
                "平台管理员须指定社区",
            )])),
        };
    }
    match &caller.staff_community {
        Some(own) if asked.is_none_or(|a| a == own) => Ok(own.clone()),
        Some(_) => Err(ApiError::forbidden("只能管理本社区的词库")),
        None => Err(ApiError::forbidden("需要社区工作人员权限")),
    }
}

async fn ensure_park(db: &Db, community_id: &str) -> Result<(), ApiError> {
    let id = community_id.to_string();
    let found = db
        .run(move |c| accounts::get_community(c, &id))
        .await?
        .is_some();
    if found {
        Ok(())
    } else {
        Err(ApiError::not_found("社区"))
    }
}

/// Normalises and checks the terms of a new entry.
pub fn validate(kind: &str, raw: &[String]) -> Result<Vec<String>, ApiError> {
    let mut errors = Vec::new();
    if kind != "word" && kind != "synonyms" {
        errors.push(FieldError::new(
            "kind",
            codes::INVALID_CHOICE,
            "类型须为 word（词）或 synonyms（同义词组）",
        ));
        return Err(ApiError::validation(errors));
    }
    let mut terms = Vec::new();
    let mut seen = HashSet::new();
    for (i, t) in raw.iter().enumerate() {
        let field = format!("terms.{i}");
        if t.chars().any(char::is_control) {
            errors.push(FieldError::new(
                field,
                crate::service::validate::CONTROL_CHARACTER,
                "不能包含控制字符",
            ));
            continue;
        }
        let trimmed = t.trim();
        if trimmed.is_empty() {
            errors.push(FieldError::new(field, codes::REQUIRED, "词不能为空"));
            continue;
        }
        if trimmed.chars().any(char::is_whitespace) {
            errors.push(FieldError::new(
                field,
                codes::INVALID_FORMAT,
                "一个词中间不能有空格",
            ));
            continue;
        }
        if trimmed.chars().any(|c| RESERVED.contains(&c)) {
            errors.push(FieldError::new(
                field,
                codes::INVALID_FORMAT,
                "不能包含 / , ， 、 # 这些分隔符：同义词请分开填写",
            ));
            continue;
        }
        let norm = normalize_term(trimmed);
        let chars = norm.chars().count();
        if chars > MAX_TERM_CHARS {
            errors.push(FieldError::new(
                field,
                codes::TOO_LONG,
                format!("每个词最多 {MAX_TERM_CHARS} 个字"),
            ));
            continue;
        }
        if kind == "word" && (chars < 2 || !norm.chars().any(is_cjk)) {
            errors.push(FieldError::new(
                field,
                codes::INVALID_FORMAT,
                "词典词须含汉字且至少两个字（字母和数字本来就按整词检索）",
            ));
            continue;
        }
        if seen.insert(norm.clone()) {
            terms.push(norm);
        }
    }
    if errors.is_empty() {
        match kind {
            "word" if raw.len() != 1 => errors.push(FieldError::new(
                "terms",
                codes::OUT_OF_RANGE,
                "词典词一次添加一个",
            )),
            "synonyms" if terms.len() < 2 => errors.push(FieldError::new(
                "terms",
                codes::OUT_OF_RANGE,
                "同义词组至少需要两个不同的词",
            )),
            "synonyms" if terms.len() > MAX_GROUP_TERMS => errors.push(FieldError::new(
                "terms",
                codes::OUT_OF_RANGE,
                format!("同义词组最多 {MAX_GROUP_TERMS} 个词"),
            )),
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(terms)
    } else {
        Err(ApiError::validation(errors))
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{20000}'..='\u{2EBEF}')
}

fn change_out(ch: &Change, entry: Option<&Entry>) -> ChangeOut {
    ChangeOut {
        id: ch.id.clone(),
        version: ch.version,
        action: ch.action.clone(),
        entry_id: ch.entry_id.clone(),
        kind: entry.map(|e| e.kind.clone()).unwrap_or_default(),
        terms: entry.map(Entry::term_list).unwrap_or_default(),
        actor_user_id: ch.actor_user_id.clone(),
        at: ch.at.and_utc(),
        undone_at: ch.undone_at.map(|t| t.and_utc()),
    }
}

/// The park's live entries and latest changes.
pub async fn list(
    db: &Db,
    caller: &Caller,
    asked: Option<&str>,
) -> Result<VocabularyOut, ApiError> {
    let park = park_of(caller, asked)?;
    ensure_park(db, &park).await?;
    let p = park.clone();
    let (version, entries, changes) = db
        .run(move |c| {
            let version = store::version(c)?;
            let entries = store::live_of(c, &p)?;
            let mut changes = Vec::new();
            for ch in store::changes_of(c, &p, 20)? {
                let e = store::get(c, &ch.entry_id)?;
                changes.push(change_out(&ch, e.as_ref()));
            }
            Ok((version, entries, changes))
        })
        .await?;
    Ok(VocabularyOut {
        community_id: park,
        version,
        entries: entries.iter().map(entry_out).collect(),
        changes,
    })
}

/// Adds a word or a synonym group to the park's vocabulary.
pub async fn add(db: &Db, caller: &Caller, body: NewEntry) -> Result<ChangeResult, ApiError> {
    let park = park_of(caller, body.community_id.as_deref())?;
    let terms = validate(&body.kind, &body.terms)?;
    ensure_park(db, &park).await?;
    let (user, kind, from_suggestion) = (caller.user_id.clone(), body.kind, body.from_suggestion);
    let (entry, change) = db
        .run(move |c| {
            use diesel::Connection;
            c.transaction::<_, StoreError, _>(|c| {
                begin_write(c)?;
                if store::live_of(c, &park)?.len() >= MAX_ENTRIES {
                    return Err(StoreError::Conflict(format!(
                        "a park holds at most {MAX_ENTRIES} entries"
                    )));
                }
                let (entry, change) = store::add(c, &park, &kind, &terms, &user)?;
                let actor = accounts::actor(c, &user)?;
                audit::record(
                    c,
                    &actor,
                    &park,
                    "vocabulary.added",
                    None,
                    ("vocabulary_entry", &entry.id),
                    json!({
                        "kind": entry.kind,
                        "terms": entry.term_list(),
                        "version": change.version,
                        "from_suggestion": from_suggestion,
                    }),
                )?;
                Ok((entry, change))
            })
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(what) if what.contains("at most") => ApiError::conflict(
                Code::Conflict,
                format!("本社区词库已满（最多 {MAX_ENTRIES} 条）"),
            ),
            StoreError::Conflict(_) => {
                ApiError::conflict(Code::Conflict, "本社区词库已有相同的词条")
            }
            other => other.into(),
        })?;
    Ok(ChangeResult {
        version: change.version,
        change_id: change.id,
        entry: entry_out(&entry),
    })
}

/// Removes one of the park's live entries.
pub async fn remove(
    db: &Db,
    caller: &Caller,
    id: &str,
    asked: Option<&str>,
) -> Result<ChangeResult, ApiError> {
    if caller.client.is_some() || !(caller.platform_admin || caller.staff_community.is_some()) {
        return Err(ApiError::forbidden("需要社区工作人员权限"));
    }
    let (user, id, caller2, asked) = (
        caller.user_id.clone(),
        id.to_string(),
        caller.clone(),
        asked.map(str::to_string),
    );
    let out = db
        .run(move |c| {
            use diesel::Connection;
            c.transaction::<_, StoreError, _>(|c| {
                begin_write(c)?;
                let Some(entry) = store::get(c, &id)?.filter(|e| {
                    e.removed_at.is_none()
                        && caller2.can_administer_community(&e.community_id)
                        && asked.as_deref().is_none_or(|a| a == e.community_id)
                }) else {
                    return Ok(None);
                };
                let change = store::remove(c, &entry, &user)?;
                let actor = accounts::actor(c, &user)?;
                audit::record(
                    c,
                    &actor,
                    &entry.community_id,
                    "vocabulary.removed",
                    None,
                    ("vocabulary_entry", &entry.id),
                    json!({
                        "kind": entry.kind,
                        "terms": entry.term_list(),
                        "version": change.version,
                    }),
                )?;
                Ok(Some((entry, change)))
            })
        })
        .await?;
    let Some((entry, change)) = out else {
        return Err(ApiError::not_found("词条"));
    };
    Ok(ChangeResult {
        version: change.version,
        change_id: change.id,
        entry: entry_out(&entry),
    })
}

/// Reverts the park's newest change not undone yet, or the one named.
pub async fn undo(db: &Db, caller: &Caller, body: UndoIn) -> Result<UndoResult, ApiError> {
    let park = park_of(caller, body.community_id.as_deref())?;
    ensure_park(db, &park).await?;
    let user = caller.user_id.clone();
    let named = body.change_id.clone();
    let out = db
        .run(move |c| {
            use diesel::Connection;
            c.transaction::<_, StoreError, _>(|c| {
                begin_write(c)?;
                let Some(change) = store::undoable(c, &park, named.as_deref())? else {
                    return Ok(None);
                };
                let version = store::undo(c, &change)?;
                let entry = store::get(c, &change.entry_id)?;
                let actor = accounts::actor(c, &user)?;
                audit::record(
                    c,
                    &actor,
                    &park,
                    "vocabulary.undone",
                    None,
                    ("vocabulary_entry", &change.entry_id),
                    json!({
                        "change_id": change.id,
                        "action": change.action,
                        "kind": entry.as_ref().map(|e| e.kind.clone()),
                        "terms": entry.as_ref().map(Entry::term_list),
                        "version": version,
                    }),
                )?;
                let mut change = change;
                change.undone_at = Some(crate::store::now());
                Ok(Some((version, change_out(&change, entry.as_ref()))))
            })
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(what) => {
                ApiError::conflict(Code::Conflict, format!("无法撤销：{}", undo_reason(&what)))
            }
            other => other.into(),
        })?;
    match (out, body.change_id) {
        (Some((version, undone)), _) => Ok(UndoResult { version, undone }),
        (None, Some(_)) => Err(ApiError::not_found("词库变更")),
        (None, None) => Err(ApiError::conflict(Code::Conflict, "没有可以撤销的词库变更")),
    }
}

fn undo_reason(what: &str) -> &'static str {
    if what.contains("already") {
        "这次变更已经撤销过了"
    } else if what.contains("again") {
        "本社区词库又有了相同的词条"
    } else {
        "该词条之后又有变更，请先撤销之后的变更"
    }
}

/// This node's progress applying the vocabulary.
pub async fn reindex_status(
    db: &Db,
    search: &SearchIndex,
    caller: &Caller,
    asked: Option<&str>,
) -> Result<ReindexStatus, ApiError> {
    park_of(caller, asked)?;
    let version = db.run(store::version).await?;
    let applied = search.index.vocab_version();
    let ReindexProgress {
        running,
        done,
        total,
        started_at,
        finished_at,
        ..
    } = search.vocab.progress();
    Ok(ReindexStatus {
        version,
        applied_version: applied,
        up_to_date: applied == version && !running,
        running,
        done,
        total,
        started_at,
        finished_at,
    })
}

/// Proposals from the park's open listings, for review: words the
/// tokenizer breaks apart and pairs used alike, minus what the park's
/// vocabulary already has.
pub async fn suggestions(
    db: &Db,
    search: &SearchIndex,
    caller: &Caller,
    asked: Option<&str>,
) -> Result<SuggestionsOut, ApiError> {
    let park = park_of(caller, asked)?;
    ensure_park(db, &park).await?;
    let p = park.clone();
    let live = db.run(move |c| store::live_of(c, &p)).await?;
    let (db2, park2) = (db.clone(), park.clone());
    let vocab = search.index.vocabulary();
    let out = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let docs = crate::cli::vocab_suggest::docs_of_community(&db2, &park2)?;
        let s = crate::cli::vocab_suggest::suggest(
            &docs,
            vocab,
            &zhiqilian_matcher::vocab::Options {
                limit: 30,
                ..Default::default()
            },
        );
        Ok((docs.len(), s))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let (n, s) = out;
    let known: HashSet<String> = live.iter().map(|e| e.term_key.clone()).collect();
    let mut suggestions = Vec::new();
    for w in s.words {
        let terms = vec![w.word.clone()];
        if known.contains(&store::term_key(&terms)) {
            continue;
        }
        suggestions.push(Suggestion {
            kind: "word".into(),
            terms,
            listings: w.listings,
            reason: format!(
                "{} 条信息中出现 {} 次，现在被切成 {}",
                w.listings,
                w.count,
                w.split_as.join(" / ")
            ),
        });
    }
    for p in s.synonyms {
        let terms = vec![p.a.clone(), p.b.clone()];
        if known.contains(&store::term_key(&terms)) {
            continue;
        }
        suggestions.push(Suggestion {
            kind: "synonyms".into(),
            terms,
            listings: p.listings.0 + p.listings.1 - p.listings.2,
            reason: format!(
                "用法相似度 {:.2}；共同语境：{}",
                p.similarity,
                p.shared.join(" ")
            ),
        });
    }
    Ok(SuggestionsOut {
        community_id: park,
        listings: n,
        suggestions,
    })
}
