//! Shared types and the IPC protocol (docs/PROTOCOL.md). No IO.
