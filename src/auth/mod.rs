//! Authentication: password hashing, session tokens, login throttling.
//! No HTTP here; `http::auth` turns requests into calls on these.

pub mod device;
pub mod password;
pub mod throttle;
pub mod token;
