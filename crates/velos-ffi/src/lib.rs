//! The one crate that crosses into the Zig core. It links `libvelos_core.a` (built by `build.rs`) and wraps
//! its two C functions (`zig/include/velos_core.h`) in a safe API.
#![allow(unsafe_code)] // this crate exists to hold the unsafe calls; each carries a SAFETY note

use std::ffi::CStr;
use std::os::raw::c_char;
use std::path::Path;

/// Mirrors `velos_daemon_result` in `velos_core.h`.
#[repr(C)]
struct RawDaemonResult {
    holder_pid: i32,
    message_len: u32,
    message: [u8; 512],
}

const DAEMON_DETACH: u32 = 1;

extern "C" {
    fn velos_daemon_run(home: *const u8, home_len: usize, flags: u32, result: *mut RawDaemonResult) -> i32;
    fn velos_core_version() -> *const c_char;
}

/// How the daemon loop is entered.
#[derive(Debug, Clone, Copy, Default)]
pub struct DaemonOptions {
    /// Start a new session first (`setsid`): the CLI launched us in the background.
    pub detach: bool,
}

/// Why the daemon did not run or did not stop cleanly (`velos_status` in the header).
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("a daemon is already running on this VELOS_HOME (pid {pid})")]
    AlreadyRunning { pid: i32 },
    #[error("VELOS_HOME is unusable: {0}")]
    HomeUnusable(String),
    #[error("the daemon socket could not be bound: {0}")]
    SocketFailed(String),
    #[error("invalid argument to the core: {0}")]
    InvalidArgument(String),
    #[error("the daemon failed: {0}")]
    Internal(String),
}

/// Runs the daemon loop on this thread until it is stopped (SIGTERM, SIGINT or a SHUTDOWN request).
///
/// The calling process must be single-threaded: the core forks children.
pub fn run_daemon(home: &Path, options: DaemonOptions) -> Result<(), DaemonError> {
    let home_bytes = home.as_os_str().as_encoded_bytes();
    let mut result = RawDaemonResult { holder_pid: 0, message_len: 0, message: [0; 512] };
    let flags = if options.detach { DAEMON_DETACH } else { 0 };
    // SAFETY: `home_bytes` is a live slice for the whole call and its length is passed with it; `result`
    // is a valid, exclusively borrowed struct with the layout the header declares. The core does not keep
    // either pointer after it returns.
    let status = unsafe { velos_daemon_run(home_bytes.as_ptr(), home_bytes.len(), flags, &mut result) };
    let length = (result.message_len as usize).min(result.message.len());
    let message = String::from_utf8_lossy(&result.message[..length]).into_owned();
    match status {
        0 => Ok(()),
        1 => Err(DaemonError::AlreadyRunning { pid: result.holder_pid }),
        2 => Err(DaemonError::HomeUnusable(message)),
        3 => Err(DaemonError::SocketFailed(message)),
        4 => Err(DaemonError::InvalidArgument(message)),
        _ => Err(DaemonError::Internal(message)),
    }
}

/// The Zig core's version string.
pub fn core_version() -> &'static str {
    // SAFETY: the core returns a pointer to a static, NUL-terminated, immutable string.
    let raw = unsafe { CStr::from_ptr(velos_core_version()) };
    raw.to_str().unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_version_matches_the_crate() {
        assert_eq!(core_version(), env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn header_declares_what_this_crate_calls() {
        // The header is the contract for C users; this crate's extern block must match it.
        let header = include_str!("../../../zig/include/velos_core.h");
        assert!(header.contains(
            "int32_t velos_daemon_run(const uint8_t *home, size_t home_len, uint32_t flags, velos_daemon_result *result);"
        ));
        assert!(header.contains("const char *velos_core_version(void);"));
        assert!(header.contains("#define VELOS_DAEMON_DETACH 1u"));
        assert!(header.contains("uint8_t message[512];"));
        assert_eq!(std::mem::size_of::<RawDaemonResult>(), 4 + 4 + 512);
    }
}
