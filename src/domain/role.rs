//! Account types, account states and what each type may do (DESIGN §2).
//!
//! Every route asks [`AccountType::can`] for its capability, so the table in
//! DESIGN §2 is encoded exactly once, here. Object-level checks ("own only")
//! are the caller's, driven by [`AccountType::leads_scope`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kind of account, stored and serialised in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountType {
    /// Everything, including unmasked PII, backups and other users' exports.
    MasterAdmin,
    /// Runs the team: users (never a master admin), deletes, merges.
    Admin,
    /// Imports, assigns and exports leads.
    OpsTeam,
    /// Calls the leads assigned to them, and sees only those.
    Telecaller,
    /// Read-only access to leads.
    Standard,
}

/// What a route needs. One variant per row of the DESIGN §2 table, plus
/// reading the audit log (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Read leads, list them, see the status summary.
    ReadLeads,
    /// Create and edit leads, set status, add remarks, mark a call done.
    EditLeads,
    /// Delete leads, one or in bulk.
    DeleteLeads,
    /// Assign, unassign, change the assignment date.
    AssignLeads,
    /// Merge lead sources.
    MergeSources,
    /// Import spreadsheets and JSON lines.
    Import,
    /// Export (stream or background job) and see one's own export history.
    Export,
    /// See document numbers unmasked, in the API and in exports.
    SeeUnmaskedPii,
    /// See and download other users' export jobs and files.
    SeeOthersExports,
    /// See and cancel other users' import jobs and read their import reports.
    SeeOthersImports,
    /// Open the telecaller desk and summary.
    TelecallerDesk,
    /// List, create, approve, disable users, change roles, reset passwords.
    ManageUsers,
    /// Create, list, download, delete and restore backups.
    Backups,
    /// Read the audit log of exports, imports, bulk deletes and restores
    /// (DESIGN §6).
    ReadAudit,
    /// Open the dashboard: funnel, statuses, sources, telecaller
    /// performance (DESIGN §8: admins and ops).
    Dashboard,
}

/// Which leads an account may see and touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeadScope {
    /// Every lead.
    All,
    /// Only leads whose `assigned_telecaller` is the account's login; other
    /// leads answer 404, never 403, so ids cannot be probed.
    OwnOnly,
}

impl AccountType {
    /// Whether this role may read an export file written with `mask_pii` as it was
    /// (the masking was decided by its creator's role at creation): an unmasked file is
    /// for roles that see PII unmasked *now*, so a demoted owner loses it (review M2).
    pub fn may_read_export(self, mask_pii: bool) -> bool {
        mask_pii || self.can(Capability::SeeUnmaskedPii)
    }

    /// Every account type, most powerful first.
    pub const ALL: [AccountType; 5] = [
        AccountType::MasterAdmin,
        AccountType::Admin,
        AccountType::OpsTeam,
        AccountType::Telecaller,
        AccountType::Standard,
    ];

    /// The stored name, e.g. `"ops_team"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::MasterAdmin => "master_admin",
            AccountType::Admin => "admin",
            AccountType::OpsTeam => "ops_team",
            AccountType::Telecaller => "telecaller",
            AccountType::Standard => "standard",
        }
    }

    /// Whether this account type has `cap` at all. For a telecaller,
    /// `ReadLeads`, `EditLeads` and `TelecallerDesk` are limited to their own
    /// leads ([`Self::leads_scope`]); a `false` here means 403.
    pub fn can(self, cap: Capability) -> bool {
        use AccountType::*;
        use Capability::*;
        match cap {
            ReadLeads => true,
            EditLeads | TelecallerDesk => {
                matches!(self, MasterAdmin | Admin | OpsTeam | Telecaller)
            }
            AssignLeads | Import | Export | Dashboard => {
                matches!(self, MasterAdmin | Admin | OpsTeam)
            }
            DeleteLeads | MergeSources | ManageUsers | SeeOthersImports => {
                matches!(self, MasterAdmin | Admin)
            }
            SeeUnmaskedPii | SeeOthersExports | Backups | ReadAudit => self == MasterAdmin,
        }
    }

    /// Which leads this account type sees: telecallers only their own.
    pub fn leads_scope(self) -> LeadScope {
        match self {
            AccountType::Telecaller => LeadScope::OwnOnly,
            _ => LeadScope::All,
        }
    }

    /// Whether this account may manage an account of type `target` (or grant
    /// the role `target`): an admin never touches or creates a master admin,
    /// otherwise an admin could take over the one account that sees PII.
    pub fn can_manage(self, target: AccountType) -> bool {
        match self {
            AccountType::MasterAdmin => true,
            AccountType::Admin => target != AccountType::MasterAdmin,
            _ => false,
        }
    }
}

/// The input named no account type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown account type {value:?}: expected one of master_admin, admin, ops_team, telecaller, standard"
)]
pub struct AccountTypeError {
    /// The rejected input.
    pub value: String,
}

impl FromStr for AccountType {
    type Err = AccountTypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| AccountTypeError {
                value: s.to_owned(),
            })
    }
}

impl fmt::Display for AccountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The life cycle of an account: self-registered accounts wait in
/// `Pending` until an admin approves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Registered, not yet approved; cannot sign in.
    Pending,
    /// May sign in.
    Active,
    /// Switched off; its sessions end at once.
    Disabled,
}

impl AccountStatus {
    /// Every state, in life-cycle order.
    pub const ALL: [AccountStatus; 3] = [
        AccountStatus::Pending,
        AccountStatus::Active,
        AccountStatus::Disabled,
    ];

    /// The stored name, e.g. `"pending"`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Pending => "pending",
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
        }
    }
}

/// The input named no account status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown account status {value:?}: expected one of pending, active, disabled")]
pub struct AccountStatusError {
    /// The rejected input.
    pub value: String,
}

impl FromStr for AccountStatus {
    type Err = AccountStatusError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccountStatus::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| AccountStatusError {
                value: s.to_owned(),
            })
    }
}

impl fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Capability::*;

    /// DESIGN §2, column order master_admin, admin, ops_team, telecaller,
    /// standard ("own only" and "any" count as having the capability).
    const TABLE: &[(Capability, [bool; 5])] = &[
        (ReadLeads, [true, true, true, true, true]),
        (EditLeads, [true, true, true, true, false]),
        (DeleteLeads, [true, true, false, false, false]),
        (AssignLeads, [true, true, true, false, false]),
        (MergeSources, [true, true, false, false, false]),
        (Import, [true, true, true, false, false]),
        (Export, [true, true, true, false, false]),
        (SeeUnmaskedPii, [true, false, false, false, false]),
        (SeeOthersExports, [true, false, false, false, false]),
        (SeeOthersImports, [true, true, false, false, false]),
        (TelecallerDesk, [true, true, true, true, false]),
        (ManageUsers, [true, true, false, false, false]),
        (Backups, [true, false, false, false, false]),
        (ReadAudit, [true, false, false, false, false]),
        (Dashboard, [true, true, true, false, false]),
    ];

    #[test]
    fn capability_table_matches_design() {
        assert_eq!(TABLE.len(), 15, "one row per capability");
        for (cap, row) in TABLE {
            for (role, want) in AccountType::ALL.into_iter().zip(row) {
                assert_eq!(role.can(*cap), *want, "{role} {cap:?}");
            }
        }
    }

    #[test]
    fn only_telecallers_are_scoped() {
        for role in AccountType::ALL {
            let want = if role == AccountType::Telecaller {
                LeadScope::OwnOnly
            } else {
                LeadScope::All
            };
            assert_eq!(role.leads_scope(), want, "{role}");
        }
    }

    #[test]
    fn admins_never_manage_master_admins() {
        use AccountType::*;
        for target in AccountType::ALL {
            assert!(MasterAdmin.can_manage(target));
            assert_eq!(Admin.can_manage(target), target != MasterAdmin, "{target}");
            for role in [OpsTeam, Telecaller, Standard] {
                assert!(!role.can_manage(target), "{role} -> {target}");
            }
        }
    }

    #[test]
    fn names_round_trip_through_str_and_serde() {
        for role in AccountType::ALL {
            assert_eq!(role.as_str().parse::<AccountType>(), Ok(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<AccountType>(&json).unwrap(), role);
        }
        for st in AccountStatus::ALL {
            assert_eq!(st.as_str().parse::<AccountStatus>(), Ok(st));
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(json, format!("\"{}\"", st.as_str()));
        }
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let err = "superuser".parse::<AccountType>().unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"unknown account type "superuser": expected one of master_admin, admin, ops_team, telecaller, standard"#
        );
        assert!("Admin".parse::<AccountType>().is_err(), "names are exact");
        let err = "gone".parse::<AccountStatus>().unwrap_err();
        assert!(err.to_string().contains("pending, active, disabled"));
    }
}
