//! Snippets of titles that mix CJK and model numbers must never panic.

use zhiqilian_search_index::{ListingDoc, ListingIndex, SearchRequest};

use crate::fixtures::vocab;

#[test]
fn model_number_after_cjk_highlights_without_panicking() {
    let index = ListingIndex::create_in_ram(vocab()).expect("index");
    index
        .upsert(&ListingDoc {
            id: "o1".into(),
            side: "offer".into(),
            kind: "equipment".into(),
            status: "open".into(),
            visibility: "public".into(),
            verified: true,
            title: "处理伊之密啤机两台 UN350A5".into(),
            description: "伊之密UN350A5，350吨，2023年机，产线调整转让；可试机，平湖自提，配件齐全，可签长期合同。".into(),
            ..ListingDoc::default()
        })
        .expect("upsert");
    index.commit(1).expect("commit");
    for q in [
        "闲置伊之密UN350A5 整机出租",
        "UN350A5",
        "伊之密 un350a5",
        "ＵＮ３５０Ａ５",
    ] {
        let r = index.search(&SearchRequest::text(q)).expect("search");
        assert_eq!(r.hits.len(), 1, "{q}");
        assert!(
            r.hits[0].snippets.title.contains("<em>"),
            "{q}: {:?}",
            r.hits[0].snippets
        );
    }
}
