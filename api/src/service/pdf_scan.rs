//! Active content in a PDF: scripts, launch actions, embedded files,
//! automatic actions, rich media and XFA forms. An uploaded PDF carrying
//! any of them is refused (a proof of delivery or a licence needs none).
//!
//! Actions and the rest live in objects (dictionaries), which are either
//! in the file's body or packed into object streams (`/Type/ObjStm`,
//! usually `FlateDecode`-compressed). The scan reads every name token
//! (`/JavaScript`, also written with `#xx` escapes such as
//! `/J#61vaScript`) outside stream data, in every stream dictionary, and
//! in every object stream, decompressed with a bound on the total output
//! so that a compression bomb costs nothing. The data of other streams
//! (page contents, images, fonts) is binary or drawing operators that
//! cannot hold an action, and is not read: random bytes there would
//! otherwise look like names. Object streams under filters other than
//! `FlateDecode` are scanned as they are, not decoded.

use std::io::Read;

/// The names whose presence refuses a PDF, with what they do.
const ACTIVE: &[(&str, &str)] = &[
    ("JavaScript", "脚本"),
    ("JS", "脚本"),
    ("Launch", "启动外部程序的动作"),
    ("EmbeddedFile", "嵌入文件"),
    ("EmbeddedFiles", "嵌入文件"),
    ("AA", "自动触发的动作"),
    ("RichMedia", "富媒体"),
    ("XFA", "XFA 表单"),
];

/// The most bytes all object streams of one file may inflate to, in total.
const MAX_INFLATED: u64 = 32 * 1024 * 1024;

/// What a scan found: the first active name and what it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    pub name: &'static str,
    pub what: &'static str,
}

/// The first active content in `pdf`, if any.
pub fn active_content(pdf: &[u8]) -> Option<Active> {
    let mut budget = MAX_INFLATED;
    let mut outside = 0;
    for s in streams(pdf) {
        if let Some(a) = names(&pdf[outside..s.data_from]) {
            return Some(a);
        }
        outside = s.data_to;
        let data = &pdf[s.data_from..s.data_to];
        if !s.object_stream {
            continue;
        }
        let found = if s.flate && budget > 0 {
            let mut out = Vec::new();
            let mut z = flate2::read::ZlibDecoder::new(data).take(budget);
            // A damaged stream is scanned as far as it inflates.
            let _ = z.read_to_end(&mut out);
            budget = budget.saturating_sub(out.len() as u64);
            names(&out)
        } else {
            names(data)
        };
        if found.is_some() {
            return found;
        }
    }
    names(&pdf[outside..])
}

fn is_delimiter(b: u8) -> bool {
    matches!(
        b,
        b'/' | b'[' | b']' | b'<' | b'>' | b'(' | b')' | b'{' | b'}' | b'%'
    ) || b.is_ascii_whitespace()
        || b == 0
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Every name token, `#xx` escapes decoded, checked against [`ACTIVE`].
fn names(bytes: &[u8]) -> Option<Active> {
    let mut i = 0;
    let mut name = Vec::with_capacity(32);
    while let Some(off) = memchr::memchr(b'/', &bytes[i..]) {
        i += off + 1;
        name.clear();
        while i < bytes.len() && !is_delimiter(bytes[i]) && name.len() <= 32 {
            if bytes[i] == b'#'
                && i + 2 < bytes.len()
                && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
            {
                name.push(h << 4 | l);
                i += 3;
            } else {
                name.push(bytes[i]);
                i += 1;
            }
        }
        if let Some((n, what)) = ACTIVE.iter().find(|(n, _)| n.as_bytes() == name) {
            return Some(Active { name: n, what });
        }
    }
    None
}

/// A stream of the file: where its data is, and what its dictionary says.
struct Stream {
    data_from: usize,
    data_to: usize,
    object_stream: bool,
    flate: bool,
}

/// Whether `dict` holds the name `/<name>` (not a longer one).
fn has_name(dict: &[u8], name: &[u8]) -> bool {
    let mut at = 0;
    while let Some(off) = memchr::memmem::find(&dict[at..], name) {
        let after = at + off + name.len();
        if dict.get(after).is_none_or(|b| is_delimiter(*b)) {
            return true;
        }
        at = after;
    }
    false
}

/// The streams of the file in order (`stream` … `endstream`).
fn streams(bytes: &[u8]) -> Vec<Stream> {
    let mut out = Vec::new();
    let stream = memchr::memmem::Finder::new(b"stream");
    let end = memchr::memmem::Finder::new(b"endstream");
    let mut at = 0;
    while let Some(off) = stream.find(&bytes[at..]) {
        let kw = at + off;
        at = kw + 6;
        // `endstream` itself, or a word ending in "stream".
        if kw >= 3 && &bytes[kw - 3..kw] == b"end" {
            continue;
        }
        let mut start = kw + 6;
        if bytes.get(start) == Some(&b'\r') {
            start += 1;
        }
        if bytes.get(start) != Some(&b'\n') {
            continue;
        }
        start += 1;
        // The stream's dictionary: back to the `obj` keyword before it.
        let dict_from = memchr::memmem::rfind(&bytes[..kw], b"obj").unwrap_or(0);
        let dict = &bytes[dict_from..kw];
        let stop = end.find(&bytes[start..]).map_or(bytes.len(), |e| start + e);
        out.push(Stream {
            data_from: start,
            data_to: stop,
            object_stream: has_name(dict, b"/ObjStm"),
            flate: has_name(dict, b"/FlateDecode") || has_name(dict, b"/Fl"),
        });
        at = stop;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn deflate(b: &[u8]) -> Vec<u8> {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(b).unwrap();
        z.finish().unwrap()
    }

    fn with_stream(data: &[u8]) -> Vec<u8> {
        let mut pdf =
            b"%PDF-1.7\n1 0 obj<</Type/ObjStm/N 1/First 4/Filter/FlateDecode/Length ".to_vec();
        pdf.extend_from_slice(format!("{}>>stream\n", data.len()).as_bytes());
        pdf.extend_from_slice(data);
        pdf.extend_from_slice(b"\nendstream\nendobj\ntrailer<</Root 2 0 R>>\n%%EOF\n");
        pdf
    }

    #[test]
    fn plain_documents_pass() {
        let pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/OpenAction[3 0 R/Fit]>>endobj\n\
            3 0 obj<</Type/Page/Contents 4 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
        assert_eq!(active_content(pdf), None);
        let text = b"BT /F1 12 Tf (JavaScript is a word here) Tj ET /JSON /AAB";
        assert_eq!(active_content(&with_stream(&deflate(text))), None);
    }

    #[test]
    fn active_names_are_found_in_plain_escaped_and_compressed_form() {
        let open = b"%PDF-1.4\n1 0 obj<</OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj";
        assert_eq!(active_content(open).map(|a| a.name), Some("JavaScript"));
        let escaped = b"%PDF-1.4\n1 0 obj<</OpenAction<</S/J#61vaScript>>>>endobj";
        assert_eq!(active_content(escaped).map(|a| a.name), Some("JavaScript"));
        for (inside, name) in [
            (&b"2 0 obj<</S/Launch/F(cmd.exe)>>endobj"[..], "Launch"),
            (
                b"2 0 obj<</Names<</EmbeddedFiles 3 0 R>>>>",
                "EmbeddedFiles",
            ),
            (b"<</Type/Page/AA<</O 5 0 R>>>>", "AA"),
            (b"<</Subtype/RichMedia>>", "RichMedia"),
            (b"<</AcroForm<</XFA 9 0 R>>>>", "XFA"),
        ] {
            let pdf = with_stream(&deflate(inside));
            assert_eq!(active_content(&pdf).map(|a| a.name), Some(name));
        }
        // Outside object streams: in the body and in a stream dictionary.
        let mut pdf = with_stream(&deflate(b"<</Type/Page>>"));
        pdf.extend_from_slice(
            b"5 0 obj<</Type/EmbeddedFile/Length 3>>stream\nabc\nendstream endobj",
        );
        assert_eq!(active_content(&pdf).map(|a| a.name), Some("EmbeddedFile"));
    }

    #[test]
    fn the_data_of_other_streams_is_not_read() {
        let pdf = b"%PDF-1.4\n4 0 obj<</Subtype/Image/Length 9>>stream\n\x01/JS \x02/AA\n\nendstream endobj\n%%EOF";
        assert_eq!(active_content(pdf), None);
    }

    #[test]
    fn a_compression_bomb_is_bounded() {
        let zeros = vec![0u8; 48 * 1024 * 1024];
        let bomb = deflate(&zeros);
        assert!(bomb.len() < 1024 * 1024);
        let mut pdf = with_stream(&bomb);
        pdf.extend_from_slice(b"<</S/Launch>>");
        assert_eq!(active_content(&pdf).map(|a| a.name), Some("Launch"));
        assert_eq!(active_content(&with_stream(&bomb)), None);
    }
}
