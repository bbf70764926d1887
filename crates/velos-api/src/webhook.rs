//! `POST /v1/hooks/git`: who may push. A forge proves a delivery with the shared secret — GitHub and Gitea
//! sign the raw body with HMAC-SHA256 (`X-Hub-Signature-256: sha256=HEX`, Gitea also `X-Gitea-Signature:
//! HEX`), GitLab sends the secret itself (`X-Gitlab-Token`). Every comparison is constant time. A delivery
//! id seen before is dropped, so a replayed or retried delivery does not sync twice.
use hmac::{KeyInit as _, Mac as _};
use std::collections::{HashSet, VecDeque};
use subtle::ConstantTimeEq as _;

/// Delivery ids remembered; older ones are forgotten first.
pub const DELIVERIES_REMEMBERED_MAX: usize = 4096;

/// Why a delivery was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the delivery carries no signature (X-Hub-Signature-256, X-Gitea-Signature or X-Gitlab-Token)")]
    Unsigned,
    #[error("the delivery's signature does not match the webhook secret")]
    BadSignature,
}

/// The proof a delivery carries, from its headers.
#[derive(Debug, Clone, Copy)]
pub enum Proof<'a> {
    /// `sha256=HEX` or bare `HEX`: HMAC-SHA256 of the body.
    HmacSha256Hex(&'a str),
    /// The secret itself (GitLab).
    Token(&'a str),
}

/// Checks `proof` for `body` against `secret`.
pub fn verify(secret: &[u8], body: &[u8], proof: Option<Proof<'_>>) -> Result<(), Refusal> {
    match proof.ok_or(Refusal::Unsigned)? {
        Proof::HmacSha256Hex(text) => {
            let hex = text.strip_prefix("sha256=").unwrap_or(text);
            let presented = decode_hex(hex).ok_or(Refusal::BadSignature)?;
            let mut mac =
                hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).map_err(|_| Refusal::BadSignature)?;
            mac.update(body);
            // verify_slice compares in constant time.
            mac.verify_slice(&presented).map_err(|_| Refusal::BadSignature)
        }
        Proof::Token(token) => {
            // Digests first, so the comparison takes the same time whatever the lengths.
            use sha2::Digest as _;
            let presented = sha2::Sha256::digest(token.as_bytes());
            let expected = sha2::Sha256::digest(secret);
            if bool::from(presented.as_slice().ct_eq(expected.as_slice())) {
                Ok(())
            } else {
                Err(Refusal::BadSignature)
            }
        }
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|index| u8::from_str_radix(text.get(index..index + 2)?, 16).ok()).collect()
}

/// The delivery ids already acted on, bounded.
#[derive(Debug, Default)]
pub struct Deliveries {
    order: VecDeque<String>,
    seen: HashSet<String>,
}

impl Deliveries {
    /// Remembers `id`; false when it was already there (a repeat).
    pub fn first_time(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() == DELIVERIES_REMEMBERED_MAX {
            if let Some(oldest) = self.order.pop_front() {
                self.seen.remove(&oldest);
            }
        }
        self.order.push_back(id.to_string());
        self.seen.insert(id.to_string());
        true
    }
}

/// The repository a push event names, in every form the forge gives (clone URL, SSH URL, web URL).
pub fn pushed_repositories(payload: &serde_json::Value) -> Vec<String> {
    let mut urls = Vec::new();
    for object in ["repository", "project"] {
        for key in
            ["clone_url", "ssh_url", "git_url", "html_url", "url", "git_http_url", "git_ssh_url", "web_url"]
        {
            if let Some(url) = payload.get(object).and_then(|value| value.get(key)).and_then(|v| v.as_str()) {
                urls.push(url.to_string());
            }
        }
    }
    urls
}

/// One spelling for a repository: no scheme for local paths, no trailing `/` or `.git`, host in lowercase.
pub fn normalize_repository(url: &str) -> String {
    let url = url.trim().strip_prefix("file://").unwrap_or(url.trim());
    let url = url.trim_end_matches('/');
    let url = url.strip_suffix(".git").unwrap_or(url);
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
            format!("{}://{}/{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase(), path)
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("key");
        mac.update(body);
        mac.finalize().into_bytes().iter().map(|byte| format!("{byte:02x}")).collect()
    }

    #[test]
    fn a_github_signature_over_the_raw_body_is_accepted() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let header = format!("sha256={}", sign(b"s3cret", body));
        assert_eq!(verify(b"s3cret", body, Some(Proof::HmacSha256Hex(&header))), Ok(()));
        // Gitea's header is the bare hex.
        assert_eq!(verify(b"s3cret", body, Some(Proof::HmacSha256Hex(&sign(b"s3cret", body)))), Ok(()));
    }

    #[test]
    fn a_changed_body_a_wrong_secret_or_junk_is_refused() {
        let body = br#"{"ref":"refs/heads/main"}"#;
        let header = format!("sha256={}", sign(b"s3cret", body));
        let bad = Err(Refusal::BadSignature);
        assert_eq!(
            verify(b"s3cret", br#"{"ref":"refs/heads/evil"}"#, Some(Proof::HmacSha256Hex(&header))),
            bad
        );
        assert_eq!(verify(b"other", body, Some(Proof::HmacSha256Hex(&header))), bad);
        assert_eq!(verify(b"s3cret", body, Some(Proof::HmacSha256Hex("sha256=zz"))), bad);
        assert_eq!(verify(b"s3cret", body, Some(Proof::HmacSha256Hex("sha256=abc"))), bad);
        assert_eq!(verify(b"s3cret", body, None), Err(Refusal::Unsigned));
    }

    #[test]
    fn a_gitlab_token_must_equal_the_secret() {
        assert_eq!(verify(b"s3cret", b"{}", Some(Proof::Token("s3cret"))), Ok(()));
        assert_eq!(verify(b"s3cret", b"{}", Some(Proof::Token("s3cre"))), Err(Refusal::BadSignature));
    }

    #[test]
    fn a_repeated_delivery_is_seen_and_old_ones_are_forgotten() {
        let mut deliveries = Deliveries::default();
        assert!(deliveries.first_time("a"));
        assert!(!deliveries.first_time("a"));
        for index in 0..DELIVERIES_REMEMBERED_MAX {
            deliveries.first_time(&index.to_string());
        }
        assert!(deliveries.first_time("a"), "the oldest id is forgotten once the bound is reached");
        assert_eq!(deliveries.order.len(), DELIVERIES_REMEMBERED_MAX);
    }

    #[test]
    fn repository_spellings_meet() {
        assert_eq!(normalize_repository("file:///srv/deploy.git/"), "/srv/deploy");
        assert_eq!(normalize_repository("/srv/deploy.git"), "/srv/deploy");
        assert_eq!(
            normalize_repository("https://user@GitHub.com/acme/deploy.git"),
            normalize_repository("https://github.com/acme/deploy")
        );
        let payload =
            serde_json::json!({"repository": {"clone_url": "https://x/a.git", "ssh_url": "git@x:a.git"}});
        assert_eq!(pushed_repositories(&payload), ["https://x/a.git", "git@x:a.git"]);
    }
}
