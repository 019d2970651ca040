//! Searching the fixture park: text, synonyms, filters, sorting, snippets, facets, abuse.

use tantivy::collector::Count;
use tantivy::query::QueryParser;
use zhiqilian_search_index::{
    GeoFilter, MAX_LIMIT, SearchRequest, SortOrder, VisibilityRule, schema::build_schema,
};

use crate::fixtures::{EAST, NORTH, day, ids, listings, open_count, park, text};

fn offers(q: &str) -> SearchRequest {
    SearchRequest {
        side: Some("offer".into()),
        ..text(q)
    }
}

#[test]
fn synonym_finds_the_other_word() {
    let index = park();
    let found = ids(&index, &offers("铲车"));
    assert!(found.contains(&"o-forklift".to_string()), "{found:?}");
    assert!(found.contains(&"o-stacker".to_string()), "{found:?}");
    let found = ids(&index, &text("啤机"));
    assert_eq!(
        found.first().map(String::as_str),
        Some("o-injection"),
        "{found:?}"
    );
    let found = ids(&index, &text("日标12#"));
    assert_eq!(
        found.first().map(String::as_str),
        Some("o-alloy"),
        "{found:?}"
    );
    let found = ids(&index, &text("加工中心"));
    assert_eq!(
        found.first().map(String::as_str),
        Some("o-cnc"),
        "{found:?}"
    );
}

#[test]
fn the_typed_word_outranks_its_synonym() {
    let index = park();
    // r-forklift says 铲车, o-forklift says 叉车: both match, the literal one first
    let found = ids(&index, &text("铲车"));
    let literal = found.iter().position(|id| id == "r-forklift");
    let synonym = found.iter().position(|id| id == "o-forklift");
    assert!(literal.is_some() && synonym.is_some(), "{found:?}");
    assert!(literal < synonym, "{found:?}");
}

#[test]
fn unspaced_multi_word_queries_find_their_listing() {
    let index = park();
    let found = ids(&index, &offers("叉车出租"));
    assert_eq!(
        found.first().map(String::as_str),
        Some("o-forklift"),
        "{found:?}"
    );
    let found = ids(&index, &text("宁波大学公寓"));
    assert_eq!(
        found.first().map(String::as_str),
        Some("o-apartment"),
        "{found:?}"
    );
    let found = ids(&index, &text("荧光定量PCR仪"));
    assert_eq!(
        found.first().map(String::as_str),
        Some("o-pcr"),
        "{found:?}"
    );
    let found = ids(&index, &text("ＭＡ２５００"));
    assert_eq!(
        found.first().map(String::as_str),
        Some("o-injection"),
        "{found:?}"
    );
}

/// The trap our query builder exists for: tantivy's `QueryParser` turns an unspaced Chinese
/// query that tokenizes into several words into a phrase, which finds nothing here because
/// 宁波大学 and 公寓 are not adjacent in the listing.
#[test]
fn query_parser_phrase_trap_is_avoided() {
    let index = park();
    let tantivy_index = index.tantivy_index();
    let schema = build_schema();
    let fields = ["title", "description"].map(|n| schema.get_field(n).expect("field"));
    let parser = QueryParser::for_index(tantivy_index, fields.to_vec());
    let searcher = tantivy_index.reader().expect("reader").searcher();
    let unspaced = parser.parse_query("宁波大学公寓").expect("parse");
    let spaced = parser.parse_query("宁波大学 公寓").expect("parse");
    assert_eq!(searcher.search(&*unspaced, &Count).expect("search"), 0);
    assert!(searcher.search(&*spaced, &Count).expect("search") >= 1);
    // ours finds it either way
    assert!(ids(&index, &text("宁波大学公寓")).contains(&"o-apartment".to_string()));
}

#[test]
fn quoted_text_must_appear_as_written() {
    let index = park();
    let loose = ids(&index, &text("叉车 出租"));
    let exact = ids(&index, &text("\"叉车出租\""));
    assert!(exact.contains(&"o-forklift".to_string()), "{exact:?}");
    // the stacker listing says 堆高车出租: a synonym, not the phrase
    assert!(loose.contains(&"o-stacker".to_string()), "{loose:?}");
    assert!(!exact.contains(&"o-stacker".to_string()), "{exact:?}");
    assert!(exact.len() < loose.len());
    // a phrase across the comma of "3t内燃叉车，可按天" still reads as written without it
    assert!(ids(&index, &text("“内燃叉车可按天”")).contains(&"o-forklift".to_string()));
}

#[test]
fn side_kind_status_and_firm_filters() {
    let index = park();
    let requests = ids(
        &index,
        &SearchRequest {
            side: Some("request".into()),
            ..text("")
        },
    );
    assert_eq!(requests.len(), 2, "{requests:?}");
    let found = ids(
        &index,
        &SearchRequest {
            kinds: vec!["space".into(), "LOGISTICS".into()],
            ..text("出租")
        },
    );
    assert!(found.contains(&"o-plant".to_string()), "{found:?}");
    assert!(found.contains(&"o-coldstore".to_string()), "{found:?}");
    assert!(!found.contains(&"o-forklift".to_string()), "{found:?}");
    // closed listings only when asked for
    assert!(!ids(&index, &text("叉车")).contains(&"o-sold".to_string()));
    let with_closed = SearchRequest {
        status: None,
        ..text("叉车")
    };
    assert!(ids(&index, &with_closed).contains(&"o-sold".to_string()));
    let own = SearchRequest {
        firm: Some("f01".into()),
        ..text("")
    };
    let mut found = ids(&index, &own);
    found.sort();
    assert_eq!(found, vec!["o-compressor", "o-forklift"]);
    let others = SearchRequest {
        exclude_firm: Some("f01".into()),
        ..text("出租")
    };
    let found = ids(&index, &others);
    assert!(!found.is_empty() && !found.contains(&"o-forklift".to_string()));
}

#[test]
fn urgency_and_community_filters() {
    let index = park();
    let urgent = SearchRequest {
        urgency: vec!["urgent".into(), "emergency".into()],
        ..text("")
    };
    let mut found = ids(&index, &urgent);
    found.sort();
    assert_eq!(found, vec!["r-forklift", "r-masks"]);
    let north = SearchRequest {
        community: Some("c-north".into()),
        ..text("出租")
    };
    let found = ids(&index, &north);
    assert!(
        found.contains(&"o-forklift".to_string()) && found.contains(&"o-compressor".to_string())
    );
    assert!(!found.contains(&"o-plant".to_string()), "{found:?}");
}

#[test]
fn visibility_rule_hides_other_communities_listings() {
    let index = park();
    let outsider = SearchRequest {
        visible_to: Some(VisibilityRule::default()),
        ..text("堆高车")
    };
    assert!(!ids(&index, &outsider).contains(&"o-stacker".to_string()));
    let member = SearchRequest {
        visible_to: Some(VisibilityRule {
            allowed_communities: vec!["c-east".into()],
            ..VisibilityRule::default()
        }),
        ..text("堆高车")
    };
    assert!(ids(&index, &member).contains(&"o-stacker".to_string()));
    let neighbour = SearchRequest {
        visible_to: Some(VisibilityRule {
            allowed_communities: vec!["c-north".into()],
            ..VisibilityRule::default()
        }),
        ..text("堆高车")
    };
    let found = ids(&index, &neighbour);
    assert!(!found.contains(&"o-stacker".to_string()), "{found:?}");
    // public listings stay visible to everyone
    assert!(found.contains(&"o-forklift".to_string()), "{found:?}");
    let public_only = SearchRequest {
        visibility: Some("community".into()),
        ..text("")
    };
    assert_eq!(ids(&index, &public_only), vec!["o-stacker"]);
}

#[test]
fn available_on_respects_windows_and_open_ends() {
    let index = park();
    let on = |d: i64| SearchRequest {
        available_on: Some(d),
        ..text("出租")
    };
    let november = ids(&index, &on(day(2026, 11, 20)));
    assert!(november.contains(&"o-forklift".to_string()), "{november:?}");
    assert!(
        !november.contains(&"o-compressor".to_string()),
        "{november:?}"
    );
    // listings without any window are always available
    assert!(november.contains(&"o-plant".to_string()), "{november:?}");
    let december = ids(&index, &on(day(2026, 12, 15)));
    assert!(
        !december.contains(&"o-forklift".to_string()),
        "{december:?}"
    );
    assert!(
        december.contains(&"o-compressor".to_string()),
        "{december:?}"
    );
    // bounds are inclusive
    assert!(ids(&index, &on(day(2026, 11, 30))).contains(&"o-forklift".to_string()));
}

#[test]
fn radius_filter_and_distance_sort() {
    let index = park();
    let near_north = |radius_km: Option<f64>, sort: Option<SortOrder>| SearchRequest {
        near: Some(GeoFilter {
            lat: NORTH.0,
            lon: NORTH.1,
            radius_km,
        }),
        sort,
        ..text("")
    };
    let results = index.search(&near_north(Some(5.0), None)).expect("search");
    assert!(!results.hits.is_empty());
    for hit in &results.hits {
        let d = hit.distance_km.expect("distance");
        assert!(d <= 5.0, "{hit:?}");
    }
    let all_north = listings()
        .iter()
        .filter(|d| d.status == "open" && d.lat == Some(NORTH.0))
        .count() as u64;
    assert_eq!(results.total, all_north);
    // east is ~20 km away: inside 30 km, outside 15 km
    let wide = ids(&index, &near_north(Some(30.0), None));
    assert!(wide.contains(&"o-plant".to_string()), "{wide:?}");
    let narrow = ids(&index, &near_north(Some(15.0), None));
    assert!(!narrow.contains(&"o-plant".to_string()), "{narrow:?}");
    // nearest first, listings without coordinates last
    let sorted = index
        .search(&near_north(None, Some(SortOrder::Distance)))
        .expect("search");
    let distances: Vec<f64> = sorted
        .hits
        .iter()
        .map(|h| h.distance_km.unwrap_or(f64::INFINITY))
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert_eq!(sorted.hits.last().map(|h| h.id.as_str()), Some("o-pallet"));
    let bad = SearchRequest {
        near: Some(GeoFilter {
            lat: f64::NAN,
            lon: EAST.1,
            radius_km: Some(1.0),
        }),
        ..text("")
    };
    assert!(index.search(&bad).is_err());
}

#[test]
fn empty_query_lists_everything_newest_first_with_facets() {
    let index = park();
    let results = index.search(&text("")).expect("search");
    assert_eq!(results.total, open_count());
    // fixtures are created an hour apart in file order: the last one is the newest
    assert_eq!(
        results.hits.first().map(|h| h.id.as_str()),
        Some("o-stacker")
    );
    assert_eq!(
        results.hits.last().map(|h| h.id.as_str()),
        Some("o-forklift")
    );
    let kinds: u64 = results.facets.kind.iter().map(|f| f.count).sum();
    assert_eq!(kinds, results.total);
    let equipment = results.facets.kind.iter().find(|f| f.value == "equipment");
    assert_eq!(equipment.map(|f| f.count), Some(8));
    assert_eq!(
        results.facets.kind.first().map(|f| f.value.as_str()),
        Some("equipment")
    );
    let communities: u64 = results.facets.community.iter().map(|f| f.count).sum();
    assert_eq!(communities, results.total);
    assert_eq!(results.facets.community.len(), 3);
}

#[test]
fn paging_and_limits() {
    let index = park();
    let page = |offset: usize, limit: usize| SearchRequest {
        offset,
        limit,
        ..SearchRequest::default()
    };
    let all = ids(&index, &page(0, 100));
    let first = ids(&index, &page(0, 5));
    let second = ids(&index, &page(5, 5));
    assert_eq!(first, all[..5]);
    assert_eq!(second, all[5..10]);
    let counted = index.search(&page(0, 0)).expect("search");
    assert!(counted.hits.is_empty());
    assert_eq!(counted.total, open_count());
    let capped = index.search(&page(0, 10_000)).expect("search");
    assert!(capped.hits.len() <= MAX_LIMIT);
    assert!(
        index
            .search(&page(usize::MAX, 10))
            .expect("search")
            .hits
            .is_empty()
    );
}

#[test]
fn snippets_highlight_chinese_words() {
    let index = park();
    let results = index.search(&text("冷库")).expect("search");
    let hit = results
        .hits
        .iter()
        .find(|h| h.id == "o-coldstore")
        .expect("cold store found");
    assert!(hit.snippets.title.contains("<em>冷库</em>"), "{hit:?}");
    // 低温冷库 is a dictionary word (a synonym of 冷库): highlighted whole
    assert!(
        hit.snippets.description.starts_with("<em>低温冷库</em>"),
        "{hit:?}"
    );
    // everything else is escaped text of the listing
    assert!(
        hit.snippets.description.contains("&lt;24小时&gt;"),
        "{hit:?}"
    );
    let plain = hit.snippets.title.replace("<em>", "").replace("</em>", "");
    assert_eq!(plain, "-25℃冷库出租");
    // a synonym is highlighted where it stands in the text
    let results = index.search(&offers("铲车")).expect("search");
    let hit = results
        .hits
        .iter()
        .find(|h| h.id == "o-forklift")
        .expect("forklift");
    assert!(hit.snippets.title.contains("<em>叉车</em>"), "{hit:?}");
    // full-width input highlights the half-width text
    let results = index.search(&text("ＰＣＲ仪")).expect("search");
    let hit = results.hits.iter().find(|h| h.id == "o-pcr").expect("pcr");
    assert!(hit.snippets.title.contains("<em>"), "{hit:?}");
    // no text: plain, escaped snippets
    let results = index.search(&text("")).expect("search");
    assert!(
        results
            .hits
            .iter()
            .all(|h| !h.snippets.title.contains("<em>"))
    );
}

#[test]
fn absurd_queries_do_not_fail() {
    let index = park();
    let long = "叉车出租标准厂房😀,.;".repeat(1_000);
    for q in [
        long.as_str(),
        "，。！？；：“”",
        "😀🚜🏭",
        "\"",
        "\"\"",
        "\"未闭合",
        "<script>alert(1)</script>",
        "AND OR NOT ( ) [ ] { } ~ ^ : * ?",
        "\u{0}\u{200b}\t\n",
        "a",
    ] {
        let result = index.search(&text(q));
        assert!(result.is_ok(), "{q:?}: {result:?}");
    }
    // only punctuation or emoji: treated as no text
    let results = index.search(&text("😀，。")).expect("search");
    assert_eq!(results.total, open_count());
    assert!(!ids(&index, &text(&long)).is_empty());
}

#[test]
fn unverified_firms_are_seen_only_by_their_own_firm_and_their_staff() {
    let index = park();
    let mut d = listings()
        .into_iter()
        .find(|d| d.id == "o-forklift")
        .expect("fixture");
    d.id = "o-unverified".into();
    d.firm = "f-new".into();
    d.verified = false;
    index.upsert(&d).expect("upsert");
    index.commit(2).expect("commit");
    let as_rule = |rule: VisibilityRule| SearchRequest {
        visible_to: Some(rule),
        ..text("叉车出租")
    };
    let other = ids(&index, &as_rule(VisibilityRule::default()));
    assert!(!other.contains(&"o-unverified".to_string()), "{other:?}");
    assert!(other.contains(&"o-forklift".to_string()), "{other:?}");
    let own = ids(
        &index,
        &as_rule(VisibilityRule {
            own_firm: Some("f-new".into()),
            ..VisibilityRule::default()
        }),
    );
    assert!(own.contains(&"o-unverified".to_string()), "{own:?}");
    let staff = ids(
        &index,
        &as_rule(VisibilityRule {
            full_communities: vec![d.community.clone()],
            ..VisibilityRule::default()
        }),
    );
    assert!(staff.contains(&"o-unverified".to_string()), "{staff:?}");
    let other_staff = ids(
        &index,
        &as_rule(VisibilityRule {
            full_communities: vec!["c-elsewhere".into()],
            ..VisibilityRule::default()
        }),
    );
    assert!(!other_staff.contains(&"o-unverified".to_string()));
}

#[test]
fn expired_listings_drop_out_when_active_at_is_given() {
    let index = park();
    let mut d = listings()
        .into_iter()
        .find(|d| d.id == "o-forklift")
        .expect("fixture");
    d.expires_at = Some(day(2026, 11, 10));
    index.upsert(&d).expect("upsert");
    index.commit(2).expect("commit");
    let before = SearchRequest {
        active_at: Some(day(2026, 11, 9)),
        ..text("叉车出租")
    };
    assert!(ids(&index, &before).contains(&"o-forklift".to_string()));
    let after = SearchRequest {
        active_at: Some(day(2026, 11, 10)),
        ..text("叉车出租")
    };
    assert!(!ids(&index, &after).contains(&"o-forklift".to_string()));
    // Without the filter, expiry is not applied.
    assert!(ids(&index, &text("叉车出租")).contains(&"o-forklift".to_string()));
}

/// A park large enough for 出租 to be a common word (in far more than 2% of its listings and
/// more than 2,000 of them): a query that also names something rare finds only listings with
/// the rare word, ranked by both; a query of common words alone still finds them all.
#[test]
fn common_words_only_add_to_the_score_of_rarer_matches() {
    use zhiqilian_search_index::{ListingDoc, ListingIndex};
    let index = ListingIndex::create_in_ram(crate::fixtures::vocab()).expect("index");
    let listing = |id: String, title: String| ListingDoc {
        id,
        side: "offer".into(),
        kind: "space".into(),
        status: "open".into(),
        community: "c1".into(),
        urgency: "normal".into(),
        visibility: "public".into(),
        firm: "f1".into(),
        title,
        verified: true,
        created_at: 1,
        ..ListingDoc::default()
    };
    let filler: u64 = 2_400;
    for i in 0..filler {
        index
            .upsert(&listing(
                format!("space-{i}"),
                format!("标准厂房出租 {i}号楼"),
            ))
            .expect("upsert");
    }
    index
        .upsert(&listing("forklift-rent".into(), "合力叉车出租".into()))
        .expect("upsert");
    index
        .upsert(&listing("forklift-sale".into(), "合力叉车转让".into()))
        .expect("upsert");
    index.commit(1).expect("commit");

    let results = index.search(&text("叉车出租")).expect("search");
    let found: Vec<&str> = results.hits.iter().map(|h| h.id.as_str()).collect();
    assert_eq!(found, vec!["forklift-rent", "forklift-sale"]);
    assert_eq!(results.total, 2);

    let all = index.search(&text("厂房出租")).expect("search");
    assert_eq!(all.total, filler + 1, "common words alone still match");
}

/// Listing pages without text read their sort key a block of documents at a time and merge
/// the best of every segment: across several segments, pages must still come out in exact
/// order, without gaps or repeats, with totals and facets over everything.
#[test]
fn pages_without_text_are_exact_across_segments() {
    use zhiqilian_search_index::{ListingDoc, ListingIndex};
    let index = ListingIndex::create_in_ram(crate::fixtures::vocab()).expect("index");
    let mut state: u64 = 7;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        (state >> 33) as i64
    };
    let mut expected = Vec::new();
    for batch in 0..5 {
        for i in 0..40 {
            let id = format!("l-{batch}-{i}");
            let created_at = next() % 50; // many ties
            let (lat, lon) = (
                29.8 + (next() % 1000) as f64 / 5000.0,
                121.5 + (next() % 1000) as f64 / 5000.0,
            );
            let located = i % 7 != 0;
            index
                .upsert(&ListingDoc {
                    id: id.clone(),
                    side: "offer".into(),
                    kind: ["space", "equipment", "material"][i % 3].into(),
                    status: "open".into(),
                    community: format!("c{}", i % 4),
                    urgency: "normal".into(),
                    visibility: "public".into(),
                    firm: "f1".into(),
                    title: "闲置设备".into(),
                    verified: true,
                    created_at,
                    lat: located.then_some(lat),
                    lon: located.then_some(lon),
                    ..ListingDoc::default()
                })
                .expect("upsert");
            expected.push((id, created_at, located.then_some((lat, lon))));
        }
        index.commit(batch + 1).expect("commit");
    }

    let mut paged = Vec::new();
    for page in 0..10 {
        let results = index
            .search(&SearchRequest {
                offset: page * 25,
                limit: 25,
                ..SearchRequest::default()
            })
            .expect("search");
        assert_eq!(results.total, 200);
        assert_eq!(
            results.facets.kind.iter().map(|f| f.count).sum::<u64>(),
            200
        );
        assert_eq!(
            results
                .facets
                .community
                .iter()
                .map(|f| f.count)
                .sum::<u64>(),
            200
        );
        paged.extend(results.hits.into_iter().map(|h| h.id));
    }
    assert_eq!(paged.len(), 200);
    let created: std::collections::HashMap<&str, i64> = expected
        .iter()
        .map(|(id, at, _)| (id.as_str(), *at))
        .collect();
    assert!(
        paged
            .windows(2)
            .all(|w| created[w[0].as_str()] >= created[w[1].as_str()]),
        "newest first"
    );
    let unique: std::collections::HashSet<&String> = paged.iter().collect();
    assert_eq!(unique.len(), 200, "no repeats across pages");

    let centre = (29.9, 121.6);
    let nearest = index
        .search(&SearchRequest {
            near: Some(GeoFilter {
                lat: centre.0,
                lon: centre.1,
                radius_km: None,
            }),
            sort: Some(SortOrder::Distance),
            limit: 100,
            ..SearchRequest::default()
        })
        .expect("search");
    assert_eq!(nearest.total, 200);
    let distances: Vec<f64> = nearest
        .hits
        .iter()
        .map(|h| h.distance_km.expect("the nearest 100 all have a location"))
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    let mut all: Vec<f64> = expected
        .iter()
        .filter_map(|(_, _, p)| *p)
        .map(|(lat, lon)| zhiqilian_search_index::haversine_km(centre.0, centre.1, lat, lon))
        .collect();
    all.sort_by(f64::total_cmp);
    assert!(
        (distances[99] - all[99]).abs() < 1e-9,
        "the 100 nearest, not just 100 in order"
    );
}

#[test]
fn totals_are_exact_up_to_the_cap_and_facets_only_when_asked() {
    use zhiqilian_search_index::{ListingDoc, ListingIndex};
    let index = ListingIndex::create_in_ram(crate::fixtures::vocab()).expect("index");
    // 60 listings over three segments (one deleted): all say 叉车, every third 柴油叉车.
    for batch in 0..3 {
        for i in 0..20 {
            let n = batch * 20 + i;
            index
                .upsert(&ListingDoc {
                    id: format!("l-{n}"),
                    side: "offer".into(),
                    kind: ["equipment", "logistics"][n % 2].into(),
                    status: "open".into(),
                    community: format!("c{}", n % 3),
                    urgency: "normal".into(),
                    visibility: "public".into(),
                    firm: "f1".into(),
                    title: if n % 3 == 0 {
                        format!("柴油叉车出租 {n}号")
                    } else {
                        format!("叉车出租 {n}号")
                    },
                    verified: true,
                    created_at: n as i64,
                    ..ListingDoc::default()
                })
                .expect("upsert");
        }
        index.commit(batch as i64 + 1).expect("commit");
    }
    index.delete("l-7").expect("delete");
    index.commit(4).expect("commit");

    let exact = |q: &str| SearchRequest {
        limit: 10,
        ..text(q)
    };
    let capped = |q: &str, cap: u64| SearchRequest {
        total_cap: Some(cap),
        facets: false,
        ..exact(q)
    };
    for q in ["叉车", "柴油叉车", ""] {
        let full = index.search(&exact(q)).expect("search");
        assert!(full.total_is_exact);
        assert_eq!(
            full.facets.kind.iter().map(|f| f.count).sum::<u64>(),
            full.total,
            "{q:?}"
        );
        for cap in [0, 5, full.total - 1, full.total, full.total + 1, 1_000] {
            let c = index.search(&capped(q, cap)).expect("search");
            // The page is the same whatever is counted.
            assert_eq!(c.hits, full.hits, "{q:?} cap {cap}");
            assert!(c.facets.kind.is_empty() && c.facets.community.is_empty());
            if cap >= full.total {
                assert_eq!(
                    (c.total, c.total_is_exact),
                    (full.total, true),
                    "{q:?} cap {cap}"
                );
            } else if q.is_empty() {
                // Pages without text visit every match anyway: always exact.
                assert_eq!(
                    (c.total, c.total_is_exact),
                    (full.total, true),
                    "{q:?} cap {cap}"
                );
            } else {
                assert_eq!((c.total, c.total_is_exact), (cap, false), "{q:?} cap {cap}");
            }
        }
    }
    assert_eq!(index.search(&exact("叉车")).expect("search").total, 59);
    // Other orders than relevance visit every match for their sort key: exact.
    let newest = index
        .search(&SearchRequest {
            sort: Some(SortOrder::Newest),
            ..capped("叉车", 5)
        })
        .expect("search");
    assert_eq!((newest.total, newest.total_is_exact), (59, true));
    assert_eq!(newest.hits.first().map(|h| h.id.as_str()), Some("l-59"));
    assert!(index.search(&exact("柴油叉车")).expect("search").total >= 20);

    // Facets asked for count everything, whatever the cap.
    let faceted = index
        .search(&SearchRequest {
            total_cap: Some(3),
            ..exact("叉车")
        })
        .expect("search");
    assert_eq!((faceted.total, faceted.total_is_exact), (59, true));
    assert_eq!(faceted.facets.community.len(), 3);
    // Counting only to a cap with limit 0.
    let counted = index
        .search(&SearchRequest {
            limit: 0,
            ..capped("叉车", 10)
        })
        .expect("search");
    assert!(counted.hits.is_empty());
    assert_eq!((counted.total, counted.total_is_exact), (10, false));
    // Without counting, the total is the page and says so.
    let uncounted = index
        .search(&SearchRequest {
            count: false,
            ..exact("叉车")
        })
        .expect("search");
    assert_eq!((uncounted.total, uncounted.total_is_exact), (10, false));
}
