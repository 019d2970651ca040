//! A park's own vocabulary (dictionary words and synonym groups added by its
//! staff), the log of changes that makes every change undoable, and the
//! deployment-wide version each node polls. Transactions are the caller's
//! (`service::vocabulary`); audit entries go in the same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{vocabulary_changes, vocabulary_entries, vocabulary_version};
use super::{DbConnection, StoreError, StoreResult, new_id, now};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = vocabulary_entries)]
pub struct Entry {
    pub id: String,
    pub community_id: String,
    /// `word` or `synonyms`.
    pub kind: String,
    /// Normalised terms joined with '/'.
    pub terms: String,
    pub term_key: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub removed_at: Option<NaiveDateTime>,
}

impl Entry {
    pub fn term_list(&self) -> Vec<String> {
        self.terms.split('/').map(str::to_string).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = vocabulary_changes)]
pub struct Change {
    pub id: String,
    pub version: i64,
    pub community_id: String,
    pub entry_id: String,
    /// `add` or `remove`.
    pub action: String,
    pub actor_user_id: String,
    pub at: NaiveDateTime,
    pub undone_at: Option<NaiveDateTime>,
    pub undone_version: Option<i64>,
}

/// The sorted key of a set of terms (a group is a set; a word is one term).
pub fn term_key(terms: &[String]) -> String {
    let mut sorted: Vec<&str> = terms.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.join("/")
}

/// The vocabulary version now (0: no park has changed anything).
pub fn version(c: &mut DbConnection) -> StoreResult<i64> {
    Ok(vocabulary_version::table
        .filter(vocabulary_version::id.eq(1))
        .select(vocabulary_version::version)
        .first::<i64>(c)
        .optional()?
        .unwrap_or(0))
}

/// Inside a change's transaction: the next version (the row lock orders
/// concurrent changes, so versions commit in order).
fn bump(c: &mut DbConnection) -> StoreResult<i64> {
    diesel::update(vocabulary_version::table.filter(vocabulary_version::id.eq(1)))
        .set(vocabulary_version::version.eq(vocabulary_version::version + 1))
        .execute(c)?;
    version(c)
}

/// Every live entry of every park, oldest first: what the nodes build their
/// vocabulary from.
pub fn all_live(c: &mut DbConnection) -> StoreResult<Vec<Entry>> {
    Ok(vocabulary_entries::table
        .filter(vocabulary_entries::removed_at.is_null())
        .order(vocabulary_entries::id.asc())
        .select(Entry::as_select())
        .load(c)?)
}

/// A park's live entries, oldest first.
pub fn live_of(c: &mut DbConnection, community_id: &str) -> StoreResult<Vec<Entry>> {
    Ok(vocabulary_entries::table
        .filter(vocabulary_entries::community_id.eq(community_id))
        .filter(vocabulary_entries::removed_at.is_null())
        .order(vocabulary_entries::id.asc())
        .select(Entry::as_select())
        .load(c)?)
}

pub fn get(c: &mut DbConnection, id: &str) -> StoreResult<Option<Entry>> {
    Ok(vocabulary_entries::table
        .find(id)
        .select(Entry::as_select())
        .first(c)
        .optional()?)
}

fn log(
    c: &mut DbConnection,
    community_id: &str,
    entry_id: &str,
    action: &str,
    actor: &str,
) -> StoreResult<Change> {
    let row = Change {
        id: new_id(),
        version: bump(c)?,
        community_id: community_id.to_string(),
        entry_id: entry_id.to_string(),
        action: action.to_string(),
        actor_user_id: actor.to_string(),
        at: now(),
        undone_at: None,
        undone_version: None,
    };
    diesel::insert_into(vocabulary_changes::table)
        .values(&row)
        .execute(c)?;
    Ok(row)
}

/// Adds an entry; `Conflict` when the park has the same live entry.
pub fn add(
    c: &mut DbConnection,
    community_id: &str,
    kind: &str,
    terms: &[String],
    actor: &str,
) -> StoreResult<(Entry, Change)> {
    let entry = Entry {
        id: new_id(),
        community_id: community_id.to_string(),
        kind: kind.to_string(),
        terms: terms.join("/"),
        term_key: term_key(terms),
        created_by: actor.to_string(),
        created_at: now(),
        removed_at: None,
    };
    diesel::insert_into(vocabulary_entries::table)
        .values(&entry)
        .execute(c)
        .map_err(|e| StoreError::unique_as_conflict(e, "the park already has this entry"))?;
    let change = log(c, community_id, &entry.id, "add", actor)?;
    Ok((entry, change))
}

/// Removes a live entry (stamps it); `NotFound` when it is not live.
pub fn remove(c: &mut DbConnection, entry: &Entry, actor: &str) -> StoreResult<Change> {
    let n = diesel::update(
        vocabulary_entries::table
            .find(&entry.id)
            .filter(vocabulary_entries::removed_at.is_null()),
    )
    .set(vocabulary_entries::removed_at.eq(Some(now())))
    .execute(c)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    log(c, &entry.community_id, &entry.id, "remove", actor)
}

/// A park's changes, newest first.
pub fn changes_of(
    c: &mut DbConnection,
    community_id: &str,
    limit: i64,
) -> StoreResult<Vec<Change>> {
    Ok(vocabulary_changes::table
        .filter(vocabulary_changes::community_id.eq(community_id))
        .order(vocabulary_changes::version.desc())
        .limit(limit)
        .select(Change::as_select())
        .load(c)?)
}

/// The change to undo: `id`, or the park's newest change not undone yet.
pub fn undoable(
    c: &mut DbConnection,
    community_id: &str,
    id: Option<&str>,
) -> StoreResult<Option<Change>> {
    let mut q = vocabulary_changes::table
        .filter(vocabulary_changes::community_id.eq(community_id))
        .select(Change::as_select())
        .into_boxed();
    if let Some(id) = id {
        q = q.filter(vocabulary_changes::id.eq(id.to_string()));
    } else {
        q = q.filter(vocabulary_changes::undone_at.is_null());
    }
    Ok(q.order(vocabulary_changes::version.desc())
        .first(c)
        .optional()?)
}

/// Reverts `change`: an add removes its entry again, a remove restores it.
/// `Conflict` when the change was undone already, or the entry has moved on
/// since (removed after the add, or a same entry added after the remove).
/// Returns the version the undo produced.
pub fn undo(c: &mut DbConnection, change: &Change) -> StoreResult<i64> {
    if change.undone_at.is_some() {
        return Err(StoreError::Conflict(
            "this change was undone already".into(),
        ));
    }
    let target = vocabulary_entries::table.find(&change.entry_id);
    let n = match change.action.as_str() {
        "add" => diesel::update(target.filter(vocabulary_entries::removed_at.is_null()))
            .set(vocabulary_entries::removed_at.eq(Some(now())))
            .execute(c)?,
        _ => diesel::update(target.filter(vocabulary_entries::removed_at.is_not_null()))
            .set(vocabulary_entries::removed_at.eq(None::<NaiveDateTime>))
            .execute(c)
            .map_err(|e| {
                StoreError::unique_as_conflict(e, "the park has this entry again since")
            })?,
    };
    if n == 0 {
        return Err(StoreError::Conflict(
            "the entry has changed since; undo the later change first".into(),
        ));
    }
    let version = bump(c)?;
    diesel::update(vocabulary_changes::table.find(&change.id))
        .set((
            vocabulary_changes::undone_at.eq(Some(now())),
            vocabulary_changes::undone_version.eq(Some(version)),
        ))
        .execute(c)?;
    Ok(version)
}
