//! The lead (DESIGN §3), field for field as the original `driver_leads`
//! documents, so their JSON lines and clients carry over unchanged: its
//! rules (masking, status changes, remarks).

use chrono::{DateTime, Utc};

use super::error::{DomainError, MAX_HISTORY, MAX_REMARK_CHARS, check_text};
use super::ist::today_ist;
use super::pii::mask_document;
use super::pipeline::{Stage, Status, StatusChange, apply_status};

/// The lead's fields are the one list's (`lead_fields.rs`); its histories'
/// entries are in `lead_history.rs`.
pub use super::lead_fields::Lead;
pub use super::lead_history::{RemarkEntry, StatusEntry};

impl Lead {
    /// A copy with the six document numbers masked (see [`mask_document`]),
    /// for everyone but `master_admin`.
    pub fn masked(&self) -> Lead {
        let mut lead = self.clone();
        lead.mask_documents();
        lead
    }

    /// Masks the six document numbers in place, for an export that owns its
    /// rows and should not clone each one.
    pub fn mask_documents(&mut self) {
        for doc in self.documents_mut() {
            if let Some(value) = doc.as_mut() {
                *value = mask_document(value);
            }
        }
    }

    /// The six document numbers, in [`super::PII_FIELDS`] order.
    pub fn documents(&self) -> [Option<&str>; 6] {
        [
            self.dl_no.as_deref(),
            self.badge_no.as_deref(),
            self.aadhar_card.as_deref(),
            self.pan_card.as_deref(),
            self.gas_bill.as_deref(),
            self.bank_passbook.as_deref(),
        ]
    }

    fn documents_mut(&mut self) -> [&mut Option<String>; 6] {
        [
            &mut self.dl_no,
            &mut self.badge_no,
            &mut self.aadhar_card,
            &mut self.pan_card,
            &mut self.gas_bill,
            &mut self.bank_passbook,
        ]
    }

    /// Sets a status with the pipeline rules of [`apply_status`] ("today" is
    /// the IST date of `now`), appends to `status_history` — the completion
    /// status first when it moved the lead on, then where the lead landed —
    /// and bumps `updated_at`.
    pub fn set_status(
        &mut self,
        requested: Status,
        actor: &str,
        now: DateTime<Utc>,
    ) -> StatusChange {
        let change = apply_status(self.stage, requested, today_ist(now));
        if let Some(done) = change.completed {
            self.push_status(done.name(), done.stage(), actor, now);
        }
        self.push_status(change.status, change.stage, actor, now);
        self.stage = change.stage;
        self.status = change.status.to_owned();
        self.callback_date = change.callback_date;
        self.updated_at = now;
        change
    }

    fn push_status(&mut self, status: &str, stage: Stage, actor: &str, now: DateTime<Utc>) {
        self.status_history.push(StatusEntry {
            status: status.to_owned(),
            stage,
            changed_by: actor.to_owned(),
            changed_at: now,
        });
    }

    /// Replaces the current remark, keeps it in `remarks_history` and bumps
    /// `updated_at`. Rejects a NUL like every write path.
    pub fn add_remark(
        &mut self,
        remark: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        check_text("remarks", remark, MAX_REMARK_CHARS)?;
        if self.remarks_history.len() >= MAX_HISTORY {
            return Err(DomainError::TooMany {
                field: "remarks_history",
                max: MAX_HISTORY,
            });
        }
        self.remarks = Some(remark.to_owned());
        self.remarks_history.push(RemarkEntry {
            remark: remark.to_owned(),
            updated_by: actor.to_owned(),
            updated_at: now,
        });
        self.updated_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line 5 of `gen_leads.py 20 /tmp/domain-sample --formats jsonl`.
    const SAMPLE: &str = r#"{"id": "f85e06a1-1dad-49b2-92c2-1221409d3602", "name": "B. Deepak", "phone_number": "6743266541", "email": null, "vehicle": "2W EV", "driving_license": "Yes", "experience": null, "interested_ev": "Yes", "monthly_salary": null, "residing_chennai": "No", "current_location": "Kanchipuram", "preferred_shift": "Night", "allotted_shift": "Night", "default_vehicle": "TN 18 DA 4080", "end_date": null, "dl_no": "TN1820029470607", "badge_no": "36267", "aadhar_card": "548249957695", "pan_card": "LDEPQ7463D", "gas_bill": "7726978651", "bank_passbook": null, "stage": "S4", "status": "CT WIP", "assigned_telecaller": "arun.tc@pulse.example", "assigned_date": "2026-08-31", "callback_date": null, "last_called": "2026-09-09T12:08:47Z", "source": "Walk-in Porur", "import_date": "2026-08-29", "remarks": "Called, no answer, Police verification pending", "remarks_history": [{"remark": "Called, no answer, Police verification pending", "updated_by": "arun.tc@pulse.example", "updated_at": "2026-09-09T14:56:13.579Z"}], "status_history": [{"status": "Highly Interested", "stage": "S1", "changed_by": "arun.tc@pulse.example", "changed_at": "2026-09-01T04:10:13.484Z"}, {"status": "Verified", "stage": "S2", "changed_by": "arun.tc@pulse.example", "changed_at": "2026-09-03T23:45:33.762Z"}, {"status": "Approved", "stage": "S3", "changed_by": "arun.tc@pulse.example", "changed_at": "2026-09-06T19:20:53.932Z"}, {"status": "CT WIP", "stage": "S4", "changed_by": "ops.admin@pulse.example", "changed_at": "2026-09-09T14:56:13.579Z"}], "created_at": "2026-08-29T08:34:54.054Z", "updated_at": "2026-09-09T14:56:13.579Z"}"#;

    fn sample() -> Lead {
        serde_json::from_str(SAMPLE).expect("generated line parses")
    }

    #[test]
    fn parses_a_generated_line() {
        let lead = sample();
        assert_eq!(lead.id.to_string(), "f85e06a1-1dad-49b2-92c2-1221409d3602");
        assert_eq!(lead.stage, Stage::S4);
        assert_eq!(lead.status, "CT WIP");
        assert_eq!(lead.assigned_date, Some("2026-08-31".parse().unwrap()));
        assert_eq!(
            lead.last_called.unwrap().to_rfc3339(),
            "2026-09-09T12:08:47+00:00"
        );
        assert_eq!(lead.status_history.len(), 4);
        assert_eq!(lead.status_history[1].stage, Stage::S2);
        assert_eq!(lead.remarks_history[0].updated_by, "arun.tc@pulse.example");
        assert_eq!(lead.email, None);
    }

    /// `anchors/gen_leads.py` FIELDS, the original's column order.
    const FIELDS: [&str; 34] = [
        "id",
        "name",
        "phone_number",
        "email",
        "vehicle",
        "driving_license",
        "experience",
        "interested_ev",
        "monthly_salary",
        "residing_chennai",
        "current_location",
        "preferred_shift",
        "allotted_shift",
        "default_vehicle",
        "end_date",
        "dl_no",
        "badge_no",
        "aadhar_card",
        "pan_card",
        "gas_bill",
        "bank_passbook",
        "stage",
        "status",
        "assigned_telecaller",
        "assigned_date",
        "callback_date",
        "last_called",
        "source",
        "import_date",
        "remarks",
        "remarks_history",
        "status_history",
        "created_at",
        "updated_at",
    ];

    #[test]
    fn serialises_back_to_the_same_json_in_the_same_field_order() {
        let lead = sample();
        let out = serde_json::to_string(&lead).unwrap();
        let want: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        let got: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(got, want);
        // the keys appear in FIELDS order: each is found after the previous
        let mut from = 0;
        for f in FIELDS {
            let key = format!("\"{f}\":");
            let at = out[from..]
                .find(&key)
                .unwrap_or_else(|| panic!("{f} out of order: {out}"));
            from += at + key.len();
        }
    }

    #[test]
    fn missing_late_fields_and_legacy_stage_still_load() {
        let mut v: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        let obj = v.as_object_mut().unwrap();
        for f in [
            "allotted_shift",
            "default_vehicle",
            "end_date",
            "gas_bill",
            "remarks_history",
        ] {
            obj.remove(f);
        }
        obj.insert("stage".into(), "S4 - Customer Readiness".into());
        let lead: Lead = serde_json::from_value(v).unwrap();
        assert_eq!(lead.allotted_shift, None);
        assert!(lead.remarks_history.is_empty());
        assert_eq!(lead.stage, Stage::S4);
    }

    #[test]
    fn masked_hides_documents_only() {
        let lead = sample();
        let m = lead.masked();
        assert_eq!(m.dl_no.as_deref(), Some("XXXXXXXXXXX0607"));
        assert_eq!(m.badge_no.as_deref(), Some("X6267"));
        assert_eq!(m.aadhar_card.as_deref(), Some("XXXXXXXX7695"));
        assert_eq!(m.pan_card.as_deref(), Some("XXXXXX463D"));
        assert_eq!(m.gas_bill.as_deref(), Some("XXXXXX8651"));
        assert_eq!(m.bank_passbook, None);
        let mut back = m.clone();
        back.dl_no = lead.dl_no.clone();
        back.badge_no = lead.badge_no.clone();
        back.aadhar_card = lead.aadhar_card.clone();
        back.pan_card = lead.pan_card.clone();
        back.gas_bill = lead.gas_bill.clone();
        assert_eq!(back, lead, "nothing but the documents changed");
    }

    #[test]
    fn set_status_records_history_and_progresses() {
        let mut lead = sample();
        lead.stage = Stage::S1;
        lead.status = "Interested".into();
        lead.status_history.clear();
        // 20:00 UTC is already the next day in IST
        let now: DateTime<Utc> = "2026-09-10T20:00:00Z".parse().unwrap();
        let change = lead.set_status(
            Status::parse("highly interested").unwrap(),
            "priya.tc@pulse.example",
            now,
        );
        assert_eq!(
            (lead.stage, lead.status.as_str()),
            (Stage::S2, "Docs Upload Pending")
        );
        assert!(change.stage_changed);
        let hist: Vec<_> = lead
            .status_history
            .iter()
            .map(|e| (e.stage, e.status.as_str()))
            .collect();
        assert_eq!(
            hist,
            [
                (Stage::S1, "Highly Interested"),
                (Stage::S2, "Docs Upload Pending")
            ]
        );
        assert_eq!(lead.updated_at, now);

        lead.set_status(
            Status::parse("Call back 1W").unwrap(),
            "priya.tc@pulse.example",
            now,
        );
        assert_eq!(lead.stage, Stage::S1);
        assert_eq!(lead.callback_date, Some("2026-09-18".parse().unwrap()));
        lead.set_status(
            Status::parse("Interested").unwrap(),
            "priya.tc@pulse.example",
            now,
        );
        assert_eq!(lead.callback_date, None, "a stale callback is cleared");
        assert_eq!(lead.status_history.len(), 4);
    }

    #[test]
    fn add_remark_keeps_history_and_rejects_nul() {
        let mut lead = sample();
        let now: DateTime<Utc> = "2026-09-10T10:00:00Z".parse().unwrap();
        lead.add_remark("=2000+500 deposit", "a@b", now).unwrap();
        assert_eq!(lead.remarks.as_deref(), Some("=2000+500 deposit"));
        assert_eq!(lead.remarks_history.len(), 2);
        let err = lead.add_remark("nul\0inside", "a@b", now).unwrap_err();
        assert_eq!(err.field(), "remarks");
        assert_eq!(lead.remarks_history.len(), 2);
    }
}
