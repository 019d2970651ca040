//! Who acts and what they may see: the caller of a use case (a user with
//! the roles of their token, or an API client acting for its firm or
//! community) and the listing visibility rule.

use crate::service::error::{ApiError, Code};
use crate::service::tokens::{Claims, TicketClaims};
use crate::store::Db;
pub use crate::store::listings::{Viewer, visible_to};
use crate::store::scopes::Scopes;

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
    /// The caller an access token stands for.
    pub fn from_claims(c: Claims) -> Caller {
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

/// The ids of the communities the caller administers as a district
/// administrator (empty for everyone else, API clients included). Looked
/// up on every call (one indexed query), so a change takes effect at once.
pub async fn district_communities(db: &Db, caller: &Caller) -> Result<Vec<String>, ApiError> {
    if caller.client.is_some() {
        return Ok(Vec::new());
    }
    let uid = caller.user_id.clone();
    Ok(db
        .run(move |c| crate::store::districts::communities_administered_by(c, &uid))
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect())
}

/// An API client's credential (token or stream ticket) dies with its
/// client: revoking the client or rotating its secret ends those issued
/// before, at once (one primary-key read).
pub async fn ensure_client_live(
    db: &Db,
    client_id: &str,
    version: Option<i64>,
) -> Result<(), ApiError> {
    let id = client_id.to_string();
    let (live, suspended) = db
        .run(move |c| {
            let k = crate::store::clients::get(c, &id)?;
            let live = k.as_ref().is_some_and(|k| {
                k.revoked_at.is_none() && crate::store::clients::secret_version(k) == version
            });
            // A client of a suspended firm acts for no one until it is lifted.
            let suspended = match k.and_then(|k| k.firm_id) {
                Some(f) => crate::store::moderation::suspension(c, &f)?.is_some(),
                None => false,
            };
            Ok((live, suspended))
        })
        .await?;
    if live && suspended {
        return Err(ApiError::new(
            crate::service::error::Status::FORBIDDEN,
            Code::FirmSuspended,
            "所属企业已被社区暂停使用；如有疑问请联系社区工作人员",
        ));
    }
    if live {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            Code::InvalidToken,
            "该 API 客户端已吊销或已更换密钥，请重新获取令牌",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::testkit::{park, testing_offer};
    use crate::store::listings;

    /// A public listing is for everyone; a community listing for its
    /// community's firms and staff, its own firm and platform admins —
    /// never for guests or another community.
    #[test]
    fn the_visibility_rule() {
        let p = park();
        let public = p.post(&p.seller, testing_offer());
        let mut form = testing_offer();
        form["visibility"] = serde_json::json!("community");
        let inner = p.post(&p.seller, form);
        let view = |id: &str| {
            listings::get(&mut p.conn(), id)
                .expect("read")
                .expect("listing")
        };
        let (public, inner) = (view(&public.id), view(&inner.id));

        let member_here = p.buyer.caller().viewer();
        let member_far = p.far.caller().viewer();
        let owner = p.seller.caller().viewer();
        let staff_here = Viewer::Staff {
            community_id: p.dagang.id.clone(),
        };
        let staff_far = Viewer::Staff {
            community_id: p.other.id.clone(),
        };
        for v in [
            &member_here,
            &member_far,
            &owner,
            &staff_here,
            &staff_far,
            &Viewer::Admin,
            &Viewer::Guest,
        ] {
            assert!(visible_to(&public, v), "public for {v:?}");
        }
        for v in [&member_here, &owner, &staff_here, &Viewer::Admin] {
            assert!(visible_to(&inner, v), "community listing for {v:?}");
        }
        for v in [&member_far, &staff_far, &Viewer::Guest] {
            assert!(
                !visible_to(&inner, v),
                "community listing hidden from {v:?}"
            );
        }
        // The list query applies the same rule as the single read.
        for v in [&member_here, &member_far, &staff_far, &Viewer::Guest] {
            let seen = listings::list(
                &mut p.conn(),
                v,
                &listings::ListFilter {
                    limit: 100,
                    ..Default::default()
                },
            )
            .expect("list");
            assert_eq!(
                seen.iter().any(|l| l.listing.id == inner.listing.id),
                visible_to(&inner, v),
                "list and read agree for {v:?}"
            );
        }
    }

    #[test]
    fn an_api_client_never_holds_platform_rights() {
        let claims: Claims = serde_json::from_value(serde_json::json!({
            "sub": "u", "iss": "zhiqilian", "aud": "zhiqilian", "iat": 0, "exp": 0,
            "adm": true, "cid": "client", "scope": "listings:read bogus", "crot": 1
        }))
        .expect("claims");
        let c = Caller::from_claims(claims);
        assert!(!c.platform_admin);
        assert!(matches!(c.viewer(), Viewer::Guest));
        let grant = c.client.expect("a client");
        assert!(
            grant.scopes.is_empty(),
            "a scope list that no longer parses grants nothing"
        );
    }
}
