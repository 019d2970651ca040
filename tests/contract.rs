//! The contract: `openapi.yaml` documents exactly the routes the service
//! registers, so the spec and the code cannot drift apart.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

const SPEC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi.yaml");

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[derive(Deserialize)]
struct Spec {
    openapi: String,
    paths: BTreeMap<String, BTreeMap<String, yaml_serde::Value>>,
}

#[test]
fn openapi_documents_exactly_the_registered_routes() {
    let text = std::fs::read_to_string(SPEC).unwrap_or_else(|e| {
        panic!(
            "the OpenAPI contract {SPEC} cannot be read ({e}); it must exist and list every route"
        )
    });
    let spec: Spec =
        yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("{SPEC} is not valid YAML: {e}"));
    assert!(
        spec.openapi.starts_with("3."),
        "{SPEC}: openapi version {:?}, expected 3.x",
        spec.openapi
    );

    let documented: BTreeSet<(String, String)> = spec
        .paths
        .iter()
        .flat_map(|(path, item)| {
            item.keys()
                .filter(|k| METHODS.contains(&k.as_str()))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = zhiqilian::http::routes::ROUTES
        .iter()
        .map(|(m, p)| (m.to_lowercase(), p.to_string()))
        .collect();
    assert_eq!(
        served.len(),
        zhiqilian::http::routes::ROUTES.len(),
        "ROUTES lists a route twice"
    );

    let undocumented: Vec<String> = served
        .difference(&documented)
        .map(|(m, p)| format!("  {} {p}", m.to_uppercase()))
        .collect();
    let unserved: Vec<String> = documented
        .difference(&served)
        .map(|(m, p)| format!("  {} {p}", m.to_uppercase()))
        .collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "openapi.yaml and zhiqilian::http::routes::ROUTES disagree\n\
         served but not in openapi.yaml:\n{}\n\
         in openapi.yaml but not served:\n{}",
        if undocumented.is_empty() {
            "  (none)".to_string()
        } else {
            undocumented.join("\n")
        },
        if unserved.is_empty() {
            "  (none)".to_string()
        } else {
            unserved.join("\n")
        },
    );
}

/// Each operation's `x-client-scope` is what the route table enforces on
/// API clients, so integrators read the truth.
#[test]
fn openapi_names_the_scope_each_route_enforces() {
    let text = std::fs::read_to_string(SPEC).expect("openapi.yaml");
    let spec: Spec = yaml_serde::from_str(&text).expect("openapi.yaml is YAML");
    let mut wrong = Vec::new();
    for (method, path, access) in zhiqilian::http::routes::ROUTE_ACCESS {
        let documented = spec
            .paths
            .get(*path)
            .and_then(|item| item.get(&method.to_lowercase()))
            .and_then(|op| op.get("x-client-scope"))
            .and_then(|v| v.as_str())
            .map(str::to_string);
        if documented.as_deref() != Some(access.spec_name()) {
            wrong.push(format!(
                "  {} {path}: x-client-scope {documented:?}, enforced {:?}",
                method.to_uppercase(),
                access.spec_name()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "x-client-scope disagrees:\n{}",
        wrong.join("\n")
    );
}

/// The spec offers `Idempotency-Key` exactly where it is honoured, and
/// `If-None-Match` on every read that answers an ETag.
#[test]
fn openapi_documents_idempotency_keys_and_etags() {
    let text = std::fs::read_to_string(SPEC).expect("openapi.yaml");
    let spec: Spec = yaml_serde::from_str(&text).expect("openapi.yaml is YAML");
    let has_param = |path: &str, method: &str, param: &str| -> bool {
        spec.paths
            .get(path)
            .and_then(|item| item.get(method))
            .and_then(|op| op.get("parameters"))
            .and_then(|p| p.as_sequence())
            .is_some_and(|ps| {
                ps.iter().any(|p| {
                    p.get("$ref")
                        .and_then(|r| r.as_str())
                        .is_some_and(|r| r.ends_with(param))
                })
            })
    };
    for (method, path) in zhiqilian::http::routes::ROUTES {
        let method = method.to_lowercase();
        let creating = method == "post" && zhiqilian::http::protect::CREATING_ROUTES.contains(path);
        assert_eq!(
            has_param(path, &method, "/IdempotencyKey"),
            creating,
            "{method} {path}: Idempotency-Key documented iff honoured"
        );
        let tagged = method == "get" && zhiqilian::http::protect::ETAG_ROUTES.contains(path);
        assert_eq!(
            has_param(path, &method, "/IfNoneMatch"),
            tagged,
            "{method} {path}: If-None-Match documented iff honoured"
        );
    }
}

/// docs/OPERATIONS.md documents every configuration key the binary reads,
/// and no key it does not.
#[test]
fn operations_guide_documents_every_configuration_key() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/OPERATIONS.md");
    let text = std::fs::read_to_string(path).expect("docs/OPERATIONS.md");
    let section = text
        .split("## Configuration")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("a Configuration section");
    let documented: BTreeSet<String> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let read: BTreeSet<String> = zhiqilian::config::KEYS
        .iter()
        .map(|k| k.to_string())
        .collect();
    let missing: Vec<&String> = read.difference(&documented).collect();
    let stale: Vec<&String> = documented.difference(&read).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "configuration keys not documented in docs/OPERATIONS.md: {missing:?}; documented but not read: {stale:?}"
    );
}
