//! Values posted for a connection's fields (API or webview), checked as Powens checks
//! them before the script decides what they do.

use super::{Conn, DEMO_LOGIN, DEMO_OTP, DEMO_PASSWORD, OTP_TRIES, Script, Submitted, Values, ms};
use crate::SandboxConfig;
use crate::error::ApiError;
use mend_model::{ConnectorField, PowensDateTime};

impl Conn {
    /// Field values posted (API or webview).
    pub fn submit(
        &mut self,
        values: &Values,
        now: i64,
        cfg: &SandboxConfig,
        background: bool,
    ) -> Result<Submitted, ApiError> {
        let Some(fields) = self.fields.clone() else {
            let name = values.keys().next().map_or("", String::as_str);
            return Err(ApiError::invalid_value(format!(
                "The connection asks for no field; unexpected parameter: {name}"
            )));
        };
        for name in values.keys() {
            if !fields.iter().any(|f| &f.name == name) {
                return Err(ApiError::invalid_value(format!("Unknown field: {name}")));
            }
        }
        for f in &fields {
            let value = values.get(&f.name).map(|v| v.trim()).unwrap_or("");
            if value.is_empty() {
                if f.required {
                    return Err(ApiError::missing(&f.name));
                }
                continue;
            }
            check_value(f, value)?;
        }
        let get = |name: &str| values.get(name).map(|v| v.trim()).unwrap_or("");
        let outcome = match self.script {
            Script::Otp => {
                if get("otp") == DEMO_OTP {
                    Submitted::Accepted
                } else {
                    self.otp_tries = self.otp_tries.saturating_sub(1);
                    let msg = match self.otp_tries {
                        0 => {
                            self.otp_tries = OTP_TRIES;
                            "Too many incorrect codes: a new code was sent by SMS".to_owned()
                        }
                        1 => "Incorrect code, 1 try left".to_owned(),
                        n => format!("Incorrect code, {n} tries left"),
                    };
                    Submitted::Rejected(msg)
                }
            }
            Script::Wrongpass => {
                if get("login") == DEMO_LOGIN && get("password") == DEMO_PASSWORD {
                    Submitted::Accepted
                } else {
                    return Err(ApiError::wrongpass("Identifiant ou mot de passe incorrect"));
                }
            }
            Script::PasswordExpired => {
                if get("login") != DEMO_LOGIN {
                    return Err(ApiError::wrongpass("Identifiant inconnu"));
                }
                Submitted::Accepted
            }
            _ => Submitted::Accepted,
        };
        match &outcome {
            Submitted::Accepted if background => {
                self.settle_later(now + ms(cfg.validating_delay));
            }
            Submitted::Accepted => self.repaired(now),
            Submitted::Rejected(msg) => self.error_message = Some(msg.clone()),
        }
        Ok(outcome)
    }
}

/// `(min, max)` digit counts of patterns like `^[0-9]{6}$`, `^\d{4,8}$`.
pub(super) fn digit_pattern(re: &str) -> Option<(usize, usize)> {
    let core = re.strip_prefix('^')?.strip_suffix('$')?;
    let rest = core
        .strip_prefix("[0-9]")
        .or_else(|| core.strip_prefix("\\d"))?;
    let counts = rest.strip_prefix('{')?.strip_suffix('}')?;
    match counts.split_once(',') {
        Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
        None => {
            let n = counts.parse().ok()?;
            Some((n, n))
        }
    }
}

/// Checks one non-empty value against its field (type, list, regex), as Powens would.
fn check_value(f: &ConnectorField, value: &str) -> Result<(), ApiError> {
    use mend_model::FieldType;
    let bad = |why: &str| {
        Err(ApiError::invalid_value(format!(
            "Invalid value for {}: {why}",
            f.name
        )))
    };
    match &f.kind {
        FieldType::List
            if !f
                .values
                .as_ref()
                .is_some_and(|vs| vs.iter().any(|v| v.value == value)) =>
        {
            return bad("not one of the listed values");
        }
        FieldType::Date if value.len() != 10 || PowensDateTime::parse(value).is_err() => {
            return bad("expected a date as YYYY-MM-DD");
        }
        FieldType::Number if value.parse::<f64>().map_or(true, |n| !n.is_finite()) => {
            return bad("expected a number");
        }
        _ => {}
    }
    if let Some((min, max)) = f.regex.as_deref().and_then(digit_pattern) {
        let n = value.chars().count();
        if !value.bytes().all(|b| b.is_ascii_digit()) || n < min || n > max {
            return bad(&format!(
                "does not match {}",
                f.regex.as_deref().unwrap_or("")
            ));
        }
    }
    Ok(())
}
