//! Subscribe-message templates (订阅消息): the alert topics, the operator's
//! template for each (`wechat_template_<topic>`) and how a notification
//! fills a template's fields within WeChat's limits. A leaf: configuration
//! parses these, the use cases and the sending task read them.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDateTime;

/// The alerts a user can receive outside the app, with the notification
/// type each is made from and what the app calls it.
pub const TOPICS: [(&str, &str, &str); 4] = [
    ("match", "match.suggested", "新的匹配"),
    ("message", "message", "新消息"),
    ("brokered", "brokered", "社区牵线"),
    ("case", "case.progress", "求助进展"),
];

/// The topic a notification type is sent under, if any.
pub fn topic_of(notification_type: &str) -> Option<&'static str> {
    TOPICS
        .iter()
        .find(|(_, kind, _)| *kind == notification_type)
        .map(|(topic, _, _)| *topic)
}

/// What a template field is filled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The notification's title ("新消息", "社区为您牵线" …).
    Title,
    /// Its text (the listing's title, the message count …).
    Body,
    /// When it happened, Beijing time.
    Time,
    /// The service's name.
    App,
}

impl Source {
    fn parse(s: &str) -> Option<Source> {
        Some(match s {
            "title" => Source::Title,
            "body" => Source::Body,
            "time" => Source::Time,
            "app" => Source::App,
            _ => return None,
        })
    }
}

/// An operator's template: WeChat's template id and which of our values
/// fills each of its fields (`thing1`, `time2`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub id: String,
    pub fields: Vec<(String, Source)>,
}

impl Template {
    /// Parses `"<template id>|thing1=title,thing2=body,time3=time"`.
    pub fn parse(text: &str) -> Result<Template, String> {
        let (id, fields) = text
            .split_once('|')
            .ok_or("expected \"<template id>|field=value,…\"")?;
        let id = id.trim();
        if id.is_empty()
            || id.len() > 128
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!("template id {id:?} is not a WeChat template id"));
        }
        let mut out = Vec::new();
        for pair in fields.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("{pair:?}: expected field=value"))?;
            let key = key.trim();
            let name = key.trim_end_matches(|c: char| c.is_ascii_digit());
            if name.is_empty()
                || name.len() == key.len()
                || !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            {
                return Err(format!("{key:?} is not a template field such as thing1"));
            }
            let source = Source::parse(value.trim())
                .ok_or_else(|| format!("{value:?}: expected one of title, body, time, app"))?;
            if out.iter().any(|(k, _)| k == key) {
                return Err(format!("field {key} is given twice"));
            }
            out.push((key.to_string(), source));
        }
        if out.is_empty() {
            return Err("no fields".into());
        }
        Ok(Template {
            id: id.to_string(),
            fields: out,
        })
    }

    /// The `data` of `subscribeMessage.send`, each value cut to what its
    /// field type takes (`thing` 20 characters, `name` 10, `phrase` 5,
    /// `character_string` 32).
    pub fn render(&self, title: &str, body: &str, at: NaiveDateTime) -> serde_json::Value {
        let local = beijing(at);
        let mut data = serde_json::Map::new();
        for (key, source) in &self.fields {
            let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
            let value = match (source, kind) {
                (Source::Time, "date") => local.format("%Y年%m月%d日").to_string(),
                (Source::Time, _) => local.format("%Y年%m月%d日 %H:%M").to_string(),
                (Source::Title, _) => fit(kind, title),
                (Source::Body, _) => fit(kind, body),
                (Source::App, _) => fit(kind, "智企连"),
            };
            data.insert(key.clone(), serde_json::json!({ "value": value }));
        }
        serde_json::Value::Object(data)
    }
}

/// Beijing time, as the template's time fields show it.
pub fn beijing(t: NaiveDateTime) -> chrono::DateTime<chrono::FixedOffset> {
    let cst = chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| unreachable!("eight hours is a valid offset"));
    t.and_utc().with_timezone(&cst)
}

/// `text` cut to the length WeChat takes for a field type.
fn fit(kind: &str, text: &str) -> String {
    let max = match kind {
        "name" => 10,
        "phrase" => 5,
        "character_string" | "number" | "letter" | "symbol" => 32,
        _ => 20,
    };
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

/// The configured templates by topic.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Templates(BTreeMap<&'static str, Template>);

impl Templates {
    pub fn insert(&mut self, topic: &'static str, t: Template) {
        self.0.insert(topic, t);
    }

    pub fn get(&self, topic: &str) -> Option<&Template> {
        self.0.get(topic)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn topic_of_template(&self, id: &str) -> Option<&'static str> {
        self.0.iter().find(|(_, t)| t.id == id).map(|(k, _)| *k)
    }
}

impl fmt::Display for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.keys().copied().collect();
        write!(f, "{}", names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_and_render_within_wechat_limits() {
        let t = Template::parse("AbC-12_x|thing1=body, phrase2=title,time3=time,date4=time")
            .expect("parses");
        assert_eq!(t.id, "AbC-12_x");
        let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 5)
            .and_then(|d| d.and_hms_opt(16, 30, 0))
            .expect("date");
        let data = t.render(
            "社区为您牵线了",
            "求购冷轧钢板二十吨，本周内送达北仑大港工业社区",
            at,
        );
        assert_eq!(
            data["thing1"]["value"],
            "求购冷轧钢板二十吨，本周内送达北仑大港…"
        );
        assert_eq!(
            data["thing1"]["value"].as_str().map(|s| s.chars().count()),
            Some(20)
        );
        assert_eq!(data["phrase2"]["value"], "社区为您…");
        assert_eq!(
            data["time3"]["value"], "2026年12月06日 00:30",
            "Beijing time"
        );
        assert_eq!(data["date4"]["value"], "2026年12月06日");
    }

    #[test]
    fn bad_templates_are_refused_with_the_reason() {
        for bad in [
            "no-bar",
            "|thing1=title",
            "id with space|thing1=title",
            "id|thing=title",
            "id|1=title",
            "id|thing1=who",
            "id|thing1=title,thing1=body",
            "id|",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_topic_has_its_notification_type() {
        assert_eq!(topic_of("message"), Some("message"));
        assert_eq!(topic_of("match.suggested"), Some("match"));
        assert_eq!(topic_of("case.progress"), Some("case"));
        assert_eq!(topic_of("quote.created"), None);
    }
}
