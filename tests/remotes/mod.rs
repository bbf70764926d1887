//! Servers for the remote-repository tests: git over HTTP with auth, and over ssh.
pub mod http;
pub mod sshd;
