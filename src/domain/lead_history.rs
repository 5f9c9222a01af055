//! The entries of a lead's two histories.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::pipeline::Stage;

/// One entry of `remarks_history`: who wrote what, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemarkEntry {
    /// The remark text.
    pub remark: String,
    /// Login of the author.
    #[serde(default)]
    pub updated_by: String,
    /// When it was written.
    pub updated_at: DateTime<Utc>,
}

/// One entry of `status_history`: the status and stage a lead entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEntry {
    /// Status name as recorded (canonical for changes made by Pulse).
    pub status: String,
    /// Stage the status belongs to.
    pub stage: Stage,
    /// Login of whoever made the change.
    #[serde(default)]
    pub changed_by: String,
    /// When.
    pub changed_at: DateTime<Utc>,
}
