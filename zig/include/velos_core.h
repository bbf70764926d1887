/* velos_core.h: the C ABI of the Velos Zig core (libvelos_core.a).
 *
 * The surface is deliberately tiny: the Rust binary calls velos_daemon_run() from `velos daemon` and never
 * returns from it until the daemon stops. Everything else crosses the Unix socket (docs/PROTOCOL.md).
 * No Zig error or panic crosses this boundary: a panic aborts the process after printing to stderr.
 * zig/src/root.zig has a test that checks these declarations against the exported functions. */
#ifndef VELOS_CORE_H
#define VELOS_CORE_H

#include <stddef.h>
#include <stdint.h>

/* Return values of velos_daemon_run. */
typedef enum velos_status {
    VELOS_STATUS_OK = 0,                /* the daemon ran and stopped cleanly (SIGTERM, SIGINT or SHUTDOWN) */
    VELOS_STATUS_ALREADY_RUNNING = 1,   /* another daemon holds $VELOS_HOME/velos.pid; holder_pid is set */
    VELOS_STATUS_HOME_UNUSABLE = 2,     /* VELOS_HOME could not be created, locked or has unsafe permissions */
    VELOS_STATUS_SOCKET_FAILED = 3,     /* the socket could not be bound (path too long, EADDRINUSE, ...) */
    VELOS_STATUS_INVALID_ARGUMENT = 4,  /* a null pointer, an empty or over-long home path */
    VELOS_STATUS_INTERNAL = 5,          /* an unexpected system error; message says which call failed */
} velos_status;

/* Flags for velos_daemon_run. */
#define VELOS_DAEMON_DETACH 1u /* call setsid() first: the CLI started us in the background */

/* Filled by velos_daemon_run when it returns a status other than OK. */
typedef struct velos_daemon_result {
    int32_t holder_pid;      /* VELOS_STATUS_ALREADY_RUNNING: the pid holding the lock, else 0 */
    uint32_t message_len;    /* bytes used in message */
    uint8_t message[512];    /* UTF-8, not NUL-terminated: what failed and the likely cause */
} velos_daemon_result;

/* Runs the daemon loop on the calling thread until it is told to stop. `home` is the VELOS_HOME directory
 * (not NUL-terminated, home_len bytes). The calling process must be single-threaded: the core forks. */
int32_t velos_daemon_run(const uint8_t *home, size_t home_len, uint32_t flags, velos_daemon_result *result);

/* The core's version, a static NUL-terminated string such as "0.1.0". */
const char *velos_core_version(void);

#endif
