//! The file types an attachment may be, told apart by their first bytes
//! (never by the name or the type a client claims).

/// The accepted types, told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Jpeg,
    Png,
    WebP,
    Pdf,
}

impl FileType {
    pub fn sniff(b: &[u8]) -> Option<FileType> {
        if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileType::Jpeg)
        } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(FileType::Png)
        } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
            Some(FileType::WebP)
        } else if b.starts_with(b"%PDF-") {
            Some(FileType::Pdf)
        } else {
            None
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::WebP => "image/webp",
            FileType::Pdf => "application/pdf",
        }
    }

    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileType::Jpeg => &["jpg", "jpeg"],
            FileType::Png => &["png"],
            FileType::WebP => &["webp"],
            FileType::Pdf => &["pdf"],
        }
    }

    pub fn image_format(self) -> Option<image::ImageFormat> {
        match self {
            FileType::Jpeg => Some(image::ImageFormat::Jpeg),
            FileType::Png => Some(image::ImageFormat::Png),
            FileType::WebP => Some(image::ImageFormat::WebP),
            FileType::Pdf => None,
        }
    }
}
