//! IPC client for the Velos daemon.
