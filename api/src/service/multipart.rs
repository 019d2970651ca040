//! The file field of a `multipart/form-data` upload (what WeChat's
//! `wx.uploadFile` sends: one file part named by `name`, here `file`, and
//! any `formData` fields, which are ignored), received as the body
//! arrives: the file's bytes go to a temporary file, never into memory as
//! a whole, and are refused as soon as they are too many or their first
//! bytes are no accepted type.
//!
//! [`FileReceiver::feed`] takes the body in chunks of any size; the
//! delimiter search keeps only a delimiter's length of bytes between
//! chunks, and part headers are bounded. The file part chosen is the one
//! named `file`, else the first part with a file name. A temporary file is
//! removed when its [`Received`] (or the receiver) is dropped, whatever
//! happened, so a refused upload leaves nothing behind.

use std::io::Write;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::service::error::{ApiError, Code, Status};
use crate::service::file_type::FileType;

/// The longest part header block accepted.
const MAX_HEADERS: usize = 16 * 1024;
/// How many first bytes tell the type (WebP needs 12).
const SNIFF_BYTES: usize = 12;

/// The file received: its temporary file (removed when dropped), the
/// client's name for it, its size and its type by its first bytes.
#[derive(Debug)]
pub struct Received {
    pub file: NamedTempFile,
    pub filename: String,
    pub len: usize,
    pub file_type: FileType,
}

pub fn bad_multipart(detail: &str) -> ApiError {
    ApiError::bad_request(
        Code::InvalidMultipart,
        format!("请求体须为 multipart/form-data，含一个名为 file 的文件字段：{detail}"),
    )
}

pub fn file_too_large(max: usize) -> ApiError {
    ApiError::new(
        Status::PAYLOAD_TOO_LARGE,
        Code::FileTooLarge,
        format!("文件过大：最大 {:.1} MB", max as f64 / (1024.0 * 1024.0)),
    )
}

pub fn unsupported_type() -> ApiError {
    ApiError::new(
        Status::UNSUPPORTED_MEDIA_TYPE,
        Code::UnsupportedFileType,
        "只接受 JPEG、PNG、WebP 图片和 PDF 文件",
    )
}

fn io_error(e: std::io::Error) -> ApiError {
    ApiError::internal(anyhow::anyhow!("upload temporary file: {e}"))
}

pub fn boundary(content_type: &str) -> Option<String> {
    let mut parts = content_type.split(';');
    let essence = parts.next()?.trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|b| !b.is_empty() && b.len() <= 200)
}

/// `name` and `filename` of a part's `Content-Disposition`.
fn disposition(headers: &str) -> (Option<String>, Option<String>) {
    let (mut name, mut filename, mut filename_star) = (None, None, None);
    for line in headers.split("\r\n") {
        let Some((h, v)) = line.split_once(':') else {
            continue;
        };
        if !h.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        for p in v.split(';').skip(1) {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"').to_string();
            match k.trim().to_ascii_lowercase().as_str() {
                "name" => name = Some(v),
                "filename" => filename = Some(v),
                "filename*" => filename_star = v.split_once("''").map(|(_, s)| percent_decode(s)),
                _ => {}
            }
        }
    }
    (name, filename_star.or(filename))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("-"), 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

enum State {
    /// Before the first delimiter.
    Preamble,
    /// Just after a delimiter: `--` ends the body, else a part follows.
    AfterDelimiter,
    Headers,
    /// A part's content; `Some` when it is written to a file.
    Content(Option<Receiving>),
    Done,
}

/// A file part being written.
struct Receiving {
    named_file: bool,
    filename: String,
    file: std::io::BufWriter<NamedTempFile>,
    head: Vec<u8>,
    len: usize,
    /// Why this part cannot be the upload: it is no longer written.
    refused: Option<Refusal>,
}

#[derive(Debug, Clone, Copy)]
enum Refusal {
    TooLarge,
    Unsupported,
}

impl Refusal {
    fn error(self, max: usize) -> ApiError {
        match self {
            Refusal::TooLarge => file_too_large(max),
            Refusal::Unsupported => unsupported_type(),
        }
    }
}

/// Receives a multipart body chunk by chunk (see the module).
pub struct FileReceiver {
    /// `\r\n--<boundary>`: the body is read as if it began with `\r\n`, so
    /// that the first delimiter looks like every other.
    delim: Vec<u8>,
    finder: memchr::memmem::Finder<'static>,
    pending: Vec<u8>,
    state: State,
    max_bytes: usize,
    dir: PathBuf,
    /// The part named `file`, else the first part with a file name.
    chosen: Option<(Received, bool)>,
    fallback_refusal: Option<ApiError>,
}

impl FileReceiver {
    /// A receiver for a body of `content_type` whose file may hold
    /// `max_bytes`, writing temporary files into `dir`.
    pub fn new(content_type: &str, max_bytes: usize, dir: &Path) -> Result<Self, ApiError> {
        let b = boundary(content_type).ok_or_else(|| bad_multipart("缺少 boundary"))?;
        let delim = format!("\r\n--{b}").into_bytes();
        Ok(FileReceiver {
            finder: memchr::memmem::Finder::new(&delim).into_owned(),
            delim,
            pending: b"\r\n".to_vec(),
            state: State::Preamble,
            max_bytes,
            dir: dir.to_path_buf(),
            chosen: None,
            fallback_refusal: None,
        })
    }

    /// Takes the next chunk of the body. An error of the part named `file`
    /// (too large, not an accepted type) is answered at once: the rest of
    /// the body need not be kept.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), ApiError> {
        self.pending.extend_from_slice(chunk);
        self.advance(false)
    }

    /// The body ended: the file received, or why there is none.
    pub fn finish(mut self) -> Result<Received, ApiError> {
        self.advance(true)?;
        if !matches!(self.state, State::Done) {
            return Err(bad_multipart(match self.state {
                State::Preamble => "找不到分隔符",
                State::Headers | State::AfterDelimiter => "分段缺少头部",
                _ => "分段未结束",
            }));
        }
        match self.chosen.take() {
            Some((r, _)) if r.len == 0 => Err(ApiError::field("file", "empty", "文件为空")),
            Some((r, _)) => Ok(r),
            None => Err(self.fallback_refusal.take().unwrap_or_else(|| {
                ApiError::field("file", "required", "请在名为 file 的字段中上传一个文件")
            })),
        }
    }

    fn advance(&mut self, at_end: bool) -> Result<(), ApiError> {
        loop {
            match &mut self.state {
                State::Done => {
                    self.pending.clear();
                    return Ok(());
                }
                State::Preamble => match self.finder.find(&self.pending) {
                    Some(i) => {
                        self.pending.drain(..i + self.delim.len());
                        self.state = State::AfterDelimiter;
                    }
                    None => {
                        let keep = self.delim.len().min(self.pending.len());
                        self.pending.drain(..self.pending.len() - keep);
                        return Ok(());
                    }
                },
                State::AfterDelimiter => {
                    if self.pending.len() < 2 {
                        return Ok(());
                    }
                    if self.pending.starts_with(b"--") {
                        self.state = State::Done;
                        continue;
                    }
                    if self.pending.starts_with(b"\r\n") {
                        self.pending.drain(..2);
                    }
                    self.state = State::Headers;
                }
                State::Headers => {
                    let Some(end) = memchr::memmem::find(&self.pending, b"\r\n\r\n") else {
                        if self.pending.len() > MAX_HEADERS {
                            return Err(bad_multipart("分段头部过长"));
                        }
                        return Ok(());
                    };
                    let headers = String::from_utf8_lossy(&self.pending[..end]).into_owned();
                    self.pending.drain(..end + 4);
                    let (name, filename) = disposition(&headers);
                    let named_file = name.as_deref() == Some("file");
                    // Only a part that may become the upload is kept.
                    let wanted = filename.is_some()
                        && (named_file || self.chosen.is_none() && self.fallback_refusal.is_none());
                    let part = match filename {
                        Some(filename) if wanted => {
                            let file = tempfile::Builder::new()
                                .prefix("upload-")
                                .tempfile_in(&self.dir)
                                .map_err(io_error)?;
                            Some(Receiving {
                                named_file,
                                filename,
                                file: std::io::BufWriter::with_capacity(64 * 1024, file),
                                head: Vec::new(),
                                len: 0,
                                refused: None,
                            })
                        }
                        _ => None,
                    };
                    self.state = State::Content(part);
                }
                State::Content(part) => {
                    let (data_end, found) = match self.finder.find(&self.pending) {
                        Some(i) => (i, true),
                        None => (
                            self.pending
                                .len()
                                .saturating_sub(self.delim.len().saturating_sub(1)),
                            false,
                        ),
                    };
                    if let Some(p) = part.as_mut() {
                        write_part(p, &self.pending[..data_end], self.max_bytes)?;
                    }
                    if !found {
                        self.pending.drain(..data_end);
                        return Ok(());
                    }
                    self.pending.drain(..data_end + self.delim.len());
                    let done = match std::mem::replace(&mut self.state, State::AfterDelimiter) {
                        State::Content(p) => p,
                        _ => None,
                    };
                    if let Some(p) = done {
                        self.keep(p)?;
                    }
                }
            }
            if at_end && self.pending.is_empty() {
                return Ok(());
            }
        }
    }

    /// A file part ended: it becomes the upload (the part named `file`
    /// over an earlier fallback), or its refusal is kept.
    fn keep(&mut self, mut p: Receiving) -> Result<(), ApiError> {
        if p.refused.is_none() && p.len > 0 && p.len < SNIFF_BYTES {
            p.refused = FileType::sniff(&p.head)
                .is_none()
                .then_some(Refusal::Unsupported);
        }
        if let Some(r) = p.refused {
            let e = r.error(self.max_bytes);
            if p.named_file {
                return Err(e);
            }
            self.fallback_refusal.get_or_insert(e);
            return Ok(());
        }
        let file_type = FileType::sniff(&p.head);
        let file = p.file.into_inner().map_err(|e| io_error(e.into_error()))?;
        let received = Received {
            file,
            filename: p.filename,
            len: p.len,
            // An empty part has no type; `finish` refuses it as empty.
            file_type: file_type.unwrap_or(FileType::Pdf),
        };
        if p.named_file || self.chosen.is_none() {
            self.chosen = Some((received, p.named_file));
        }
        Ok(())
    }
}

/// Writes a file part's bytes unless it was refused: past `max` bytes, or
/// once its first bytes are no accepted type. The part named `file` is
/// refused at once.
fn write_part(p: &mut Receiving, data: &[u8], max: usize) -> Result<(), ApiError> {
    if p.refused.is_some() || data.is_empty() {
        return Ok(());
    }
    p.len += data.len();
    if p.len > max {
        p.refused = Some(Refusal::TooLarge);
    } else {
        if p.head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - p.head.len()).min(data.len());
            p.head.extend_from_slice(&data[..take]);
            if p.head.len() >= SNIFF_BYTES && FileType::sniff(&p.head).is_none() {
                p.refused = Some(Refusal::Unsupported);
            }
        }
        if p.refused.is_none() {
            p.file.write_all(data).map_err(io_error)?;
        }
    }
    match (p.refused, p.named_file) {
        (Some(r), true) => Err(r.error(max)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn multipart(boundary: &str, parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        for (name, filename, body) in parts {
            b.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let f = filename
                .map(|f| format!("; filename=\"{f}\""))
                .unwrap_or_default();
            b.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"{f}\r\n\r\n").as_bytes(),
            );
            b.extend_from_slice(body);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        b
    }

    /// Feeds `body` in chunks of `size` bytes.
    fn receive(
        ct: &str,
        body: &[u8],
        size: usize,
        max: usize,
        dir: &Path,
    ) -> Result<Received, ApiError> {
        let mut r = FileReceiver::new(ct, max, dir)?;
        for c in body.chunks(size) {
            r.feed(c)?;
        }
        r.finish()
    }

    fn files_in(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn finds_the_file_field_among_form_fields_in_any_chunking() {
        let dir = tempfile::tempdir().unwrap();
        let data = b"\xFF\xD8\xFF\xE0data\r\n--Xy\r\n--XY";
        let body = multipart(
            "XyZ",
            &[
                ("other", Some("first.pdf"), b"%PDF-1.4 fallback"),
                ("note", None, b"hello"),
                ("file", Some("wxfile://tmp/a b.jpg"), data),
            ],
        );
        for size in [1, 2, 3, 7, 64, body.len()] {
            let p = receive(
                "multipart/form-data; boundary=\"XyZ\"",
                &body,
                size,
                1000,
                dir.path(),
            )
            .expect("part");
            assert_eq!(p.filename, "wxfile://tmp/a b.jpg");
            assert_eq!(p.file_type, FileType::Jpeg);
            assert_eq!(p.len, data.len());
            assert_eq!(std::fs::read(p.file.path()).unwrap(), data);
            // Only the chosen part's file is left, and it goes when dropped.
            assert_eq!(files_in(dir.path()), 1, "chunks of {size}");
            drop(p);
            assert_eq!(files_in(dir.path()), 0);
        }
        assert_eq!(percent_decode("%E5%90%88%E5%90%8C.pdf"), "合同.pdf");
    }

    #[test]
    fn refuses_bodies_without_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let body = multipart("b", &[("note", None, b"x")]);
        let e = receive("multipart/form-data; boundary=b", &body, 5, 100, d).unwrap_err();
        assert_eq!(e.status, Status::UNPROCESSABLE_ENTITY);
        let e = receive("application/json", &body, 5, 100, d).unwrap_err();
        assert_eq!(e.code, Code::InvalidMultipart);
        let e = receive(
            "multipart/form-data; boundary=b",
            b"--b\r\nno end",
            5,
            100,
            d,
        )
        .unwrap_err();
        assert_eq!(e.code, Code::InvalidMultipart);
        let body = multipart("b", &[("file", Some("a.pdf"), b"")]);
        let e = receive("multipart/form-data; boundary=b", &body, 5, 100, d).unwrap_err();
        assert_eq!(e.status, Status::UNPROCESSABLE_ENTITY);
        assert_eq!(files_in(d), 0);
    }

    #[test]
    fn too_large_or_unknown_files_are_refused_as_they_arrive() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ct = "multipart/form-data; boundary=b";
        // The part named `file`: refused at the first chunk past the limit,
        // with no more than the limit written.
        let mut big = b"%PDF-1.4\n".to_vec();
        big.resize(5000, b' ');
        let body = multipart("b", &[("file", Some("big.pdf"), &big)]);
        let mut r = FileReceiver::new(ct, 1000, d).unwrap();
        let mut fed = 0;
        let e = loop {
            match r.feed(&body[fed..fed + 100]) {
                Ok(()) => fed += 100,
                Err(e) => break e,
            }
        };
        assert_eq!(e.status, Status::PAYLOAD_TOO_LARGE);
        assert!(fed < 1200, "refused after {fed} bytes");
        drop(r);
        assert_eq!(files_in(d), 0);
        // Not a known type: refused on its first bytes.
        let gif = multipart(
            "b",
            &[(
                "file",
                Some("a.jpg"),
                b"GIF89a\x01\x00\x01\x00\x80\x00\x00 and more",
            )],
        );
        let mut r = FileReceiver::new(ct, 1000, d).unwrap();
        let e = gif
            .chunks(60)
            .find_map(|c| r.feed(c).err())
            .expect("refused");
        assert_eq!(e.status, Status::UNSUPPORTED_MEDIA_TYPE);
        drop(r);
        assert_eq!(files_in(d), 0);
        // A short file is typed when it ends.
        let tiny = multipart("b", &[("file", Some("a.pdf"), b"hi")]);
        let e = receive(ct, &tiny, 3, 1000, d).unwrap_err();
        assert_eq!(e.status, Status::UNSUPPORTED_MEDIA_TYPE);
        // A fallback part's refusal is the answer only when no `file` came.
        let body = multipart("b", &[("photo", Some("a.gif"), b"GIF89a and so on")]);
        let e = receive(ct, &body, 4, 1000, d).unwrap_err();
        assert_eq!(e.status, Status::UNSUPPORTED_MEDIA_TYPE);
        let body = multipart(
            "b",
            &[
                ("photo", Some("a.gif"), b"GIF89a and so on"),
                ("file", Some("b.pdf"), b"%PDF-1.7 ok"),
            ],
        );
        let p = receive(ct, &body, 4, 1000, d).expect("the file part");
        assert_eq!(p.filename, "b.pdf");
        drop(p);
        assert_eq!(files_in(d), 0);
    }
}
