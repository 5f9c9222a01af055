//! The original's explicit stage progression, `POST …/leads/{id}/sync-stage`
//! (COMPAT §2.5): a lead standing in its stage's completion status moves to
//! the next stage's first status; from S2 only with the documents the
//! original required. Pulse moves a lead on as soon as a completion status
//! is set (DESIGN §4, [`super::apply_status`]), so a lead saved through Pulse
//! rarely stands in one; leads imported or restored as they were can.

use super::{Lead, Stage};

/// What a sync would do with a lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncStage {
    /// Move to `stage`, status `status` (the next stage's first status).
    Advance {
        /// The next stage.
        stage: Stage,
        /// Its first status.
        status: &'static str,
    },
    /// The lead is not in its stage's completion status, which it needs.
    NeedsStatus {
        /// The completion status of its stage.
        required: &'static str,
    },
    /// S2 Verified without the documents the original required: these
    /// fields are empty (`gas_bill or bank_passbook` counts as one).
    MissingDocuments(Vec<&'static str>),
    /// S4: no stage follows.
    Final,
}

fn filled(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.trim().is_empty())
}

/// The original's rules: S1 + Highly Interested → S2; S2 + Verified → S3
/// only with `dl_no`, `aadhar_card` and `gas_bill` or `bank_passbook`; S3 +
/// Approved → S4; anything else stays.
pub fn sync_stage(lead: &Lead) -> SyncStage {
    let Some(next) = lead.stage.next() else {
        return SyncStage::Final;
    };
    let required = lead.stage.completion_status();
    if !lead.status.trim().eq_ignore_ascii_case(required) {
        return SyncStage::NeedsStatus { required };
    }
    if lead.stage == Stage::S2 {
        let mut missing = Vec::new();
        if !filled(&lead.dl_no) {
            missing.push("dl_no");
        }
        if !filled(&lead.aadhar_card) {
            missing.push("aadhar_card");
        }
        if !filled(&lead.gas_bill) && !filled(&lead.bank_passbook) {
            missing.push("gas_bill or bank_passbook");
        }
        if !missing.is_empty() {
            return SyncStage::MissingDocuments(missing);
        }
    }
    SyncStage::Advance {
        stage: next,
        status: next.first_status(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::LeadInput;
    use uuid::Uuid;

    fn lead(stage: Stage, status: &str) -> Lead {
        let input = LeadInput {
            name: "Ravi".into(),
            phone_number: "9876543210".into(),
            ..LeadInput::default()
        };
        let mut l = input.validate().unwrap().into_lead(
            Uuid::nil(),
            "ops",
            "2026-03-01T05:00:00Z".parse().unwrap(),
        );
        l.stage = stage;
        l.status = status.into();
        l
    }

    #[test]
    fn the_original_progression() {
        assert_eq!(
            sync_stage(&lead(Stage::S1, "Highly Interested")),
            SyncStage::Advance {
                stage: Stage::S2,
                status: "Docs Upload Pending"
            }
        );
        assert_eq!(
            sync_stage(&lead(Stage::S1, "New")),
            SyncStage::NeedsStatus {
                required: "Highly Interested"
            }
        );
        assert_eq!(
            sync_stage(&lead(Stage::S3, "Approved")),
            SyncStage::Advance {
                stage: Stage::S4,
                status: "CT Pending"
            }
        );
        assert_eq!(sync_stage(&lead(Stage::S4, "DONE!")), SyncStage::Final);
    }

    #[test]
    fn verified_needs_the_documents() {
        let mut l = lead(Stage::S2, "Verified");
        assert_eq!(
            sync_stage(&l),
            SyncStage::MissingDocuments(vec!["dl_no", "aadhar_card", "gas_bill or bank_passbook"])
        );
        l.dl_no = Some("TN01".into());
        l.aadhar_card = Some("1234".into());
        l.bank_passbook = Some(" ".into());
        assert_eq!(
            sync_stage(&l),
            SyncStage::MissingDocuments(vec!["gas_bill or bank_passbook"])
        );
        l.bank_passbook = Some("SBI1".into());
        assert_eq!(
            sync_stage(&l),
            SyncStage::Advance {
                stage: Stage::S3,
                status: "Schedule Pending"
            }
        );
    }
}
