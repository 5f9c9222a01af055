//! The rules of an account's fields: e-mail address and person names. Used
//! alike by registration, user administration and `pulse user add`.

/// An account field failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// Not the shape of an e-mail address.
    #[error("invalid e-mail address {0:?}")]
    Email(String),
    /// A name field too long or holding control characters.
    #[error("{field} must be at most 100 characters without control characters")]
    Name {
        /// The field, e.g. `first_name`.
        field: &'static str,
    },
}

/// Checks an e-mail address's shape (the mailbox is not contacted) and
/// returns it trimmed.
pub fn parse_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if valid {
        Ok(email.to_string())
    } else {
        Err(AccountError::Email(email.to_string()))
    }
}

/// Checks a person's name field (may be empty) and returns it trimmed.
pub fn parse_name(field: &'static str, value: &str) -> Result<String, AccountError> {
    let value = value.trim();
    if value.chars().count() > 100 || value.chars().any(char::is_control) {
        return Err(AccountError::Name { field });
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_shapes() {
        let good = [
            ("a@b", "a@b"),
            ("  ops@pulse.example ", "ops@pulse.example"),
            ("x.y+z@sub.example.in", "x.y+z@sub.example.in"),
        ];
        for (input, want) in good {
            assert_eq!(parse_email(input).as_deref(), Ok(want), "{input:?}");
        }
        let long = format!("{}@example.in", "a".repeat(250));
        for bad in [
            "",
            "plain",
            "@example.in",
            "me@",
            "a@b@c",
            "a b@c.in",
            "a\u{7}@c.in",
            &long,
        ] {
            assert!(parse_email(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_email("nope").unwrap_err().to_string(),
            r#"invalid e-mail address "nope""#
        );
    }

    #[test]
    fn names() {
        assert_eq!(parse_name("first_name", "  Asha "), Ok("Asha".into()));
        assert_eq!(parse_name("first_name", ""), Ok(String::new()));
        assert_eq!(
            parse_name("last_name", &"é".repeat(100)).map(|s| s.chars().count()),
            Ok(100)
        );
        let err = parse_name("last_name", &"é".repeat(101)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "last_name must be at most 100 characters without control characters"
        );
        assert!(parse_name("first_name", "a\tb").is_err());
    }
}
