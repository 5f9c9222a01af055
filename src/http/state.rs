//! What every handler (API or page) can reach: the use-cases' context.

use std::ops::Deref;

use crate::service::Services;

/// The router's state: the services' context (it derefs to
/// [`Services`], so `state.store`, `state.config` … read as before).
#[derive(Clone)]
pub struct AppState {
    /// The use-cases' context.
    pub services: Services,
}

impl AppState {
    /// The state of a router over `services`.
    pub fn new(services: Services) -> Self {
        AppState { services }
    }
}

impl Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}
