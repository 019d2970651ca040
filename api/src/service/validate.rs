//! Input parsing shared by handlers and the importer: parse, don't validate.

use zhiqilian_matcher::FieldError;

/// The field error code for text holding a control character.
pub const CONTROL_CHARACTER: &str = "control_character";

/// A character no text may hold: C0 controls other than tab and line
/// breaks, DEL and the C1 controls.
pub fn forbidden_char(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// Whether `s` holds a character no text may hold.
pub fn has_forbidden(s: &str) -> bool {
    s.chars().any(forbidden_char)
}

/// A sign-in identifier: a mainland mobile number or an email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    Phone(String),
    Email(String),
}

impl Login {
    pub fn parse(raw: &str) -> Result<Login, &'static str> {
        let s = raw.trim();
        if s.contains('@') {
            let lower = s.to_lowercase();
            let (local, domain) = lower.split_once('@').ok_or("邮箱格式不正确")?;
            let ok = !local.is_empty()
                && local.len() <= 64
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && lower.len() <= 254
                && !lower.chars().any(|c| c.is_whitespace() || c.is_control())
                && !domain.contains('@');
            if ok {
                Ok(Login::Email(lower))
            } else {
                Err("邮箱格式不正确")
            }
        } else {
            let digits: String = s
                .trim_start_matches("+86")
                .chars()
                .filter(|c| !matches!(c, ' ' | '-'))
                .collect();
            let ok = digits.len() == 11
                && digits.starts_with('1')
                && digits.chars().all(|c| c.is_ascii_digit());
            if ok {
                Ok(Login::Phone(digits))
            } else {
                Err("手机号须为 11 位中国大陆手机号，或填写邮箱")
            }
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Login::Phone(s) | Login::Email(s) => s,
        }
    }

    pub fn phone(&self) -> Option<String> {
        match self {
            Login::Phone(s) => Some(s.clone()),
            Login::Email(_) => None,
        }
    }

    pub fn email(&self) -> Option<String> {
        match self {
            Login::Email(s) => Some(s.clone()),
            Login::Phone(_) => None,
        }
    }
}

/// Collects field errors so a client sees every problem at once.
#[derive(Debug, Default)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn push(
        &mut self,
        field: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) {
        self.0.push(FieldError::new(field, code, message));
    }

    pub fn extend(&mut self, errs: Vec<FieldError>) {
        self.0.extend(errs);
    }

    /// A trimmed single-line string of `min..=max` characters: no control
    /// characters, line breaks or tabs (names, titles, addresses).
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        if value.chars().any(char::is_control) {
            self.push(
                field,
                CONTROL_CHARACTER,
                "不能包含换行、制表符或其他控制字符",
            );
            return value.trim().to_string();
        }
        self.sized(field, value, min, max)
    }

    /// A trimmed string of `min..=max` characters that may span lines
    /// (descriptions, messages): line breaks and tabs pass, other control
    /// characters (NUL among them) do not.
    pub fn multiline(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        if has_forbidden(value) {
            self.push(field, CONTROL_CHARACTER, "不能包含控制字符（如 NUL）");
            return value.trim().to_string();
        }
        self.sized(field, value, min, max)
    }

    fn sized(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let v = value.trim();
        let n = v.chars().count();
        if n < min {
            if n == 0 {
                self.push(field, "required", "不能为空");
            } else {
                self.push(field, "too_short", format!("至少 {min} 个字符"));
            }
        } else if n > max {
            self.push(field, "too_long", format!("最多 {max} 个字符"));
        }
        v.to_string()
    }

    pub fn lat_lon(&mut self, prefix: &str, lat: Option<f64>, lon: Option<f64>) {
        match (lat, lon) {
            (Some(la), Some(lo)) => {
                if !(la.is_finite() && (-90.0..=90.0).contains(&la)) {
                    self.push(
                        format!("{prefix}lat"),
                        "out_of_range",
                        "纬度须在 -90 到 90 之间",
                    );
                }
                if !(lo.is_finite() && (-180.0..=180.0).contains(&lo)) {
                    self.push(
                        format!("{prefix}lon"),
                        "out_of_range",
                        "经度须在 -180 到 180 之间",
                    );
                }
            }
            (None, None) => {}
            (None, Some(_)) => self.push(format!("{prefix}lat"), "required", "经纬度须同时提供"),
            (Some(_), None) => self.push(format!("{prefix}lon"), "required", "经纬度须同时提供"),
        }
    }

    pub fn into_result(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins() {
        assert_eq!(
            Login::parse(" 13812345678 "),
            Ok(Login::Phone("13812345678".into()))
        );
        assert_eq!(
            Login::parse("+86 138-1234-5678"),
            Ok(Login::Phone("13812345678".into()))
        );
        assert_eq!(
            Login::parse("HR@Firm.CN"),
            Ok(Login::Email("hr@firm.cn".into()))
        );
        assert!(Login::parse("12345").is_err());
        assert!(Login::parse("23812345678").is_err());
        assert!(Login::parse("a@b").is_err());
        assert!(Login::parse("@b.cn").is_err());
        assert!(Login::parse("a b@c.cn").is_err());
    }

    #[test]
    fn single_and_multi_line_text() {
        let mut e = Errors::default();
        assert_eq!(e.text("t", " 叉车 ", 1, 10), "叉车");
        assert!(e.is_empty());
        e.text("t", "a\nb", 1, 10);
        e.text("t", "a\u{0}b", 1, 10);
        e.multiline("d", "a\u{0}b", 0, 10);
        assert_eq!(e.0.len(), 3);
        assert!(e.0.iter().all(|f| f.code == "control_character"));
        let mut e = Errors::default();
        assert_eq!(
            e.multiline("d", "第一行\n\t第二行", 0, 20),
            "第一行\n\t第二行"
        );
        assert!(e.is_empty());
    }
}
