//! unyo's domain: the registry of sites, terminals and network nodes, roles and their permissions,
//! validation with Japanese messages, 和暦 and fiscal years, and the personal-identifier guard.
//!
//! Architecture invariant: this crate does no I/O and reads no clock. Time is passed in.

#[macro_use]
mod macros;

pub mod account;
pub mod campaign;
pub mod connectivity;
pub mod contract_registers;
pub mod erasure;
pub mod error;
pub mod incident;
#[cfg(test)]
mod input_walk;
pub mod inventory;
pub mod pii;
pub mod records;
pub mod registry;
pub mod role;
pub mod support;
pub mod text;
pub mod time;
pub mod wareki;

pub use error::{DomainError, FieldError};
pub use role::{Action, Role};
