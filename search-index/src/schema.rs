//! The index schema and [`ListingDoc`], the flat document the service feeds the index.

use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, NumericOptions, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions,
};

use crate::error::IndexError;
use crate::tokenizer::{CHAR_TOKENIZER, WORD_TOKENIZER};

/// Bump whenever the schema, a tokenizer or what a field holds changes: an index written with
/// another version is reported as needing a rebuild.
pub const SCHEMA_VERSION: u32 = 2;

/// Field names, also the fast-field names used by collectors and sort keys.
pub(crate) mod names {
    pub const ID: &str = "id";
    pub const TITLE: &str = "title";
    pub const DESCRIPTION: &str = "description";
    pub const ATTRIBUTES_TEXT: &str = "attributes_text";
    pub const FIRM_NAME: &str = "firm_name";
    pub const ALL_CHARS: &str = "all_chars";
    pub const SIDE: &str = "side";
    pub const KIND: &str = "kind";
    pub const STATUS: &str = "status";
    pub const COMMUNITY: &str = "community";
    pub const URGENCY: &str = "urgency";
    pub const VISIBILITY: &str = "visibility";
    pub const FIRM: &str = "firm";
    pub const QUANTITY_NORM: &str = "quantity_norm";
    pub const PRICE: &str = "price";
    pub const AVAILABLE_FROM: &str = "available_from";
    pub const AVAILABLE_UNTIL: &str = "available_until";
    pub const CREATED_AT: &str = "created_at";
    pub const EXPIRES_AT: &str = "expires_at";
    pub const LAT: &str = "lat";
    pub const LON: &str = "lon";
    /// The location as a point on the unit sphere (see [`super::unit_vector`]).
    pub const GEO_X: &str = "geo_x";
    pub const GEO_Y: &str = "geo_y";
    pub const GEO_Z: &str = "geo_z";
    pub const VERIFIED: &str = "verified";
}

/// The schema of [`SCHEMA_VERSION`].
pub fn build_schema() -> Schema {
    let mut b = Schema::builder();
    b.add_text_field(names::ID, STRING | STORED | tantivy::schema::FAST);
    let words = |stored: bool| {
        let options = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(WORD_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    // Only what a hit shows is stored; the database has the rest.
    b.add_text_field(names::TITLE, words(true));
    b.add_text_field(names::DESCRIPTION, words(true));
    b.add_text_field(names::ATTRIBUTES_TEXT, words(false));
    b.add_text_field(names::FIRM_NAME, words(false));
    b.add_text_field(
        names::ALL_CHARS,
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(CHAR_TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        ),
    );
    for name in [
        names::SIDE,
        names::KIND,
        names::STATUS,
        names::COMMUNITY,
        names::URGENCY,
        names::VISIBILITY,
        names::FIRM,
    ] {
        b.add_text_field(name, STRING | tantivy::schema::FAST);
    }
    let numeric = || NumericOptions::default().set_indexed().set_fast();
    b.add_f64_field(names::QUANTITY_NORM, numeric());
    b.add_f64_field(names::PRICE, numeric());
    b.add_i64_field(names::AVAILABLE_FROM, numeric());
    b.add_i64_field(names::AVAILABLE_UNTIL, numeric());
    b.add_i64_field(names::CREATED_AT, numeric());
    b.add_i64_field(names::EXPIRES_AT, numeric());
    b.add_f64_field(names::LAT, numeric().set_stored());
    b.add_f64_field(names::LON, numeric().set_stored());
    // Every document has these (a far-away stand-in without a location), so reading them is a
    // plain column lookup.
    for name in [names::GEO_X, names::GEO_Y, names::GEO_Z] {
        b.add_f64_field(name, NumericOptions::default().set_fast());
    }
    b.add_bool_field(names::VERIFIED, INDEXED | tantivy::schema::FAST);
    b.build()
}

/// Field handles resolved once per index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub id: Field,
    pub title: Field,
    pub description: Field,
    pub attributes_text: Field,
    pub firm_name: Field,
    pub all_chars: Field,
    pub side: Field,
    pub kind: Field,
    pub status: Field,
    pub community: Field,
    pub urgency: Field,
    pub visibility: Field,
    pub firm: Field,
    pub quantity_norm: Field,
    pub price: Field,
    pub available_from: Field,
    pub available_until: Field,
    pub created_at: Field,
    pub expires_at: Field,
    pub lat: Field,
    pub lon: Field,
    pub geo_x: Field,
    pub geo_y: Field,
    pub geo_z: Field,
    pub verified: Field,
}

impl Fields {
    pub fn resolve(schema: &Schema) -> tantivy::Result<Fields> {
        Ok(Fields {
            id: schema.get_field(names::ID)?,
            title: schema.get_field(names::TITLE)?,
            description: schema.get_field(names::DESCRIPTION)?,
            attributes_text: schema.get_field(names::ATTRIBUTES_TEXT)?,
            firm_name: schema.get_field(names::FIRM_NAME)?,
            all_chars: schema.get_field(names::ALL_CHARS)?,
            side: schema.get_field(names::SIDE)?,
            kind: schema.get_field(names::KIND)?,
            status: schema.get_field(names::STATUS)?,
            community: schema.get_field(names::COMMUNITY)?,
            urgency: schema.get_field(names::URGENCY)?,
            visibility: schema.get_field(names::VISIBILITY)?,
            firm: schema.get_field(names::FIRM)?,
            quantity_norm: schema.get_field(names::QUANTITY_NORM)?,
            price: schema.get_field(names::PRICE)?,
            available_from: schema.get_field(names::AVAILABLE_FROM)?,
            available_until: schema.get_field(names::AVAILABLE_UNTIL)?,
            created_at: schema.get_field(names::CREATED_AT)?,
            expires_at: schema.get_field(names::EXPIRES_AT)?,
            lat: schema.get_field(names::LAT)?,
            lon: schema.get_field(names::LON)?,
            geo_x: schema.get_field(names::GEO_X)?,
            geo_y: schema.get_field(names::GEO_Y)?,
            geo_z: schema.get_field(names::GEO_Z)?,
            verified: schema.get_field(names::VERIFIED)?,
        })
    }
}

/// A listing as the index sees it: flat, already validated by the service.
///
/// Enumerations are plain strings (`side`: offer|request; `kind`: space|equipment|material|
/// logistics|workforce|service; `urgency`: normal|urgent|emergency; `visibility`:
/// public|community; `status`: open|closed); they are trimmed and lower-cased on the way in.
/// `community` and `firm` are opaque ids, kept as given. Times are Unix seconds (UTC); a
/// window bound that is `None` is open-ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListingDoc {
    pub id: String,
    pub side: String,
    pub kind: String,
    pub status: String,
    pub community: String,
    pub urgency: String,
    pub visibility: String,
    pub firm: String,
    pub title: String,
    pub description: String,
    /// Attribute values flattened to text (see [`ListingDoc::attributes_text_from_json`]).
    pub attributes_text: String,
    pub firm_name: String,
    /// Quantity in the kind's base unit (m², t, units, …), as the matcher normalises it.
    pub quantity_norm: Option<f64>,
    /// Price or budget in the kind's base unit.
    pub price: Option<f64>,
    pub available_from: Option<i64>,
    pub available_until: Option<i64>,
    /// Only compared with other documents' (newest first), so any fine-grained
    /// unit serves; the service uses Unix milliseconds so that listings posted
    /// in the same second still sort in order.
    pub created_at: i64,
    /// When the listing stops being on offer; `None` never.
    pub expires_at: Option<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub verified: bool,
}

/// Stand-ins for open window bounds: range filters then need no "missing" special case.
pub(crate) const OPEN_START: i64 = i64::MIN;
pub(crate) const OPEN_END: i64 = i64::MAX;

/// Enumeration values compare trimmed and lower-case, on both the indexing and query side.
pub(crate) fn enum_value(value: &str) -> String {
    value.trim().to_lowercase()
}

impl ListingDoc {
    pub(crate) fn to_document(&self, f: &Fields) -> Result<TantivyDocument, IndexError> {
        let id = self.id.trim();
        if id.is_empty() {
            return Err(IndexError::InvalidDocument("empty id".into()));
        }
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, id);
        doc.add_text(f.title, &self.title);
        doc.add_text(f.description, &self.description);
        doc.add_text(f.attributes_text, &self.attributes_text);
        doc.add_text(f.firm_name, &self.firm_name);
        // Newlines are sentence breaks for the char tokenizer: a phrase cannot run from the
        // title into the description.
        doc.add_text(
            f.all_chars,
            format!(
                "{}\n{}\n{}",
                self.title, self.description, self.attributes_text
            ),
        );
        for (field, value) in [
            (f.side, &self.side),
            (f.kind, &self.kind),
            (f.status, &self.status),
            (f.urgency, &self.urgency),
            (f.visibility, &self.visibility),
        ] {
            let value = enum_value(value);
            if !value.is_empty() {
                doc.add_text(field, value);
            }
        }
        for (field, value) in [(f.community, &self.community), (f.firm, &self.firm)] {
            let value = value.trim();
            if !value.is_empty() {
                doc.add_text(field, value);
            }
        }
        for (field, value) in [(f.quantity_norm, self.quantity_norm), (f.price, self.price)] {
            if let Some(v) = value.filter(|v| v.is_finite()) {
                doc.add_f64(field, v);
            }
        }
        doc.add_i64(f.available_from, self.available_from.unwrap_or(OPEN_START));
        doc.add_i64(f.available_until, self.available_until.unwrap_or(OPEN_END));
        doc.add_i64(f.created_at, self.created_at);
        doc.add_i64(f.expires_at, self.expires_at.unwrap_or(OPEN_END));
        let mut point = NO_POINT;
        if let (Some(lat), Some(lon)) = (self.lat, self.lon)
            && valid_coordinates(lat, lon)
        {
            doc.add_f64(f.lat, lat);
            doc.add_f64(f.lon, lon);
            point = unit_vector(lat, lon);
        }
        for (field, value) in [f.geo_x, f.geo_y, f.geo_z].into_iter().zip(point) {
            doc.add_f64(field, value);
        }
        doc.add_bool(f.verified, self.verified);
        Ok(doc)
    }

    /// Flattens a listing's `attributes` object into searchable text: string and number values
    /// (list items too), one per line. Keys are English identifiers and would only add noise;
    /// booleans (cold_chain, hazmat) belong in filters, not in text.
    pub fn attributes_text_from_json(attributes: &serde_json::Value) -> String {
        fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
            match value {
                serde_json::Value::String(s) if !s.trim().is_empty() => out.push(s.trim().into()),
                serde_json::Value::Number(n) => out.push(n.to_string()),
                serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
                serde_json::Value::Object(map) => map.values().for_each(|v| walk(v, out)),
                _ => {}
            }
        }
        let mut parts = Vec::new();
        walk(attributes, &mut parts);
        parts.join("\n")
    }
}

/// A latitude/longitude as a point on the unit sphere. The straight-line (chord) distance
/// between two such points grows strictly with their great-circle distance, so distance
/// filters and sorts compare chords: exact, and no trigonometry per document.
pub(crate) fn unit_vector(lat: f64, lon: f64) -> [f64; 3] {
    let (phi, lambda) = (lat.to_radians(), lon.to_radians());
    [
        phi.cos() * lambda.cos(),
        phi.cos() * lambda.sin(),
        phi.sin(),
    ]
}

/// Where documents without a location sit: farther from every point of the unit sphere than
/// any two points of it are from each other (squared chord ≥ 243 > 4).
pub(crate) const NO_POINT: [f64; 3] = [10.0, 10.0, 10.0];

pub(crate) fn valid_coordinates(lat: f64, lon: f64) -> bool {
    lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_flatten_to_values() {
        let text = ListingDoc::attributes_text_from_json(&serde_json::json!({
            "equipment_type": "注塑机",
            "brand": "海天",
            "clamping_force_t": 250,
            "skills": ["二保焊", "氩弧焊"],
            "cold_chain": true,
            "grade": ""
        }));
        for part in ["注塑机", "海天", "250", "二保焊", "氩弧焊"] {
            assert!(
                text.lines().any(|l| l == part),
                "{part} missing from {text:?}"
            );
        }
        assert!(!text.contains("true"));
        assert!(!text.contains("equipment_type"));
    }

    #[test]
    fn empty_id_is_rejected() {
        let fields = Fields::resolve(&build_schema()).expect("fields");
        let doc = ListingDoc {
            id: "  ".into(),
            ..ListingDoc::default()
        };
        assert!(matches!(
            doc.to_document(&fields),
            Err(IndexError::InvalidDocument(_))
        ));
    }
}
