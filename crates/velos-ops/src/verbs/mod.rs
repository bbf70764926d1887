//! One module per verb family; each defines its requests and outcomes and adds its verbs to [`crate::Ops`].
pub mod apply;
pub mod change;
pub mod declarative;
pub mod forget;
pub mod git_source;
pub mod log_follow;
pub mod log_lines;
pub mod log_model;
pub mod logs;
pub mod patch;
pub mod process;
pub mod project;
pub mod proposals;
pub mod read;
pub mod start;
pub mod sync;
pub mod values;
