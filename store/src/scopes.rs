//! What an API client may do: OAuth scopes, and what each route demands of
//! a client's token (the route table in `routes/mod.rs` names it per route).

use std::fmt;

/// One permission an API client can be granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    ListingsRead,
    ListingsWrite,
    MatchesRead,
    MatchesWrite,
    ThreadsRead,
    ThreadsWrite,
    EventsRead,
    FirmsRead,
    WebhooksManage,
    QuotesRead,
    QuotesWrite,
    AgreementsRead,
    AgreementsWrite,
    AttachmentsRead,
    AttachmentsWrite,
}

impl Scope {
    pub const ALL: &'static [Scope] = &[
        Scope::ListingsRead,
        Scope::ListingsWrite,
        Scope::MatchesRead,
        Scope::MatchesWrite,
        Scope::ThreadsRead,
        Scope::ThreadsWrite,
        Scope::EventsRead,
        Scope::FirmsRead,
        Scope::WebhooksManage,
        Scope::QuotesRead,
        Scope::QuotesWrite,
        Scope::AgreementsRead,
        Scope::AgreementsWrite,
        Scope::AttachmentsRead,
        Scope::AttachmentsWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ListingsRead => "listings:read",
            Scope::ListingsWrite => "listings:write",
            Scope::MatchesRead => "matches:read",
            Scope::MatchesWrite => "matches:write",
            Scope::ThreadsRead => "threads:read",
            Scope::ThreadsWrite => "threads:write",
            Scope::EventsRead => "events:read",
            Scope::FirmsRead => "firms:read",
            Scope::WebhooksManage => "webhooks:manage",
            Scope::QuotesRead => "quotes:read",
            Scope::QuotesWrite => "quotes:write",
            Scope::AgreementsRead => "agreements:read",
            Scope::AgreementsWrite => "agreements:write",
            Scope::AttachmentsRead => "attachments:read",
            Scope::AttachmentsWrite => "attachments:write",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.iter().copied().find(|x| x.as_str() == s)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, written as OAuth writes them: space-separated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

impl Scopes {
    /// Parses a space-separated list; names the first unknown scope.
    pub fn parse(s: &str) -> Result<Scopes, String> {
        Scopes::from_names(s.split_whitespace())
    }

    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Scopes, String> {
        let mut v = Vec::new();
        for n in names {
            let s = Scope::parse(n).ok_or_else(|| format!("未知的权限范围：{n}"))?;
            v.push(s);
        }
        v.sort();
        v.dedup();
        Ok(Scopes(v))
    }

    pub fn contains(&self, s: Scope) -> bool {
        self.0.contains(&s)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn is_subset_of(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.contains(*s))
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|s| s.as_str()).collect()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(" "))
    }
}

/// What a route demands of an API client's token. Users' tokens are not
/// scoped: their roles decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAccess {
    /// Any token, or none (public routes and `/me`).
    Open,
    /// Users only: administration, sign-in sessions, client management.
    Users,
    /// A client needs this scope.
    Needs(Scope),
}

impl ClientAccess {
    /// How the OpenAPI contract spells it (`x-client-scope`).
    pub fn spec_name(self) -> &'static str {
        match self {
            ClientAccess::Open => "open",
            ClientAccess::Users => "users-only",
            ClientAccess::Needs(s) => s.as_str(),
        }
    }
}

impl Scopes {
    /// Whether a client with these scopes passes `access`.
    pub fn allow(&self, access: ClientAccess) -> bool {
        match access {
            ClientAccess::Open => true,
            ClientAccess::Users => false,
            ClientAccess::Needs(s) => self.contains(s),
        }
    }
}

/// What an API client needs to receive an event of the log (on its event
/// stream or through a webhook): the scope of the route that reads the same
/// data. Types not named here are for users only, so a new type reaches no
/// client until it is given its scope.
pub fn event_access(event_type: &str) -> ClientAccess {
    match event_type {
        "message.created" | "thread.created" | "thread.updated" | "thread.read" => {
            ClientAccess::Needs(Scope::ThreadsRead)
        }
        "match.created" | "match.status_changed" => ClientAccess::Needs(Scope::MatchesRead),
        "quote.created" | "quote.updated" => ClientAccess::Needs(Scope::QuotesRead),
        "agreement.proposed"
        | "agreement.confirmed"
        | "agreement.completed"
        | "agreement.cancelled"
        | "rating.published" => ClientAccess::Needs(Scope::AgreementsRead),
        "attachment.added" | "attachment.removed" => ClientAccess::Needs(Scope::AttachmentsRead),
        // Staff cases are about a request listing (its title, urgency and
        // status): what `listings:read` shows a community's client.
        "listing.created" | "listing.closed" | "case.opened" | "case.updated" => {
            ClientAccess::Needs(Scope::ListingsRead)
        }
        _ => ClientAccess::Users,
    }
}

/// Whether an event of the log is for users only whatever the client's
/// scopes, by what it is about: a firm's own attachments (its business
/// licence), whose routes no API client may call. Unreadable payloads of
/// attachment events are kept from clients too.
pub fn users_only_event(event_type: &str, payload: &str) -> bool {
    event_type.starts_with("attachment.")
        && serde_json::from_str::<serde_json::Value>(payload)
            .map_or(true, |p| p["parent_type"] == "firm")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_firms_own_attachments_are_for_users_only() {
        let on = |parent: &str| format!(r#"{{"parent_type": "{parent}", "id": "x"}}"#);
        assert!(users_only_event("attachment.added", &on("firm")));
        assert!(users_only_event("attachment.removed", &on("firm")));
        assert!(!users_only_event("attachment.added", &on("listing")));
        assert!(users_only_event("attachment.added", "not json"));
        assert!(!users_only_event("listing.created", &on("firm")));
    }

    #[test]
    fn parse_sorts_dedups_and_names_the_unknown() {
        let s = Scopes::parse("threads:read listings:read  threads:read").expect("parse");
        assert_eq!(s.to_string(), "listings:read threads:read");
        assert!(
            Scopes::parse("listings:read admin")
                .unwrap_err()
                .contains("admin")
        );
        assert!(Scopes::parse("").expect("empty").is_empty());
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(*s));
        }
    }

    #[test]
    fn events_need_the_scope_of_the_route_that_reads_them() {
        let listings = Scopes::parse("listings:read events:read").expect("parse");
        assert!(listings.allow(event_access("listing.created")));
        assert!(listings.allow(event_access("case.opened")));
        assert!(!listings.allow(event_access("message.created")));
        assert!(!listings.allow(event_access("match.created")));
        assert!(!listings.allow(event_access("notification")));
        assert!(!listings.allow(event_access("some.future_type")));
        let threads = Scopes::parse("threads:read").expect("parse");
        for t in [
            "message.created",
            "thread.created",
            "thread.updated",
            "thread.read",
        ] {
            assert!(threads.allow(event_access(t)), "{t}");
        }
    }
}
