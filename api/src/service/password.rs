//! Password hashing with argon2id, always off the async workers.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::service::error::ApiError;

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_blocking(password: &str) -> Result<String, String> {
    let mut salt_bytes = [0u8; 16];
    rand::fill(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| e.to_string())?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify_blocking(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

pub async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// Verifies `password` against `stored`, or against a dummy hash when the
/// account does not exist, so both paths cost the same time.
pub async fn verify(password: String, stored: Option<String>, dummy: String) -> bool {
    let exists = stored.is_some();
    let target = stored.unwrap_or(dummy);
    let ok = tokio::task::spawn_blocking(move || verify_blocking(&password, &target))
        .await
        .unwrap_or(false);
    ok && exists
}

/// The least zxcvbn score a new password needs: 3 is "safely unguessable"
/// (about 10^10 guesses), the estimator's own advice for sign-in passwords.
const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Three;

/// Password policy: 8–128 characters, and hard to guess by the zxcvbn
/// estimator (common passwords, keyboard runs, dates, repeats and the
/// user's own login and name score low). `user_inputs` are the account's
/// other fields, which a guesser would try first.
pub fn check_policy(password: &str, user_inputs: &[&str]) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < 8 {
        return Err("密码至少 8 位");
    }
    if n > 128 {
        return Err("密码最多 128 位");
    }
    if password.chars().all(|c| c.is_ascii_digit()) {
        return Err("密码不能全为数字");
    }
    if zxcvbn::zxcvbn(password, user_inputs).score() < MIN_STRENGTH {
        return Err(
            "密码太容易被猜到（常见密码、键盘顺序、日期、重复字符或与账号、姓名相近）；请加长，或用几个不相关的词加数字和符号组合",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash_blocking("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_blocking("correct horse", &h));
        assert!(!verify_blocking("wrong horse", &h));
        assert!(!verify_blocking("correct horse", "not a hash"));
    }

    #[test]
    fn policy() {
        assert!(check_policy("short", &[]).is_err());
        assert!(check_policy("12345678", &[]).is_err());
        for weak in [
            "password",
            "Password1",
            "abcd1234",
            "qwertyuiop",
            "P@ssw0rd!",
        ] {
            assert!(check_policy(weak, &[]).is_err(), "{weak} passed");
        }
        // The account's own login and name count as known words.
        assert!(check_policy("wangfang13800000001", &["13800000001", "wangfang"]).is_err());
        assert!(check_policy("correct-horse-42", &[]).is_ok());
        assert!(check_policy("铁板-叉车-Kw9x", &[]).is_ok());
    }
}
