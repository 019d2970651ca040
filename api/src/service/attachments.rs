//! Attachments: photos and PDFs on listings, quotes, messages, agreements
//! (proof of delivery) and firms (the business licence).
//!
//! The bytes live in an object store (`object_store`: a folder under the
//! data dir, or any S3-compatible service) under `attachments/<id>/original`
//! and `attachments/<id>/thumbnail`; the row (`store::attachments`) says
//! what they are and what they belong to. A file is accepted by what its
//! bytes are (JPEG, PNG, WebP, PDF magic numbers), never by the type the
//! client claims. Images are decoded and encoded again — which drops EXIF
//! (GPS position, camera serial) and every other metadata block — after the
//! EXIF orientation is applied to the pixels, and get a JPEG thumbnail.
//!
//! Who may do what follows the parent: whoever may see the parent may list
//! and download its attachments (an authorised GET through the API; there
//! are no public links); attaching and removing are for the parent's side
//! (see [`Parent`]). An API client also needs the parent's own scope.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zhiqilian_matcher::FieldError;

use crate::config::{AttachmentStore, AttachmentsConfig};
use crate::service::access::{Caller, visible_to};
use crate::service::error::{ApiError, Code, Status};
use crate::store::attachments::{self as rows, Attachment, PARENT_TYPES};
use crate::store::models::AgreementStatus;
use crate::store::scopes::Scope;
use crate::store::stream::{self, NewEvent};
use crate::store::{Db, DbConnection, accounts, listings, new_id, now};

/// The most attachments one parent holds.
pub const MAX_PER_PARENT: i64 = 20;
/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 320;
/// The largest image accepted, per side (a decompression bomb is refused
/// before its pixels are allocated).
const MAX_IMAGE_SIDE: u32 = 12_000;
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;
/// An object without a row is removed by the sweep once it is this old
/// (an upload writes its objects, then its row).
pub const STRAY_OBJECT_GRACE: Duration = Duration::from_secs(3600);

/// This node's attachment store.
pub struct Attachments {
    store: Arc<dyn ObjectStore>,
    /// The largest file accepted.
    pub max_bytes: usize,
    /// `local` or `s3`, for logs and `/readyz`-style reports.
    pub kind: &'static str,
}

impl Attachments {
    /// Opens the configured store (creating the local folder).
    pub fn open(cfg: &AttachmentsConfig) -> anyhow::Result<Attachments> {
        let (store, kind): (Arc<dyn ObjectStore>, _) = match &cfg.store {
            AttachmentStore::Local { dir } => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("attachments_dir: cannot create {}: {e}", dir.display())
                })?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| anyhow::anyhow!("attachments_dir {}: {e}", dir.display()))?;
                (Arc::new(fs), "local")
            }
            AttachmentStore::S3(s3) => {
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_virtual_hosted_style_request(s3.virtual_hosted_style)
                    .with_allow_http(s3.allow_http);
                if let Some(e) = &s3.endpoint {
                    b = b.with_endpoint(e);
                }
                if let (Some(k), Some(s)) = (&s3.access_key_id, &s3.secret_access_key) {
                    b = b.with_access_key_id(k).with_secret_access_key(s);
                }
                let s3 = b
                    .build()
                    .map_err(|e| anyhow::anyhow!("attachments_s3_*: {e}"))?;
                (Arc::new(s3), "s3")
            }
        };
        Ok(Attachments {
            store,
            max_bytes: cfg.max_bytes,
            kind,
        })
    }

    async fn put(&self, key: &ObjectPath, bytes: Bytes) -> Result<(), ApiError> {
        self.store
            .put(key, PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(store_failed)
    }

    async fn read(&self, key: &ObjectPath) -> Result<Bytes, ApiError> {
        match self.store.get(key).await {
            Ok(r) => r.bytes().await.map_err(store_failed),
            Err(object_store::Error::NotFound { .. }) => Err(ApiError::not_found("附件")),
            Err(e) => Err(store_failed(e)),
        }
    }

    /// Removes an attachment's objects; a missing one is no error.
    async fn remove(&self, id: &str) -> Result<(), object_store::Error> {
        for key in [original_key(id), thumbnail_key(id)] {
            match self.store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

fn store_failed(e: object_store::Error) -> ApiError {
    tracing::warn!(error = %e, "attachment store failed");
    ApiError::unavailable("附件存储暂时不可用，请稍后重试")
}

fn original_key(id: &str) -> ObjectPath {
    ObjectPath::from(format!("attachments/{id}/original"))
}

fn thumbnail_key(id: &str) -> ObjectPath {
    ObjectPath::from(format!("attachments/{id}/thumbnail"))
}

// ------------------------------------------------------------ file types

pub use crate::service::file_type::FileType;

/// A file as it is stored: images encoded again (no metadata), with a
/// thumbnail.
#[derive(Debug)]
pub struct Prepared {
    pub file_type: FileType,
    pub bytes: Vec<u8>,
    pub thumbnail: Option<Vec<u8>>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

fn unreadable(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        Status::UNSUPPORTED_MEDIA_TYPE,
        Code::UnsupportedFileType,
        format!("图片无法解码：{detail}"),
    )
}

/// Checks the type by the bytes and prepares what is stored.
pub fn prepare(bytes: &[u8]) -> Result<Prepared, ApiError> {
    let Some(file_type) = FileType::sniff(bytes) else {
        return Err(ApiError::new(
            Status::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedFileType,
            "只接受 JPEG、PNG、WebP 图片和 PDF 文件",
        ));
    };
    let Some(format) = file_type.image_format() else {
        if let Some(a) = crate::service::pdf_scan::active_content(bytes) {
            return Err(ApiError::field(
                "file",
                "pdf_active_content",
                format!(
                    "PDF 含有{}（/{}），出于安全考虑不予接收：请另存或打印为不含脚本、附件和表单的 PDF 后再上传",
                    a.what, a.name
                ),
            ));
        }
        return Ok(Prepared {
            file_type,
            bytes: bytes.to_vec(),
            thumbnail: None,
            width: None,
            height: None,
        });
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    use image::ImageDecoder;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    img.apply_orientation(orientation);
    let mut out = Vec::new();
    let written = match file_type {
        FileType::Jpeg => image::DynamicImage::ImageRgb8(img.to_rgb8()).write_with_encoder(
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90),
        ),
        FileType::Png => img.write_with_encoder(image::codecs::png::PngEncoder::new(&mut out)),
        _ => image::DynamicImage::ImageRgba8(img.to_rgba8())
            .write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut out)),
    };
    written.map_err(ApiError::internal)?;
    let thumb = img.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
    let mut t = Vec::new();
    image::DynamicImage::ImageRgb8(thumb.to_rgb8())
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut t, 80,
        ))
        .map_err(ApiError::internal)?;
    Ok(Prepared {
        file_type,
        bytes: out,
        thumbnail: Some(t),
        width: Some(img.width()),
        height: Some(img.height()),
    })
}

/// The name shown and offered on download: the client's base name without
/// control characters, at most 100 characters, with the extension of the
/// type the bytes are.
pub fn clean_filename(raw: &str, t: FileType) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let mut name: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(100)
        .collect::<String>()
        .trim()
        .to_string();
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if name.is_empty() || name.starts_with('.') {
        name = "attachment".into();
    }
    if !t.extensions().contains(&ext.as_str()) {
        name.push('.');
        name.push_str(t.extensions()[0]);
    }
    name
}

// ----------------------------------------------------------------- parents

/// What an attachment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentType {
    Listing,
    Quote,
    Message,
    Agreement,
    Firm,
}

impl ParentType {
    fn parse(s: &str) -> Option<ParentType> {
        Some(match s {
            "listing" => ParentType::Listing,
            "quote" => ParentType::Quote,
            "message" => ParentType::Message,
            "agreement" => ParentType::Agreement,
            "firm" => ParentType::Firm,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ParentType::Listing => "listing",
            ParentType::Quote => "quote",
            ParentType::Message => "message",
            ParentType::Agreement => "agreement",
            ParentType::Firm => "firm",
        }
    }

    /// The scope an API client needs to read (and write) the parent.
    fn scopes(self) -> (Scope, Option<Scope>) {
        match self {
            ParentType::Listing => (Scope::ListingsRead, Some(Scope::ListingsWrite)),
            ParentType::Quote => (Scope::QuotesRead, Some(Scope::QuotesWrite)),
            ParentType::Message => (Scope::ThreadsRead, Some(Scope::ThreadsWrite)),
            ParentType::Agreement => (Scope::AgreementsRead, Some(Scope::AgreementsWrite)),
            // A firm's licence is for its users and staff only.
            ParentType::Firm => (Scope::FirmsRead, None),
        }
    }

    fn label(self) -> &'static str {
        match self {
            ParentType::Listing => "供需信息",
            ParentType::Quote => "报价",
            ParentType::Message => "消息",
            ParentType::Agreement => "成交",
            ParentType::Firm => "企业",
        }
    }
}

/// The parent named by a query (`parent_type`, `parent_id`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParentQuery {
    pub parent_type: Option<String>,
    pub parent_id: Option<String>,
}

impl ParentQuery {
    fn parse(&self) -> Result<(ParentType, String), ApiError> {
        let mut errors = Vec::new();
        let t = match self.parent_type.as_deref().map(str::trim) {
            None | Some("") => {
                errors.push(FieldError::new(
                    "parent_type",
                    "required",
                    "请指明附件所属对象的类型",
                ));
                None
            }
            Some(s) => ParentType::parse(s).or_else(|| {
                errors.push(FieldError::new(
                    "parent_type",
                    "invalid_choice",
                    format!("须为 {} 之一", PARENT_TYPES.join("、")),
                ));
                None
            }),
        };
        let id = match self.parent_id.as_deref().map(str::trim) {
            None | Some("") => {
                errors.push(FieldError::new(
                    "parent_id",
                    "required",
                    "请指明附件所属对象",
                ));
                None
            }
            Some(s) => match uuid::Uuid::parse_str(s) {
                Ok(u) => Some(u.to_string()),
                Err(_) => {
                    errors.push(FieldError::new("parent_id", "invalid_format", "须为 UUID"));
                    None
                }
            },
        };
        match (t, id) {
            (Some(t), Some(id)) if errors.is_empty() => Ok((t, id)),
            _ => Err(ApiError::validation(errors)),
        }
    }
}

/// A parent the caller may see: who hears of its attachments, and whether
/// the caller may attach to it.
struct Parent {
    audience: Vec<String>,
    may_attach: Result<(), ApiError>,
}

fn refuse(why: &str) -> Result<(), ApiError> {
    Err(ApiError::forbidden(why))
}

fn client_may(caller: &Caller, scope: Option<Scope>) -> Result<(), ApiError> {
    let Some(grant) = &caller.client else {
        return Ok(());
    };
    match scope {
        Some(s) if grant.scopes.contains(s) => Ok(()),
        Some(s) => Err(ApiError::new(
            Status::FORBIDDEN,
            Code::InsufficientScope,
            format!("该 API 客户端缺少权限范围 {s}"),
        )),
        None => Err(ApiError::new(
            Status::FORBIDDEN,
            Code::InsufficientScope,
            "企业证照不对 API 客户端开放",
        )),
    }
}

/// The parent as the caller stands to it; 404 when they may not see it.
fn parent(
    c: &mut DbConnection,
    caller: &Caller,
    t: ParentType,
    id: &str,
) -> Result<Parent, ApiError> {
    client_may(caller, Some(t.scopes().0))?;
    let gone = || ApiError::not_found(t.label());
    let p = match t {
        ParentType::Listing => {
            let v = listings::get(c, id)?.ok_or_else(gone)?;
            if !visible_to(&v, &caller.viewer()) {
                return Err(gone());
            }
            let l = &v.listing;
            Parent {
                audience: vec![stream::firm(&l.firm_id)],
                may_attach: if caller.is_member_of(&l.firm_id)
                    || caller.can_administer_community(&l.community_id)
                {
                    Ok(())
                } else {
                    refuse("只有发布方可以为供需信息添加附件")
                },
            }
        }
        ParentType::Quote => {
            let (q, _) = crate::service::quotes::load(c, caller, id)?;
            Parent {
                audience: vec![
                    stream::firm(&q.offer_firm_id),
                    stream::firm(&q.request_firm_id),
                ],
                may_attach: if caller.is_member_of(&q.offer_firm_id) {
                    Ok(())
                } else {
                    refuse("只有报价方可以为报价添加附件")
                },
            }
        }
        ParentType::Message => {
            let m = crate::store::threads::message(c, id)?.ok_or_else(gone)?;
            let (thread, _) = crate::service::threads::load_participant(c, caller, &m.thread_id)
                .map_err(|e| {
                    if e.status == Status::NOT_FOUND {
                        gone()
                    } else {
                        e
                    }
                })?;
            Parent {
                audience: crate::store::threads::audience(c, &thread)?,
                may_attach: if m.author_user_id.as_deref() == Some(caller.user_id.as_str()) {
                    Ok(())
                } else {
                    refuse("只能为自己发送的消息添加附件")
                },
            }
        }
        ParentType::Agreement => {
            let a = crate::store::agreements::get(c, id)?
                .filter(|a| crate::service::agreements::may_see(caller, a))
                .ok_or_else(gone)?;
            let party = caller.firm_id().is_some_and(|f| a.is_party(f));
            Parent {
                audience: vec![
                    stream::firm(&a.request_firm_id),
                    stream::firm(&a.offer_firm_id),
                ],
                may_attach: if !party {
                    refuse("只有成交双方可以添加附件（如交付凭证）")
                } else if a.status() == AgreementStatus::Cancelled {
                    Err(ApiError::conflict(
                        Code::InvalidTransition,
                        "成交已取消，不能再添加附件",
                    ))
                } else {
                    Ok(())
                },
            }
        }
        ParentType::Firm => {
            let f = accounts::get_firm(c, id)?.ok_or_else(gone)?;
            // The licence is not public: the firm, its staff and admins.
            if !(caller.is_member_of(&f.id) || caller.can_administer_community(&f.community_id)) {
                return Err(gone());
            }
            Parent {
                audience: vec![stream::firm(&f.id), stream::community(&f.community_id)],
                may_attach: Ok(()),
            }
        }
    };
    Ok(p)
}

// ------------------------------------------------------------------ views

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentOut {
    pub id: String,
    pub parent_type: String,
    pub parent_id: String,
    pub filename: String,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub uploaded_by: String,
    pub firm_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub content_url: String,
    pub thumbnail_url: Option<String>,
}

pub fn out(a: &Attachment) -> AttachmentOut {
    AttachmentOut {
        id: a.id.clone(),
        parent_type: a.parent_type.clone(),
        parent_id: a.parent_id.clone(),
        filename: a.filename.clone(),
        content_type: a.content_type.clone(),
        byte_size: a.byte_size,
        sha256: a.sha256.clone(),
        width: a.width,
        height: a.height,
        uploaded_by: a.uploaded_by.clone(),
        firm_id: a.firm_id.clone(),
        created_at: a.created_at.and_utc(),
        content_url: format!("/api/v1/attachments/{}/content", a.id),
        thumbnail_url: a
            .has_thumbnail
            .then(|| format!("/api/v1/attachments/{}/thumbnail", a.id)),
    }
}

fn event(event_type: &'static str, a: &Attachment, audience: Vec<String>) -> NewEvent {
    NewEvent {
        event_type,
        audience,
        payload: serde_json::json!({
            "id": a.id,
            "parent_type": a.parent_type,
            "parent_id": a.parent_id,
            "filename": a.filename,
            "content_type": a.content_type,
            "byte_size": a.byte_size,
        }),
    }
}

#[derive(Debug, Serialize)]
pub struct AttachmentList {
    pub items: Vec<AttachmentOut>,
}

// -------------------------------------------------------------- use cases

/// An uploaded file as received (`http::upload`): in a temporary file,
/// at most `max_bytes`, of an accepted type by its first bytes.
pub type Upload = crate::service::multipart::Received;

/// The body limit of an upload request: the file plus its multipart
/// framing.
pub fn request_limit(max_bytes: usize) -> usize {
    max_bytes + 64 * 1024
}

/// Attaches the uploaded file to the parent the query names.
pub async fn upload(
    db: &Db,
    files: &Attachments,
    caller: &Caller,
    q: ParentQuery,
    up: Upload,
) -> Result<AttachmentOut, ApiError> {
    let (t, parent_id) = q.parse()?;
    client_may(caller, t.scopes().1)?;
    client_may(caller, Some(Scope::AttachmentsWrite))?;
    let (c2, pid) = (caller.clone(), parent_id.clone());
    db.run(move |c| {
        Ok((|| {
            parent(c, &c2, t, &pid)?.may_attach?;
            if rows::count_of_parent(c, t.as_str(), &pid)? >= MAX_PER_PARENT {
                return Err(ApiError::conflict(
                    Code::AttachmentLimitReached,
                    format!("每个{}最多 {MAX_PER_PARENT} 个附件", t.label()),
                ));
            }
            Ok(())
        })())
    })
    .await??;
    if up.len > files.max_bytes {
        return Err(crate::service::multipart::file_too_large(files.max_bytes));
    }
    let filename = up.filename.clone();
    // Read back once accepted (within the limit): images are decoded and
    // encoded again, PDFs scanned. The temporary file goes with `up`.
    let prepared = tokio::task::spawn_blocking(move || {
        let raw = std::fs::read(up.file.path()).map_err(ApiError::internal)?;
        prepare(&raw)
    })
    .await
    .map_err(ApiError::internal)??;
    let id = new_id();
    let row = Attachment {
        id: id.clone(),
        parent_type: t.as_str().into(),
        parent_id: parent_id.clone(),
        firm_id: caller.firm_id().map(str::to_string),
        uploaded_by: caller.user_id.clone(),
        filename: clean_filename(&filename, prepared.file_type),
        content_type: prepared.file_type.mime().into(),
        byte_size: prepared.bytes.len() as i64,
        sha256: hex::encode(Sha256::digest(&prepared.bytes)),
        width: prepared.width.map(|w| w as i32),
        height: prepared.height.map(|h| h as i32),
        has_thumbnail: prepared.thumbnail.is_some(),
        created_at: now(),
    };
    files
        .put(&original_key(&id), Bytes::from(prepared.bytes))
        .await?;
    if let Some(t) = prepared.thumbnail {
        files.put(&thumbnail_key(&id), Bytes::from(t)).await?;
    }
    let (c2, r2) = (caller.clone(), row.clone());
    let saved = db
        .run(move |c| {
            stream::write(c, |c| {
                crate::store::begin_write(c)?;
                // The parent may have gone while the file was stored.
                let p = match parent(c, &c2, t, &r2.parent_id) {
                    Ok(p) => p,
                    Err(e) => return Ok((Err(e), Vec::new())),
                };
                rows::insert(c, &r2)?;
                let e = event("attachment.added", &r2, p.audience);
                Ok((Ok(()), vec![e]))
            })
        })
        .await;
    match saved {
        Ok(Ok(())) => Ok(out(&row)),
        Ok(Err(e)) => {
            let _ = files.remove(&id).await;
            Err(e)
        }
        Err(e) => {
            let _ = files.remove(&id).await;
            Err(e.into())
        }
    }
}

/// The attachments of a parent the caller may see.
pub async fn list(db: &Db, caller: &Caller, q: ParentQuery) -> Result<AttachmentList, ApiError> {
    let (t, id) = q.parse()?;
    client_may(caller, Some(Scope::AttachmentsRead))?;
    let caller = caller.clone();
    db.run(move |c| {
        Ok((|| {
            parent(c, &caller, t, &id)?;
            let items = rows::of_parent(c, t.as_str(), &id)?;
            Ok(AttachmentList {
                items: items.iter().map(out).collect(),
            })
        })())
    })
    .await?
}

/// An attachment whose parent the caller may see, with its parent.
fn load(c: &mut DbConnection, caller: &Caller, id: &str) -> Result<(Attachment, Parent), ApiError> {
    let gone = || ApiError::not_found("附件");
    let a = rows::get(c, id)?.ok_or_else(gone)?;
    let t = ParentType::parse(&a.parent_type).ok_or_else(gone)?;
    let p = parent(c, caller, t, &a.parent_id).map_err(|e| {
        if e.status == Status::NOT_FOUND {
            gone()
        } else {
            e
        }
    })?;
    Ok((a, p))
}

async fn visible(db: &Db, caller: &Caller, id: String) -> Result<Attachment, ApiError> {
    client_may(caller, Some(Scope::AttachmentsRead))?;
    let caller = caller.clone();
    db.run(move |c| Ok(load(c, &caller, &id).map(|(a, _)| a)))
        .await?
}

pub async fn get(db: &Db, caller: &Caller, id: String) -> Result<AttachmentOut, ApiError> {
    Ok(out(&visible(db, caller, id).await?))
}

/// A file to send: its bytes, type and name.
pub struct Download {
    pub bytes: Bytes,
    pub content_type: String,
    pub filename: String,
    /// Images are shown in place; PDFs are offered as a download.
    pub inline: bool,
}

/// The stored file (`thumbnail`: its JPEG thumbnail; 404 for a PDF).
pub async fn download(
    db: &Db,
    files: &Attachments,
    caller: &Caller,
    id: String,
    thumbnail: bool,
) -> Result<Download, ApiError> {
    let a = visible(db, caller, id).await?;
    if thumbnail {
        if !a.has_thumbnail {
            return Err(ApiError::not_found("缩略图"));
        }
        let stem = a
            .filename
            .rsplit_once('.')
            .map_or(a.filename.as_str(), |(s, _)| s);
        return Ok(Download {
            bytes: files.read(&thumbnail_key(&a.id)).await?,
            content_type: "image/jpeg".into(),
            filename: format!("{stem}-thumbnail.jpg"),
            inline: true,
        });
    }
    Ok(Download {
        bytes: files.read(&original_key(&a.id)).await?,
        inline: a.content_type.starts_with("image/"),
        content_type: a.content_type,
        filename: a.filename,
    })
}

/// Removes an attachment: its uploader, a member of the firm it was
/// uploaded for, or staff who may attach to the parent.
pub async fn delete(
    db: &Db,
    files: &Attachments,
    caller: &Caller,
    id: String,
) -> Result<(), ApiError> {
    client_may(caller, Some(Scope::AttachmentsWrite))?;
    let c2 = caller.clone();
    let removed = db
        .run(move |c| {
            stream::write(c, |c| {
                crate::store::begin_write(c)?;
                let r = (|| {
                    let (a, p) = load(c, &c2, &id)?;
                    let t = ParentType::parse(&a.parent_type)
                        .ok_or_else(|| ApiError::not_found("附件"))?;
                    client_may(&c2, t.scopes().1)?;
                    let own = a.uploaded_by == c2.user_id
                        || a.firm_id.as_deref().is_some_and(|f| c2.is_member_of(f))
                        || (c2.staff_community.is_some() && p.may_attach.is_ok());
                    if !own {
                        return Err(ApiError::forbidden("只有上传方可以删除附件"));
                    }
                    Ok((a, p))
                })();
                match r {
                    Ok((a, p)) => {
                        rows::delete(c, &a.id)?;
                        let e = event("attachment.removed", &a, p.audience);
                        Ok((Ok(a.id), vec![e]))
                    }
                    Err(e) => Ok((Err(e), Vec::new())),
                }
            })
        })
        .await??;
    forget(files, &removed).await;
    Ok(())
}

/// Removes the objects of a deleted attachment (after its row is gone; a
/// failure is left to the sweep).
pub async fn forget(files: &Attachments, id: &str) {
    if let Err(e) = files.remove(id).await {
        tracing::warn!(attachment = id, error = %e, "could not remove attachment objects; the sweep will");
    }
}

/// What a sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Attachments whose parent was gone (row and objects).
    pub orphaned: usize,
    /// Objects with no row, older than the grace period.
    pub stray: usize,
}

/// Nothing outlives its parent: removes the attachments whose parent row
/// is gone (objects, then row) and the objects that have no row and are
/// older than `grace` (an upload that died between storing and recording,
/// a removal whose object delete failed).
pub async fn sweep(db: &Db, files: &Attachments, grace: Duration) -> anyhow::Result<Swept> {
    let mut swept = Swept::default();
    loop {
        let batch = db.run(|c| rows::orphaned(c, 200)).await?;
        if batch.is_empty() {
            break;
        }
        for a in &batch {
            files.remove(&a.id).await?;
            let id = a.id.clone();
            db.run(move |c| rows::delete(c, &id)).await?;
            swept.orphaned += 1;
        }
    }
    let cutoff = Utc::now() - chrono::Duration::from_std(grace).unwrap_or_default();
    let mut listed = files.store.list(Some(&ObjectPath::from("attachments")));
    let mut old = std::collections::BTreeSet::new();
    while let Some(meta) = listed.next().await {
        let meta = meta?;
        if meta.last_modified > cutoff {
            continue;
        }
        if let Some(id) = meta.location.parts().nth(1) {
            old.insert(id.as_ref().to_string());
        }
    }
    let old: Vec<String> = old.into_iter().collect();
    for chunk in old.chunks(500) {
        let ids = chunk.to_vec();
        let known: std::collections::HashSet<String> = db
            .run(move |c| rows::existing(c, &ids))
            .await?
            .into_iter()
            .collect();
        for id in chunk.iter().filter(|id| !known.contains(*id)) {
            files.remove(id).await?;
            swept.stray += 1;
        }
    }
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_their_bytes() {
        assert_eq!(FileType::sniff(b"%PDF-1.7\n"), Some(FileType::Pdf));
        assert_eq!(
            FileType::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(FileType::WebP)
        );
        assert_eq!(FileType::sniff(b"GIF89a"), None);
        assert_eq!(FileType::sniff(b"<html>"), None);
        assert_eq!(clean_filename("report", FileType::Pdf), "report.pdf");
        assert_eq!(
            clean_filename("../../etc/passwd", FileType::Png),
            "passwd.png"
        );
        assert_eq!(clean_filename("", FileType::Png), "attachment.png");
    }

    #[test]
    fn images_are_encoded_again_with_a_thumbnail() {
        let img = image::RgbImage::from_fn(640, 480, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut png = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_with_encoder(image::codecs::png::PngEncoder::new(&mut png))
            .expect("png");
        let p = prepare(&png).expect("prepared");
        assert_eq!(p.file_type, FileType::Png);
        assert_eq!((p.width, p.height), (Some(640), Some(480)));
        let thumb =
            image::load_from_memory(p.thumbnail.as_deref().expect("thumbnail")).expect("jpeg");
        assert_eq!((thumb.width(), thumb.height()), (320, 240));
        // A PNG header over garbage is refused, not stored.
        let mut broken = png[..40].to_vec();
        broken.extend_from_slice(&[0; 64]);
        assert_eq!(
            prepare(&broken).expect_err("refused").status,
            Status::UNSUPPORTED_MEDIA_TYPE
        );
    }
}
