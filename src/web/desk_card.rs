//! The desk's parts: a lead's card, the figures and list tabs at the top,
//! and the desk's place (day, list, page, whose) that every link and form
//! carries.

use chrono::NaiveDate;
use uuid::Uuid;

use super::lead_detail::ist_text;
use super::leads_list::thousands;
use super::page::{Opt, encode};
use crate::domain::{CallOutcome, Status, to_ist};
use crate::service::calls::LeadView;
use crate::service::desk::DayTotals;

/// Where on the desk a link or form is: the day, the list, its page and
/// (for those who may open any desk) whose.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// `YYYY-MM-DD`, empty for today.
    pub date: String,
    /// One of the desk lists, or empty for the default.
    pub list: String,
    /// The page, or empty for the first.
    pub page: String,
    /// Whose desk, empty for one's own.
    pub telecaller: String,
    /// More query parameters (after a plain post: what was done).
    pub extra: Vec<(&'static str, String)>,
}

impl Context {
    /// `?…` for this place, or empty.
    pub fn query(&self) -> String {
        match self.href().split_once('?') {
            Some((_, q)) => format!("?{q}"),
            None => String::new(),
        }
    }

    /// `/desk?…` for this place.
    pub fn href(&self) -> String {
        let mut q: Vec<String> = [
            ("telecaller", &self.telecaller),
            ("date", &self.date),
            ("list", &self.list),
            ("page", &self.page),
        ]
        .into_iter()
        // page 1 is the default
        .filter(|(k, v)| !(v.trim().is_empty() || (*k == "page" && v.trim() == "1")))
        .map(|(k, v)| format!("{k}={}", encode(v.trim())))
        .collect();
        q.extend(self.extra.iter().map(|(k, v)| format!("{k}={}", encode(v))));
        if q.is_empty() {
            "/desk".into()
        } else {
            format!("/desk?{}", q.join("&"))
        }
    }
}

/// A message or an error on one card.
#[derive(Clone, Debug, Default)]
pub struct CardNote {
    /// Which field the error belongs to (`outcome`, `status`, `remark`), or
    /// empty for a message.
    pub field: &'static str,
    /// What to say.
    pub text: String,
    /// The remark as typed, kept after an error.
    pub remark: String,
}

impl CardNote {
    /// The message after `what` was done (a call outcome's stored name,
    /// `status` or `remark`).
    pub fn done(what: &str) -> Option<CardNote> {
        let text = match what {
            "called" => "Call recorded.",
            "connected" => "Recorded: connected.",
            "no_response" => "Recorded: no response (status RNR).",
            "status" => "Status saved.",
            "remark" => "Remark saved.",
            _ => return None,
        };
        Some(CardNote {
            text: text.into(),
            ..Default::default()
        })
    }

    /// An error beside `field`.
    pub fn error(field: &'static str, text: &str) -> CardNote {
        CardNote {
            field,
            text: text.into(),
            remark: String::new(),
        }
    }

    /// True for an error (not a message).
    pub fn is_error(&self) -> bool {
        !self.field.is_empty()
    }
}

/// One lead's card.
pub struct Card {
    pub id: Uuid,
    pub name: String,
    /// "98400 12345".
    pub phone: String,
    /// `tel:+919840012345`.
    pub tel: String,
    pub stage: &'static str,
    pub status: String,
    /// Location, source: short facts under the name.
    pub facts: Vec<String>,
    /// "Not called yet" / "Last call 14:05 · connected".
    pub last_call: String,
    /// Called on the desk's day.
    pub called_today: bool,
    /// "Callback due 2026-12-03"; `overdue` when before the day.
    pub callback: Option<String>,
    pub overdue: bool,
    /// The current remark.
    pub remark_now: String,
    /// The lead's stage's statuses, the current one chosen.
    pub statuses: Vec<Opt>,
    /// Shows the action forms (a telecaller on their own desk).
    pub can_act: bool,
    /// The desk's place as a query (`?date=…&list=…`, or empty), on every
    /// action, so a plain post comes back to the same list.
    pub back: String,
    pub note: Option<CardNote>,
}

impl Card {
    /// The error for `field`, if any.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.note
            .as_ref()
            .filter(|n| n.field == field)
            .map(|n| n.text.as_str())
    }

    /// The message (not an error), if any.
    pub fn message(&self) -> Option<&str> {
        self.note
            .as_ref()
            .filter(|n| !n.is_error())
            .map(|n| n.text.as_str())
    }

    /// The remark box's text (kept after an error).
    pub fn remark_typed(&self) -> &str {
        self.note.as_ref().map_or("", |n| n.remark.as_str())
    }
}

/// "98400 12345" for a 10-digit mobile, else as stored.
fn spaced(phone: &str) -> String {
    if phone.len() == 10 && phone.bytes().all(|b| b.is_ascii_digit()) {
        format!("{} {}", &phone[..5], &phone[5..])
    } else {
        phone.to_string()
    }
}

fn outcome_text(o: CallOutcome) -> &'static str {
    match o {
        CallOutcome::Called => "called",
        CallOutcome::Connected => "connected",
        CallOutcome::NoResponse => "no response",
        CallOutcome::StatusChange => "status change",
    }
}

/// The card of `v` on the desk of `day`.
pub fn card(
    v: &LeadView,
    day: NaiveDate,
    ctx: &Context,
    can_act: bool,
    note: Option<CardNote>,
) -> Card {
    let lead = &v.lead;
    let last = v.calling_history.last();
    let called_today = lead
        .last_called
        .is_some_and(|t| to_ist(t).date_naive() == day);
    let last_call = match (lead.last_called, last) {
        (None, _) => "Not called yet".to_string(),
        (Some(t), call) => {
            let when = if to_ist(t).date_naive() == day {
                to_ist(t).format("%H:%M").to_string()
            } else {
                ist_text(t)
            };
            match call.filter(|c| c.timestamp == t) {
                Some(c) => format!("Last call {when} · {}", outcome_text(c.outcome)),
                None => format!("Last call {when}"),
            }
        }
    };
    let stage = lead.stage;
    let current = Status::parse(&lead.status).ok().map(|s| s.name());
    let statuses = stage
        .statuses()
        .iter()
        .map(|s| Opt {
            value: (*s).to_string(),
            selected: Some(*s) == current,
        })
        .collect();
    let facts = [lead.current_location.as_deref(), lead.source.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string)
        .collect();
    Card {
        id: lead.id,
        name: lead.name.clone(),
        phone: spaced(&lead.phone_number),
        tel: format!("tel:+91{}", lead.phone_number),
        stage: stage.code(),
        status: lead.status.clone(),
        facts,
        last_call,
        called_today,
        callback: lead.callback_date.map(|d| format!("Callback due {d}")),
        overdue: lead.callback_date.is_some_and(|d| d < day),
        remark_now: lead.remarks.clone().unwrap_or_default(),
        statuses,
        can_act,
        back: ctx.query(),
        note,
    }
}

/// One figure at the top.
pub struct Figure {
    pub label: &'static str,
    pub value: String,
    pub key: &'static str,
}

/// One list's tab.
pub struct Tab {
    pub label: &'static str,
    pub total: String,
    pub pending: String,
    pub href: String,
    pub current: bool,
}

/// The figures and the tabs (swapped out of band after an action).
pub struct Head {
    pub figures: Vec<Figure>,
    pub tabs: Vec<Tab>,
}

/// The list's name for people.
pub fn list_label(name: &str) -> &'static str {
    match name {
        "today" => "Assigned",
        "callbacks_due" => "Callbacks due",
        "overdue" => "Overdue",
        _ => "Leads",
    }
}

impl Head {
    /// From the day's totals; `current` is the list shown.
    pub fn new(t: &DayTotals, current: &str, ctx: &Context) -> Head {
        let f = &t.figures;
        let figure = |key, label, n: i64| Figure {
            key,
            label,
            value: thousands(n),
        };
        Head {
            figures: vec![
                figure("calls", "Calls made", f.calls_made),
                figure("connected", "Connected", f.connected),
                figure("no-response", "No response", f.no_response),
                figure("pending", "Pending", t.pending),
            ],
            tabs: t
                .lists
                .iter()
                .map(|l| Tab {
                    label: list_label(l.name),
                    total: thousands(l.total),
                    pending: thousands(l.pending),
                    href: Context {
                        list: l.name.to_string(),
                        page: String::new(),
                        extra: Vec::new(),
                        ..ctx.clone()
                    }
                    .href(),
                    current: l.name == current,
                })
                .collect(),
        }
    }

    /// No desk chosen yet.
    pub fn empty() -> Head {
        Head {
            figures: Vec::new(),
            tabs: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::desk::DESK_LISTS;

    #[test]
    fn desk_links_keep_their_place() {
        let c = Context {
            date: "2026-03-10".into(),
            list: "overdue".into(),
            page: "1".into(),
            telecaller: "priya.tc@pulse.example".into(),
            extra: Vec::new(),
        };
        assert_eq!(
            c.href(),
            "/desk?telecaller=priya.tc%40pulse.example&date=2026-03-10&list=overdue"
        );
        assert_eq!(Context::default().href(), "/desk");
        assert_eq!(
            DESK_LISTS.map(list_label),
            ["Assigned", "Callbacks due", "Overdue"]
        );
    }

    #[test]
    fn phones_read_in_two_groups() {
        assert_eq!(spaced("9840012345"), "98400 12345");
        assert_eq!(spaced("12345"), "12345");
    }
}
