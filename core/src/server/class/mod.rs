//! Client classes: what a request is matched against before an address is chosen, and
//! what the classes it falls in change: the pools it may use, its options, boot settings
//! and lease times.
//!
//! | module | holds |
//! |---|---|
//! | `set` | [`ClassId`], [`ClassSet`] and [`PoolClasses`]: membership as a fixed bit set |
//! | `model` | [`ClassConfig`], [`Match`], [`Boot`]: the classes as a configuration states them |
//! | `check` | the checks the classes, and the class names pools and reservations use, must pass |
//! | `program` | a match compiled at load into a flat list of tests, run per request |
//! | `table` | the classes as the machine runs them, and the classification of a request |
//! | `exchange` | a DISCOVER's classes kept for the REQUEST of the same exchange |

pub(crate) mod check;
pub(crate) mod exchange;
mod model;
pub(crate) mod program;
mod set;
pub(crate) mod table;

pub use model::{Boot, ClassConfig, Match};
pub use set::{ClassId, ClassSet, PoolClasses};
