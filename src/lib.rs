//! Pulse: driver onboarding for an EV fleet. The binary (`main.rs`) only
//! parses the command line; everything else lives here so tests drive it
//! in-process.
#![forbid(unsafe_code)]

pub mod domain;
pub mod export;
