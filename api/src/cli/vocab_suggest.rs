//! `zhiqilian vocab suggest`: new words and synonym pairs proposed from the
//! live listings (or a listings JSONL file), printed for review. Nothing is
//! written: a person copies the lines they accept into the vocabulary files
//! (`userdict.txt`, `synonyms.txt` of `vocab_dir`).
//!
//! The proposals come from [`zhiqilian_matcher::vocab`]; this module only
//! reads the listings and hands it the deployment's tokenizer and synonym
//! groups.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use zhiqilian_matcher::ListingStatus;

use anyhow::Context;
use clap::Args;
use zhiqilian_matcher::vocab::{self, Doc, Options, Suggestions};
use zhiqilian_search_index::{Vocabulary, tokenizer::ZhTokenizer};

use crate::store::{Db, listings};

#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// Read listings from this JSONL file (the format of eval/README.md)
    /// instead of the database's open listings.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// A word or synonym must occur in at least this many listings.
    #[arg(long, default_value_t = 3)]
    pub min_listings: usize,
    /// Smallest context similarity (cosine, 0–1) of a proposed synonym pair.
    #[arg(long, default_value_t = 0.5)]
    pub min_similarity: f64,
    /// At most this many suggestions of each sort.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The documents of a listings JSONL file (one listing per line).
pub fn docs_from_jsonl(path: &Path) -> anyhow::Result<Vec<Doc>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut docs = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a JSON object", path.display(), i + 1))?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_owned();
        docs.push(doc(
            s("kind"),
            &s("title"),
            &s("description"),
            v.get("attributes"),
        ));
    }
    Ok(docs)
}

fn doc(kind: String, title: &str, description: &str, attrs: Option<&serde_json::Value>) -> Doc {
    let mut attributes = Vec::new();
    if let Some(serde_json::Value::Object(map)) = attrs {
        for (k, v) in map {
            match v {
                serde_json::Value::String(s) if !s.trim().is_empty() => {
                    attributes.push((k.clone(), s.trim().to_owned()));
                }
                serde_json::Value::Array(items) => {
                    for s in items.iter().filter_map(|x| x.as_str()) {
                        attributes.push((k.clone(), s.trim().to_owned()));
                    }
                }
                serde_json::Value::Number(n) => attributes.push((k.clone(), n.to_string())),
                _ => {}
            }
        }
    }
    Doc {
        kind,
        text: format!("{title} {description}"),
        attributes,
    }
}

/// The documents of the database's open listings.
pub fn docs_from_db(db: &Db) -> anyhow::Result<Vec<Doc>> {
    let mut conn = db.conn()?;
    let mut docs = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = listings::scan(&mut conn, after.as_deref(), 1000)?;
        let Some(last) = page.last() else { break };
        after = Some(last.listing.id.clone());
        for v in page
            .iter()
            .filter(|v| v.listing.status == ListingStatus::Open)
        {
            let l = &v.listing;
            let attrs: Option<serde_json::Value> = serde_json::from_str(&l.attributes).ok();
            docs.push(doc(
                l.kind.clone(),
                &l.title,
                &l.description,
                attrs.as_ref(),
            ));
        }
    }
    Ok(docs)
}

/// The documents of one community's open listings.
pub fn docs_of_community(db: &Db, community_id: &str) -> anyhow::Result<Vec<Doc>> {
    let mut conn = db.conn()?;
    let mut docs = Vec::new();
    for v in listings::open_of_community(&mut conn, community_id)? {
        let l = &v.listing;
        let attrs: Option<serde_json::Value> = serde_json::from_str(&l.attributes).ok();
        docs.push(doc(
            l.kind.clone(),
            &l.title,
            &l.description,
            attrs.as_ref(),
        ));
    }
    Ok(docs)
}

/// Suggestions for `docs` against `vocab`: its tokenizer decides what is
/// split, its synonym groups what is known.
pub fn suggest(docs: &[Doc], vocab: Arc<Vocabulary>, opts: &Options) -> Suggestions {
    let tokenizer = ZhTokenizer::new(vocab.clone());
    vocab::suggest(
        docs,
        |text| tokenizer.tokens(text),
        |a, b| vocab.synonyms_of(a).iter().any(|s| s == b),
        opts,
    )
}

/// The suggestions as a reviewable list: one line each, in the files' own
/// formats, with the evidence after a `#`.
pub fn render(s: &Suggestions, listings: usize) -> String {
    let mut out = format!(
        "# {listings} listings read; nothing has been added to the vocabulary.\n\
         # New words (for userdict.txt): word  # listings, occurrences, cohesion, boundary entropy, today's cut\n"
    );
    for w in &s.words {
        out.push_str(&format!(
            "{}  # {} listings, {}×, cohesion {:.2}, boundary {:.2}, cut as {}\n",
            w.word,
            w.listings,
            w.count,
            w.cohesion,
            w.boundary_entropy,
            w.split_as.join("/")
        ));
    }
    out.push_str(
        "# Synonym pairs (for synonyms.txt): a,b  # context similarity, listings (a, b, both), shared contexts\n",
    );
    for p in &s.synonyms {
        out.push_str(&format!(
            "{},{}  # similarity {:.2}, listings {}/{}/{}, shared {}\n",
            p.a,
            p.b,
            p.similarity,
            p.listings.0,
            p.listings.1,
            p.listings.2,
            p.shared.join(" ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dev_listings_give_a_reviewable_list() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../eval/dev/listings.jsonl"
        ));
        let docs = docs_from_jsonl(path).expect("dev listings");
        assert_eq!(docs.len(), 167);
        let s = suggest(&docs, Vocabulary::shared_builtin(), &Options::default());
        let text = render(&s, docs.len());
        assert!(text.starts_with("# 167 listings read"), "{text}");
        // Every proposed word is one the shipped tokenizer breaks apart.
        let tokenizer = ZhTokenizer::new(Vocabulary::shared_builtin());
        for w in &s.words {
            assert!(
                !tokenizer.tokens(&w.word).contains(&w.word),
                "{} is already a token",
                w.word
            );
        }
        // No pair the shipped vocabulary already groups.
        for p in &s.synonyms {
            assert!(
                !Vocabulary::shared_builtin()
                    .synonyms_of(&p.a)
                    .contains(&p.b),
                "{p:?}"
            );
        }
    }
}
