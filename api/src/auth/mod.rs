//! Who is calling: the `Caller` extractor turns a bearer token into an
//! authenticated principal, so a handler that takes `Caller` cannot forget
//! authentication, and one that does not take it is public by construction.

pub mod password;
pub mod scopes;
pub mod tokens;

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::listings::Viewer;
use scopes::{ClientAccess, Scopes};
use tokens::{Claims, TicketClaims, TokenError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirmRole {
    Admin,
    Member,
}

impl FirmRole {
    pub fn parse(s: &str) -> Option<FirmRole> {
        match s {
            "admin" => Some(FirmRole::Admin),
            "member" => Some(FirmRole::Member),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            FirmRole::Admin => "admin",
            FirmRole::Member => "member",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FirmMembership {
    pub firm_id: String,
    pub role: FirmRole,
    pub community_id: String,
}

/// An authenticated user and the roles their access token carries.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: String,
    pub platform_admin: bool,
    pub firm: Option<FirmMembership>,
    pub staff_community: Option<String>,
    /// When the credential expires (Unix seconds): a live stream ends then.
    pub expires_at: i64,
    /// Set when an API client calls (client credentials): what it was
    /// granted. Its firm or community are the roles above.
    pub client: Option<ClientGrant>,
}

/// An API client's token: the client and its scopes.
#[derive(Debug, Clone)]
pub struct ClientGrant {
    pub client_id: String,
    pub scopes: Scopes,
    /// The secret the token was issued for (`Claims::crot`).
    pub secret_version: Option<i64>,
}

impl Caller {
    fn from_claims(c: Claims) -> Caller {
        // A scope list that no longer parses grants nothing.
        let client = c.cid.map(|client_id| ClientGrant {
            client_id,
            scopes: Scopes::parse(c.scope.as_deref().unwrap_or("")).unwrap_or_default(),
            secret_version: c.crot,
        });
        let mut caller = Caller::from_roles(c.sub, c.adm, c.firm, c.frole, c.fcmty, c.staff, c.exp);
        if client.is_some() {
            // Clients never hold platform-wide rights.
            caller.platform_admin = false;
        }
        caller.client = client;
        caller
    }

    /// A stream ticket stands for the access token it was issued against.
    pub fn from_ticket(t: TicketClaims) -> Caller {
        Caller::from_claims(Claims {
            exp: t.until,
            ..t.claims
        })
    }

    fn from_roles(
        user_id: String,
        platform_admin: bool,
        firm: Option<String>,
        frole: Option<String>,
        fcmty: Option<String>,
        staff_community: Option<String>,
        expires_at: i64,
    ) -> Caller {
        let firm = match (firm, frole.as_deref().and_then(FirmRole::parse), fcmty) {
            (Some(firm_id), Some(role), Some(community_id)) => Some(FirmMembership {
                firm_id,
                role,
                community_id,
            }),
            _ => None,
        };
        Caller {
            user_id,
            platform_admin,
            firm,
            staff_community,
            expires_at,
            client: None,
        }
    }

    /// The visibility scope this caller reads listings with.
    pub fn viewer(&self) -> Viewer {
        if self.platform_admin {
            Viewer::Admin
        } else if let Some(c) = &self.staff_community {
            Viewer::Staff {
                community_id: c.clone(),
            }
        } else if let Some(f) = &self.firm {
            Viewer::Member {
                firm_id: f.firm_id.clone(),
                community_id: f.community_id.clone(),
            }
        } else {
            Viewer::Guest
        }
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.platform_admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("需要平台管理员权限"))
        }
    }

    /// Staff of `community_id`, or a platform admin.
    pub fn can_administer_community(&self, community_id: &str) -> bool {
        self.platform_admin || self.staff_community.as_deref() == Some(community_id)
    }

    pub fn firm_id(&self) -> Option<&str> {
        self.firm.as_ref().map(|f| f.firm_id.as_str())
    }

    pub fn is_member_of(&self, firm_id: &str) -> bool {
        self.firm_id() == Some(firm_id)
    }

    pub fn is_firm_admin_of(&self, firm_id: &str) -> bool {
        matches!(&self.firm, Some(f) if f.firm_id == firm_id && f.role == FirmRole::Admin)
    }
}

fn bearer(req: &HttpRequest) -> Result<&str, ApiError> {
    let header = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized("unauthenticated", "需要登录：缺少 Authorization 头")
        })?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("invalid_token", "Authorization 头无法解析"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("invalid_token", "Authorization 须为 Bearer 令牌"))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "invalid_token",
            "Authorization 须为 Bearer 令牌",
        ));
    }
    Ok(token.trim())
}

/// An API client may call a route only with the scope the route table
/// names for it; users' tokens pass (their roles decide in the handler).
pub fn check_client_access(req: &HttpRequest, caller: &Caller) -> Result<(), ApiError> {
    let Some(grant) = &caller.client else {
        return Ok(());
    };
    let access = req
        .match_pattern()
        .and_then(|p| crate::routes::client_access(req.method().as_str(), &p))
        .unwrap_or(ClientAccess::Users);
    match access {
        ClientAccess::Open => Ok(()),
        ClientAccess::Users => Err(ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "insufficient_scope",
            "该接口不对 API 客户端开放",
        )),
        ClientAccess::Needs(s) if grant.scopes.contains(s) => Ok(()),
        ClientAccess::Needs(s) => Err(ApiError::new(
            actix_web::http::StatusCode::FORBIDDEN,
            "insufficient_scope",
            format!("该 API 客户端缺少权限范围 {s}"),
        )),
    }
}

/// An API client's credential (token or stream ticket) dies with its
/// client: revoking the client or rotating its secret ends those issued
/// before, at once (one primary-key read).
pub async fn ensure_client_live(
    state: &AppState,
    client_id: &str,
    version: Option<i64>,
) -> Result<(), ApiError> {
    let id = client_id.to_string();
    let live = state
        .db
        .run(move |c| crate::store::clients::is_live(c, &id, version))
        .await?;
    if live {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "invalid_token",
            "该 API 客户端已吊销或已更换密钥，请重新获取令牌",
        ))
    }
}

/// The caller of a request with a bearer token.
pub fn authenticate(req: &HttpRequest) -> Result<Caller, ApiError> {
    let caller = authenticate_token(req)?;
    check_client_access(req, &caller)?;
    Ok(caller)
}

fn authenticate_token(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state missing"))?;
    let token = bearer(req)?;
    match state.jwt.verify(token) {
        Ok(claims) => Ok(Caller::from_claims(claims)),
        Err(TokenError::Expired) => Err(ApiError::unauthorized(
            "token_expired",
            "访问令牌已过期，请刷新",
        )),
        Err(TokenError::Invalid) => Err(ApiError::unauthorized("invalid_token", "访问令牌无效")),
    }
}

/// The caller when the request carries a token (a bad one is refused),
/// `None` without one: for routes that are public but act differently for
/// a signed-in user.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = Ready<Result<MaybeCaller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if req
            .headers()
            .contains_key(actix_web::http::header::AUTHORIZATION)
        {
            ready(authenticate(req).map(|c| MaybeCaller(Some(c))))
        } else {
            ready(Ok(MaybeCaller(None)))
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}
