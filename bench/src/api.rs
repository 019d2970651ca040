//! A small client of the Zhiqilian API, for what the benchmarks set up
//! through it (communities, firms, listings, threads) before measuring.

use serde_json::{Value, json};

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str, http: reqwest::Client) -> Api {
        Api {
            base: base.trim_end_matches('/').to_string(),
            http,
        }
    }

    /// One call; anything but 2xx is an error naming the path, the status
    /// and the answer.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Res<Value> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            return Err(format!("{path}: {status} {v}").into());
        }
        Ok(v)
    }

    /// Signs in; the access token.
    /// The firm of a signed-in user (a registration's answer names none).
    pub async fn my_firm(&self, token: &str) -> Res<String> {
        let me = self
            .call(reqwest::Method::GET, "/api/v1/me", Some(token), None)
            .await?;
        Ok(me["firm"]["id"].as_str().ok_or("no firm")?.to_string())
    }

    /// Registers firm `n` of a run (named `{prefix}{n}有限公司`, a valid
    /// USCC, a login unique to this process) and has `admin` verify it;
    /// returns (firm id, its admin's token).
    pub async fn verified_firm(
        &self,
        admin: &str,
        community: &str,
        n: u64,
        prefix: &str,
    ) -> Res<(String, String)> {
        let mut rng = crate::rng::Rng::new(n + std::process::id() as u64 * 1000);
        let uscc = crate::firms::make_uscc(&mut rng, "330206", false);
        let login = format!(
            "13{:09}",
            (std::process::id() as u64 * 100 + n) % 1_000_000_000
        );
        let password = "bench-Passw0rd";
        self.call(
            reqwest::Method::POST,
            "/api/v1/firms/register",
            None,
            Some(json!({
                "name": format!("{prefix}{n}有限公司"), "uscc": uscc, "community_id": community,
                "address": "宁波市北仑区", "lat": 29.93, "lon": 121.87,
                "contact_name": "王经理", "contact_phone": "0574-86880000",
                "admin": { "login": login, "password": password, "display_name": format!("联系人{n}") }
            })),
        )
        .await?;
        let token = self.login(&login, password).await?;
        let id = self.my_firm(&token).await?;
        self.call(
            reqwest::Method::POST,
            &format!("/api/v1/firms/{id}/verify"),
            Some(admin),
            None,
        )
        .await?;
        Ok((id, token))
    }

    pub async fn login(&self, login: &str, password: &str) -> Res<String> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({ "login": login, "password": password })),
            )
            .await?;
        Ok(v["access_token"]
            .as_str()
            .ok_or("no access_token")?
            .to_string())
    }
}
