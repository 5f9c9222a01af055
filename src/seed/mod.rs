//! Demo data for `pulse seed`: realistic, deterministic leads (same count
//! and seed → the same leads), generated without I/O so tests and the CLI
//! share it.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::domain::{Lead, RemarkEntry, Stage, StatusEntry, today_ist};

/// The demo telecallers (the same logins as `anchors/gen_leads.py`), with
/// given and family names.
pub const TELECALLERS: [(&str, &str, &str); 12] = [
    ("priya.tc@pulse.example", "Priya", "S"),
    ("divya.tc@pulse.example", "Divya", "R"),
    ("karthik.tc@pulse.example", "Karthik", "M"),
    ("lakshmi.tc@pulse.example", "Lakshmi", "N"),
    ("suresh.tc@pulse.example", "Suresh", "K"),
    ("anitha.tc@pulse.example", "Anitha", "P"),
    ("meena.tc@pulse.example", "Meena", "V"),
    ("arun.tc@pulse.example", "Arun", "Kumar"),
    ("fathima.tc@pulse.example", "Fathima", "B"),
    ("revathi.tc@pulse.example", "Revathi", "J"),
    ("vignesh.tc@pulse.example", "Vignesh", "T"),
    ("kavya.tc@pulse.example", "Kavya", "Iyer"),
];

/// The password of every demo telecaller account (demo data only).
pub const DEMO_PASSWORD: &str = "pulse-demo-2025";

const LATIN_FIRST: &[&str] = &[
    "Murugan",
    "Senthil",
    "Karthik",
    "Saravanan",
    "Selvam",
    "Balaji",
    "Ganesh",
    "Venkatesh",
    "Ramesh",
    "Suresh",
    "Rajesh",
    "Mahesh",
    "Prakash",
    "Arun",
    "Vignesh",
    "Dinesh",
    "Manikandan",
    "Prabhu",
    "Vijay",
    "Ajith",
    "Surya",
    "Gopi",
    "Kumar",
    "Siva",
    "Mohan",
    "Anand",
    "Ravi",
    "Muthu",
    "Kannan",
    "Naveen",
    "Abdul",
    "Mohammed",
    "Imran",
    "Joseph",
    "Antony",
    "Lakshmi",
    "Priya",
    "Divya",
    "Kavitha",
    "Meena",
    "Amit",
    "Rahul",
    "Vikas",
    "Sanjay",
    "Deepak",
    "Raju",
];
const LATIN_LAST: &[&str] = &[
    "Kumar",
    "Raj",
    "Selvam",
    "Pandian",
    "Subramanian",
    "Krishnan",
    "Natarajan",
    "Pillai",
    "Nair",
    "Iyer",
    "Reddy",
    "Naidu",
    "Rao",
    "Shaikh",
    "Khan",
    "D'Souza",
    "Fernandes",
    "Singh",
    "Yadav",
    "Sharma",
    "Das",
    "Mishra",
    "Arumugam",
    "Perumal",
    "Chandran",
];
const DEV_FIRST: &[&str] = &[
    "राजेश",
    "सुरेश",
    "अमित",
    "मनोज",
    "रवि",
    "विकास",
    "पूजा",
    "सुनीता",
];
const DEV_LAST: &[&str] = &["कुमार", "यादव", "शर्मा", "सिंह", "वर्मा", "गुप्ता"];
const TAM_FIRST: &[&str] = &[
    "முருகன்",
    "செந்தில்",
    "கார்த்திக்",
    "சரவணன்",
    "லக்ஷ்மி",
    "பிரியா",
    "கணேஷ்",
];
const TAM_LAST: &[&str] = &["குமார்", "ராஜ்", "செல்வம்", "பாண்டியன்", "ராமசாமி"];
const LOCATIONS: &[&str] = &[
    "Tambaram",
    "Velachery",
    "Ambattur",
    "Guindy",
    "T. Nagar",
    "Porur",
    "Avadi",
    "Chromepet",
    "Anna Nagar",
    "Adyar",
    "Perambur",
    "Kanchipuram",
    "Chengalpattu",
    "Vellore",
    "Bengaluru",
];
const SOURCES: &[&str] = &[
    "Facebook Ad",
    "Naukri",
    "Apna",
    "WorkIndia",
    "Referral",
    "Walk-in Guindy",
    "Walk-in Porur",
    "Job Mela Tambaram",
    "Instagram",
    "Website",
];
const VEHICLES: &[&str] = &["e-rickshaw", "e-auto", "2W EV", "4W EV"];
const EXPERIENCE: &[&str] = &[
    "Fresher", "6 months", "1 year", "2 years", "3 years", "5 years",
];
const REMARKS: &[&str] = &[
    "Called, no answer",
    "Switched off",
    "Will visit hub on Monday",
    "Interested in e-auto, wants daily payout",
    "DL and Aadhar received; PAN pending",
    "Busy, call back after 6pm",
    "Speaks Tamil only",
    "மாலை 5 மணிக்கு அழைக்கவும்",
    "बाद में कॉल करें",
    "👍 confirmed",
    "Deposit ₹2,000 paid",
    "Training batch 12, slot 10am-1pm",
    "=2000+500 deposit collected",
    "Asked about salary, said \"will think\"",
];
/// Weights of S1…S4, as in the original data (~72% still filtering).
const STAGE_WEIGHTS: [u32; 4] = [72, 14, 8, 6];
/// 2025-06-01T00:00:00Z; demo data spans the 540 days after it.
const BASE_SECS: i64 = 1_748_736_000;
const SPAN_SECS: i64 = 540 * 86_400;
/// Mobile numbers are `6_000_000_000 + (i * STRIDE + offset) mod 4e9`: a
/// bijection on the 4e9 numbers starting 6–9 (STRIDE is odd and not a
/// multiple of 5, so coprime with 4e9), hence unique for any N ≤ 4e9.
const PHONE_SPACE: u64 = 4_000_000_000;
const STRIDE: u64 = 2_654_435_761;

/// An endless, deterministic stream of demo leads.
pub struct DemoLeads {
    rng: StdRng,
    next: u64,
    offset: u64,
}

impl DemoLeads {
    /// The stream for `seed`.
    pub fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let offset = rng.gen_range(0..PHONE_SPACE);
        Self {
            rng,
            next: 0,
            offset,
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.gen_range(0..items.len())]
    }

    fn maybe(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn name(&mut self) -> String {
        match self.rng.gen_range(0..100) {
            0..=9 => format!("{} {}", self.pick(DEV_FIRST), self.pick(DEV_LAST)),
            10..=19 => format!("{} {}", self.pick(TAM_FIRST), self.pick(TAM_LAST)),
            20..=34 => {
                let initial = char::from(b'A' + self.rng.gen_range(0..26u8));
                format!("{initial}. {}", self.pick(LATIN_FIRST))
            }
            _ => format!("{} {}", self.pick(LATIN_FIRST), self.pick(LATIN_LAST)),
        }
    }

    fn digits(&mut self, n: u32) -> String {
        let v = self.rng.gen_range(0..10u64.pow(n));
        format!("{v:0width$}", width = n as usize)
    }

    fn remarks(&mut self) -> Option<String> {
        if self.maybe(0.3) {
            return None;
        }
        let k = self.rng.gen_range(1..=3);
        let sep = if self.maybe(0.15) { "\n" } else { "; " };
        let parts: Vec<&str> = (0..k).map(|_| self.pick(REMARKS)).collect();
        Some(parts.join(sep))
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

impl Iterator for DemoLeads {
    type Item = Lead;

    fn next(&mut self) -> Option<Lead> {
        let i = self.next;
        self.next += 1;
        let phone =
            6_000_000_000 + (i.wrapping_mul(STRIDE) % PHONE_SPACE + self.offset) % PHONE_SPACE;
        let stage_roll = self.rng.gen_range(0..100);
        let stage_index = STAGE_WEIGHTS
            .iter()
            .scan(0, |acc, w| {
                *acc += w;
                Some(*acc)
            })
            .position(|upto| stage_roll < upto)
            .unwrap_or(0);
        let stage = Stage::all()[stage_index];
        let status = self.pick(stage.statuses());
        let created = BASE_SECS + self.rng.gen_range(0..SPAN_SECS);
        let ms = self.rng.gen_range(0..1000);
        let created_at = at(created) + Duration::milliseconds(ms);
        let updated_at = created_at + Duration::seconds(self.rng.gen_range(0..30 * 86_400));
        let telecaller = self
            .maybe(0.85)
            .then(|| self.pick(&TELECALLERS).0.to_owned());
        let actor = telecaller
            .clone()
            .unwrap_or_else(|| "ops.admin@pulse.example".into());
        let called = status != "New" && self.maybe(0.8);
        let last_called = called.then_some(updated_at);
        let callback_date = status
            .starts_with("Call back")
            .then(|| today_ist(updated_at) + Duration::days(self.rng.gen_range(1..30)));
        let docs = [0.05, 0.6, 0.85, 0.9][stage_index];
        let remarks = self.remarks();
        let remarks_history = remarks
            .iter()
            .map(|r| RemarkEntry {
                remark: r.clone(),
                updated_by: actor.clone(),
                updated_at,
            })
            .collect();
        let mut status_history: Vec<StatusEntry> = Stage::all()[..stage_index]
            .iter()
            .map(|s| StatusEntry {
                status: s.completion_status().to_owned(),
                stage: *s,
                changed_by: actor.clone(),
                changed_at: created_at,
            })
            .collect();
        if status != "New" {
            status_history.push(StatusEntry {
                status: status.to_owned(),
                stage,
                changed_by: actor.clone(),
                changed_at: updated_at,
            });
        }
        let location = self.pick(LOCATIONS);
        let import_date: NaiveDate = today_ist(created_at);
        #[allow(clippy::needless_update)] // see `..Lead::default()` below
        Some(Lead {
            id: uuid::Builder::from_random_bytes(self.rng.r#gen()).into_uuid(),
            name: self.name(),
            phone_number: phone.to_string(),
            email: self
                .maybe(0.3)
                .then(|| format!("driver{}@example.com", 10_000 + i)),
            vehicle: self.maybe(0.8).then(|| self.pick(VEHICLES).to_owned()),
            driving_license: Some(if self.maybe(0.75) { "Yes" } else { "No" }.to_owned()),
            experience: self.maybe(0.8).then(|| self.pick(EXPERIENCE).to_owned()),
            interested_ev: Some(if self.maybe(0.7) { "Yes" } else { "No" }.to_owned()),
            monthly_salary: self
                .maybe(0.7)
                .then(|| (self.rng.gen_range(30..120) * 250).to_string()),
            residing_chennai: Some(if self.maybe(0.85) { "Yes" } else { "No" }.to_owned()),
            current_location: Some(location.to_owned()),
            preferred_shift: self
                .maybe(0.7)
                .then(|| self.pick(&["Day", "Night"]).to_owned()),
            allotted_shift: (stage == Stage::S4).then(|| "Day".to_owned()),
            default_vehicle: (stage == Stage::S4).then(|| format!("TN 09 AB {}", self.digits(4))),
            end_date: (status == "Terminated").then(|| today_ist(updated_at)),
            dl_no: self.maybe(docs).then(|| format!("TN09{}", self.digits(11))),
            badge_no: self
                .maybe(docs * 0.8)
                .then(|| format!("B{}", self.digits(6))),
            aadhar_card: self.maybe(docs).then(|| format!("7{}", self.digits(11))),
            pan_card: self
                .maybe(docs * 0.7)
                .then(|| format!("ABCPK{}Z", self.digits(4))),
            gas_bill: self.maybe(docs * 0.4).then(|| self.digits(9)),
            bank_passbook: self.maybe(docs * 0.6).then(|| self.digits(12)),
            stage,
            status: status.to_owned(),
            assigned_date: telecaller.as_ref().map(|_| import_date),
            assigned_telecaller: telecaller,
            callback_date,
            last_called,
            source: Some(self.pick(SOURCES).to_owned()),
            import_date: Some(import_date),
            remarks,
            remarks_history,
            status_history,
            created_at,
            updated_at,
            // a lead field added later is empty in seeds until it is generated
            ..Lead::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::domain::validate_lead;

    #[test]
    fn deterministic_valid_and_unique() {
        let a: Vec<Lead> = DemoLeads::new(7).take(5000).collect();
        let b: Vec<Lead> = DemoLeads::new(7).take(5000).collect();
        assert_eq!(a, b, "same seed, same leads");
        let phones: HashSet<_> = a.iter().map(|l| l.phone_number.clone()).collect();
        assert_eq!(phones.len(), a.len());
        let stages: HashSet<_> = a.iter().map(|l| l.stage).collect();
        assert_eq!(stages.len(), 4);
        for lead in &a {
            let mut checked = lead.clone();
            validate_lead(&mut checked).expect("demo lead is valid");
            assert_eq!(&checked, lead, "already canonical");
        }
        assert!(a.iter().any(|l| {
            l.name
                .chars()
                .any(|c| ('\u{0900}'..='\u{097f}').contains(&c))
        }));
        assert!(a.iter().any(|l| {
            l.name
                .chars()
                .any(|c| ('\u{0b80}'..='\u{0bff}').contains(&c))
        }));
        assert!(
            a.iter()
                .any(|l| l.remarks.as_deref().is_some_and(|r| r.contains('\n')))
        );
    }
}
