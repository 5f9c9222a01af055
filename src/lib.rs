//! Pulse: driver onboarding for an EV fleet. The binary (`main.rs`) only
//! parses the command line; everything else lives here so tests drive it
//! in-process.
#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod config;
pub mod domain;
pub mod export;
pub mod http;
pub mod import;
pub mod jobs;
pub mod metrics;
pub mod router;
pub mod seed;
pub mod service;
pub mod storage;
pub mod store;
pub mod telemetry;
pub mod web;
