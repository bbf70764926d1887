//! A throwaway `sshd` on a random loopback port: its own host key, one user key allowed, everything in a
//! temporary folder. Installed by `make test-deps` (Debian's openssh-server); stopped on drop.
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SSHD: &str = "/usr/sbin/sshd";

pub struct Sshd {
    pub dir: tempfile::TempDir,
    pub port: u16,
    child: Child,
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "velos-e2e", "-f"])
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "ssh-keygen {}", path.display());
}

impl Sshd {
    pub fn start() -> Sshd {
        assert!(
            Path::new(SSHD).exists() && Path::new("/run/sshd").is_dir(),
            "{SSHD} (and /run/sshd) missing: run `make test-deps`"
        );
        let dir = tempfile::Builder::new().prefix("velos-sshd-").tempdir_in("/tmp").unwrap();
        keygen(&dir.path().join("host_key"));
        keygen(&dir.path().join("deploy_key"));
        std::fs::copy(dir.path().join("deploy_key.pub"), dir.path().join("authorized_keys")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/host_key\nPidFile none\n\
             AuthorizedKeysFile {dir}/authorized_keys\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nAllowUsers {user}\n",
            dir = dir.path().display(),
            user = user(),
        );
        std::fs::write(dir.path().join("sshd_config"), config).unwrap();
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(dir.path().join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let sshd = Sshd { dir, port, child };
        velos_e2e::wait_until(Duration::from_secs(10), "sshd to listen", || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        sshd
    }

    pub fn deploy_key(&self) -> PathBuf {
        self.dir.path().join("deploy_key")
    }

    /// `[127.0.0.1]:PORT ssh-ed25519 AAAA…`: the known_hosts line of this server.
    pub fn known_hosts_line(&self) -> String {
        let public = std::fs::read_to_string(self.dir.path().join("host_key.pub")).unwrap();
        let mut words = public.split_whitespace();
        let (kind, key) = (words.next().unwrap(), words.next().unwrap());
        format!("[127.0.0.1]:{} {kind} {key}\n", self.port)
    }

    /// The ssh URL of `repository` (an absolute path on this host).
    pub fn url(&self, repository: &Path) -> String {
        format!("ssh://{}@127.0.0.1:{}{}", user(), self.port, repository.display())
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The user the tests run as (sshd lets the deploy key in as this user only).
fn user() -> String {
    let output = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}
