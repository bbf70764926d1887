//! The edit engine behind `start`, `stop`, `delete`, `scale`, `set`, `unset`.
pub mod apply_app;
pub mod bulk;
pub mod new_app;
pub mod refuse;
pub mod session;
pub mod value;
