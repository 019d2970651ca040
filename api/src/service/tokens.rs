//! Access tokens (HS256 JWTs, short-lived) and opaque refresh tokens.

use std::path::Path;

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The one algorithm we sign and accept.
pub const ALG: Algorithm = Algorithm::HS256;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Platform admin.
    #[serde(default)]
    pub adm: bool,
    /// Firm membership: firm id, role (`admin`/`member`) and its community.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frole: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fcmty: Option<String>,
    /// Community the user is staff of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<String>,
    /// An API client's token: the client id and its granted scopes
    /// (space-separated). Users' tokens carry neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// An API client's token: when the secret it was issued for was set
    /// (the client's `secret_rotated_at` in microseconds since the epoch;
    /// absent for the first secret). A rotation changes it, and so ends
    /// every token issued before, however close in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crot: Option<i64>,
    /// A user's token: the user's session version when it was issued
    /// (`users.session_version`). Bumping it (a member removed, a password
    /// changed or reset, an account deleted, a firm suspended) ends every
    /// token and stream ticket issued before. Absent in API clients' tokens
    /// and in tokens issued before versions existed (read as 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sv: Option<i64>,
}

/// A short-lived ticket that opens an event stream where a client cannot
/// send headers (`EventSource` in browsers and the mini-program). It has
/// its own audience, so it is no access token and an access token is no
/// ticket.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TicketClaims {
    /// The caller's claims, with the ticket's own audience and a short `exp`
    /// (until when the ticket opens a stream).
    #[serde(flatten)]
    pub claims: Claims,
    /// When the access token it was issued against expires: the stream
    /// ends then.
    pub until: i64,
}

#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ticket_validation: Validation,
    pub issuer: String,
    pub audience: String,
    pub ttl_secs: i64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TokenError {
    #[error("token expired")]
    Expired,
    #[error("token invalid")]
    Invalid,
}

impl JwtKeys {
    pub fn new(secret: &[u8], issuer: &str, audience: &str, ttl_secs: i64) -> JwtKeys {
        let mut validation = Validation::new(ALG);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        let mut ticket_validation = validation.clone();
        ticket_validation.set_audience(&[ticket_audience(audience)]);
        ticket_validation.leeway = 0;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ticket_validation,
            issuer: issuer.to_string(),
            audience: audience.to_string(),
            ttl_secs,
        }
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(ALG), claims, &self.encoding)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        use jsonwebtoken::errors::ErrorKind;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

/// The audience of stream tickets.
pub fn ticket_audience(api_audience: &str) -> String {
    format!("{api_audience}:events")
}

impl JwtKeys {
    pub fn sign_ticket(
        &self,
        claims: &TicketClaims,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(ALG), claims, &self.encoding)
    }

    pub fn verify_ticket(&self, ticket: &str) -> Result<TicketClaims, TokenError> {
        use jsonwebtoken::errors::ErrorKind;
        jsonwebtoken::decode::<TicketClaims>(ticket, &self.decoding, &self.ticket_validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            })
    }
}

/// Reads the signing secret from `path`, creating it (mode 0600) with 64
/// random bytes if it does not exist. Returns the secret and whether it was
/// created now.
pub fn load_or_create_secret(path: &Path) -> std::io::Result<(Vec<u8>, bool)> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let bytes = hex::decode(text.trim()).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} is not a hex key: {e}", path.display()),
                )
            })?;
            if bytes.len() < 32 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} holds fewer than 32 bytes", path.display()),
                ));
            }
            Ok((bytes, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut key = vec![0u8; 64];
            rand::fill(&mut key[..]);
            write_private(path, hex::encode(&key).as_bytes())?;
            Ok((key, true))
        }
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    // create_new: two nodes racing on a shared folder never overwrite a key.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, data)
}

/// A new opaque refresh token (256 random bits, URL-safe base64).
pub fn new_refresh_token() -> String {
    let mut b = [0u8; 32];
    rand::fill(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// Refresh tokens are stored only as their SHA-256.
pub fn hash_refresh_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp_in: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "u1".into(),
            iss: "zhiqilian".into(),
            aud: "zhiqilian-api".into(),
            iat: now,
            exp: now + exp_in,
            adm: false,
            firm: None,
            frole: None,
            fcmty: None,
            staff: None,
            cid: None,
            scope: None,
            crot: None,
            sv: None,
        }
    }

    #[test]
    fn round_trip_and_rejections() {
        let k = JwtKeys::new(&[7u8; 32], "zhiqilian", "zhiqilian-api", 900);
        let t = k.sign(&claims(60)).expect("sign");
        assert_eq!(k.verify(&t).expect("verify").sub, "u1");
        let expired = k.sign(&claims(-120)).expect("sign");
        assert_eq!(k.verify(&expired), Err(TokenError::Expired));
        let other = JwtKeys::new(&[8u8; 32], "zhiqilian", "zhiqilian-api", 900);
        assert_eq!(other.verify(&t), Err(TokenError::Invalid));
        let wrong_aud = JwtKeys::new(&[7u8; 32], "zhiqilian", "someone-else", 900);
        assert_eq!(wrong_aud.verify(&t), Err(TokenError::Invalid));
        // An access token opens no stream.
        assert_eq!(k.verify_ticket(&t), Err(TokenError::Invalid));
    }

    #[test]
    fn tickets_are_not_access_tokens() {
        let k = JwtKeys::new(&[7u8; 32], "zhiqilian", "zhiqilian-api", 900);
        let c = claims(60);
        let ticket = TicketClaims {
            until: c.exp,
            claims: Claims {
                aud: ticket_audience(&c.aud),
                exp: c.iat + 60,
                ..c
            },
        };
        let t = k.sign_ticket(&ticket).expect("sign");
        assert_eq!(k.verify_ticket(&t).expect("verify").claims.sub, "u1");
        assert_eq!(k.verify(&t), Err(TokenError::Invalid));
    }

    #[test]
    fn secret_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("jwt.key");
        let (a, created) = load_or_create_secret(&p).expect("create");
        assert!(created);
        let (b, created) = load_or_create_secret(&p).expect("reuse");
        assert!(!created);
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
