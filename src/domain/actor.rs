//! Who is acting: the signed-in account as the use-cases see it, without
//! the transport that authenticated it (a bearer token, a session cookie).

use uuid::Uuid;

use super::role::{AccountType, Capability, LeadScope};

/// The account a use-case acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user's id.
    pub id: Uuid,
    /// The user's login (e-mail): what leads are assigned to and what
    /// history entries name.
    pub login: String,
    /// The user's account type.
    pub role: AccountType,
}

impl Actor {
    /// Whether the role has `cap` at all.
    pub fn can(&self, cap: Capability) -> bool {
        self.role.can(cap)
    }

    /// The telecaller login this actor's leads are limited to, if any.
    pub fn lead_scope(&self) -> Option<String> {
        match self.role.leads_scope() {
            LeadScope::OwnOnly => Some(self.login.clone()),
            LeadScope::All => None,
        }
    }

    /// The one masking decision: document numbers are masked for everyone
    /// who may not see them unmasked, in the API, on pages and in exports.
    pub fn masks_pii(&self) -> bool {
        !self.can(Capability::SeeUnmaskedPii)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: AccountType) -> Actor {
        Actor {
            id: Uuid::nil(),
            login: "tc@pulse.example".into(),
            role,
        }
    }

    #[test]
    fn scope_and_masking_follow_the_role() {
        for role in AccountType::ALL {
            let a = actor(role);
            assert_eq!(
                a.lead_scope().is_some(),
                role == AccountType::Telecaller,
                "{role}"
            );
            assert_eq!(a.masks_pii(), role != AccountType::MasterAdmin, "{role}");
        }
        assert_eq!(
            actor(AccountType::Telecaller).lead_scope().as_deref(),
            Some("tc@pulse.example")
        );
    }
}
