//! The few system calls std does not offer safely, each wrapped in a safe function with its reason. The
//! workspace denies `unsafe_code`; this module is the client's only exception, kept to these calls (velos-ffi,
//! the other one, is the Zig core's seam and would bring the Zig build to every user of this crate).
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// The effective user id of this process: who files under VELOS_HOME must belong to.
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid takes no argument, cannot fail and touches no memory of ours.
    unsafe { libc::geteuid() }
}

/// Opens `name` inside the directory `directory` without following a symlink at `name`
/// (`openat(O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)`; O_NONBLOCK so a FIFO planted there fails instead of
/// blocking). `flags` adds the access mode and `O_CREAT`/`O_APPEND`.
pub(crate) fn open_in(
    directory: &File,
    name: &Path,
    flags: libc::c_int,
    mode: libc::mode_t,
) -> io::Result<File> {
    let name = CString::new(name.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a file name with a NUL byte"))?;
    let all_flags = flags | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK;
    // SAFETY: `directory` is an open descriptor for the whole call, `name` a NUL-terminated string that
    // outlives it; openat reads nothing else of ours.
    let fd =
        unsafe { libc::openat(directory.as_raw_fd(), name.as_ptr(), all_flags, libc::c_uint::from(mode)) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: openat just returned this descriptor; nothing else owns it.
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// Makes the program `command` runs start with only descriptors 0–2 (those `Command` sets up): whatever the
/// caller inherited (a CI step's pipe, make's jobserver, `9>&1`) is marked close-on-exec in the child, so a
/// daemon started by `velos` never keeps its caller's pipes open. Marked rather than closed: std reports a
/// failed exec through a close-on-exec pipe of its own, which must stay open until the exec.
pub(crate) fn close_inherited_descriptors(command: &mut Command) {
    let mark = || -> io::Result<()> {
        // close_range(3, ~0, CLOSE_RANGE_CLOEXEC): one system call (Linux 5.11). Elsewhere, or on an older
        // kernel: each descriptor up to the limit.
        #[cfg(target_os = "linux")]
        {
            const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
            // SAFETY: a raw system call with integer arguments; it only changes flags of descriptors of this
            // (forked) process.
            let rc = unsafe {
                libc::syscall(
                    libc::SYS_close_range,
                    3 as libc::c_uint,
                    libc::c_uint::MAX,
                    CLOSE_RANGE_CLOEXEC,
                )
            };
            if rc == 0 {
                return Ok(());
            }
        }
        // SAFETY: sysconf reads a limit of the process.
        let limit = unsafe { libc::sysconf(libc::_SC_OPEN_MAX) };
        let limit = if limit <= 0 { 65_536 } else { limit.min(1 << 20) as libc::c_int };
        for fd in 3..limit {
            // SAFETY: fcntl on a descriptor number of the forked child; EBADF for an unused one is expected.
            unsafe {
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags >= 0 && flags & libc::FD_CLOEXEC == 0 {
                    libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
                }
            }
        }
        Ok(())
    };
    // SAFETY: the closure runs in the child between fork and exec and makes only async-signal-safe calls
    // (close_range, sysconf, fcntl); it allocates nothing and takes no lock.
    unsafe { command.pre_exec(mark) };
}
