//! The owner's password, sessions, CSRF tokens and the login rate limit.
//!
//! - The password is stored as an argon2id PHC string (`argon2`, default parameters:
//!   19 MiB, 2 passes) in `STATE/dashboard/owner-password`, mode 0600, written aside and
//!   renamed. It is set by `trustgate gateway passwd` or on first visit with the one-time code
//!   the dashboard prints in the gateway's log when no password is set (the code works once).
//! - A session is 32 random bytes in a cookie (`HttpOnly; SameSite=Strict; Path=/`, and
//!   `Secure` over HTTPS); the server keeps only the SHA-256 of each token, with the session's
//!   CSRF token and expiry (12 h idle, 7 days at most). Sessions live in memory: a restart signs
//!   the owner out.
//! - Every form that changes something carries the session's CSRF token, compared in constant
//!   time (`subtle`); a request without it changes nothing and is answered 403.
//! - Logins are slowed per client address: after [`FREE_FAILURES`] wrong passwords in a row
//!   each further attempt must wait twice as long as the one before (1 s, 2 s, 4 s … at most
//!   15 minutes), and attempts during the wait are refused (429) without checking the password.
//!
//! Nothing here logs a password, a token or a hash.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// Shortest password the owner may choose.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Wrong passwords in a row a client may try before it is slowed down.
pub const FREE_FAILURES: u32 = 3;
/// Longest wait between attempts.
pub const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// A session unused this long ends.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(12 * 3600);
/// A session ends this long after sign-in whatever happens.
pub const MAX_SESSION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Most sessions kept; beyond it the oldest goes.
const MAX_SESSIONS: usize = 64;

/// Why a password could not be set or read.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The password file could not be read or written.
    #[error("owner password file {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The password is too short.
    #[error("the password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    /// The stored hash is not an argon2 PHC string.
    #[error("owner password file {0} does not hold an argon2 hash; set the password again")]
    BadHash(PathBuf),
}

/// The password file in a gateway state directory.
pub fn password_path(state_dir: &Path) -> PathBuf {
    state_dir.join("dashboard").join("owner-password")
}

/// Hash `password` with argon2id and store it (mode 0600), replacing any earlier one.
pub fn set_password(state_dir: &Path, password: &str) -> Result<(), AuthError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AuthError::TooShort);
    }
    let path = password_path(state_dir);
    let io = |source| AuthError::Io {
        path: path.clone(),
        source,
    };
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes)
        .map_err(|e| io(std::io::Error::other(e.to_string())))?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| io(std::io::Error::other(e.to_string())))?
        .to_string();
    let dir = path.parent().expect("the password file has a folder");
    std::fs::create_dir_all(dir).map_err(io)?;
    let tmp = dir.join("owner-password.tmp");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(io)?;
        f.write_all(hash.as_bytes()).map_err(io)?;
        f.sync_all().map_err(io)?;
    }
    std::fs::rename(&tmp, &path).map_err(io)?;
    // Set by root for a gateway that runs as its own user (the systemd unit's DynamicUser):
    // the folder and the file belong to whoever owns the state directory.
    use std::os::unix::fs::MetadataExt;
    if let Ok(owner) = std::fs::metadata(state_dir) {
        for p in [dir, path.as_path()] {
            if std::fs::metadata(p).is_ok_and(|m| m.uid() != owner.uid()) {
                std::os::unix::fs::chown(p, Some(owner.uid()), Some(owner.gid())).map_err(io)?;
            }
        }
    }
    Ok(())
}

/// Whether an owner password is set.
pub fn has_password(state_dir: &Path) -> bool {
    password_path(state_dir).exists()
}

/// Check `password` against the stored hash (argon2 compares in constant time).
pub fn check_password(state_dir: &Path, password: &str) -> Result<bool, AuthError> {
    let path = password_path(state_dir);
    let stored = std::fs::read_to_string(&path).map_err(|source| AuthError::Io {
        path: path.clone(),
        source,
    })?;
    let hash = PasswordHash::new(stored.trim()).map_err(|_| AuthError::BadHash(path.clone()))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok())
}

/// A random token, URL-safe base64 of 32 bytes.
pub fn random_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A one-time setup code the owner types: 12 characters without look-alikes.
fn setup_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    (0..12)
        .map(|i| {
            // 256 is not a multiple of 31: reject the top values so every letter is as likely.
            let c = loop {
                let b: u8 = rand::random();
                if usize::from(b) < 256 - 256 % ALPHABET.len() {
                    break ALPHABET[usize::from(b) % ALPHABET.len()] as char;
                }
            };
            if i == 4 || i == 8 {
                format!("-{c}")
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Constant-time equality of two strings (CSRF tokens, setup codes).
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

struct Session {
    csrf: String,
    started: Instant,
    used: Instant,
}

#[derive(Default)]
struct Failures {
    count: u32,
    /// No attempt is checked before this.
    wait_until: Option<Instant>,
}

/// The sessions, the one-time setup code and the login rate limit.
pub struct Auth {
    state_dir: PathBuf,
    sessions: Mutex<HashMap<[u8; 32], Session>>,
    failures: Mutex<HashMap<IpAddr, Failures>>,
    setup: Mutex<Option<String>>,
}

/// What a login attempt came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Login {
    /// Signed in: the session token for the cookie.
    Ok(String),
    /// Wrong password.
    Wrong,
    /// Too many wrong passwords: wait this many seconds (the password was not checked).
    Wait(u64),
}

impl Auth {
    /// Sessions for the gateway state in `state_dir`. With no password set, a one-time setup
    /// code is made and returned, for the caller to print in the log.
    pub fn new(state_dir: &Path) -> (Auth, Option<String>) {
        let code = (!has_password(state_dir)).then(setup_code);
        (
            Auth {
                state_dir: state_dir.to_path_buf(),
                sessions: Mutex::new(HashMap::new()),
                failures: Mutex::new(HashMap::new()),
                setup: Mutex::new(code.clone()),
            },
            code,
        )
    }

    /// Whether the owner still has to choose a password.
    pub fn needs_setup(&self) -> bool {
        !has_password(&self.state_dir)
    }

    /// First visit: `code` must be the one-time code; then the password is set and the code
    /// is used up.
    pub fn setup(&self, code: &str, password: &str) -> Result<bool, AuthError> {
        let mut setup = self.setup.lock().unwrap_or_else(|p| p.into_inner());
        let ok = match setup.as_deref() {
            Some(c) => same_secret(
                &c.replace('-', ""),
                &code.trim().to_ascii_uppercase().replace('-', ""),
            ),
            None => false,
        };
        if !ok || has_password(&self.state_dir) {
            return Ok(false);
        }
        set_password(&self.state_dir, password)?;
        *setup = None;
        Ok(true)
    }

    /// Check a password from `client`, under the rate limit.
    pub fn login(&self, client: IpAddr, password: &str) -> Result<Login, AuthError> {
        let now = Instant::now();
        {
            let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(until) = failures.get(&client).and_then(|f| f.wait_until) {
                if until > now {
                    return Ok(Login::Wait((until - now).as_secs().max(1)));
                }
            }
        }
        if !check_password(&self.state_dir, password)? {
            let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
            if failures.len() > 4096 {
                failures.clear(); // bounded: forget old clients rather than grow
            }
            let f = failures.entry(client).or_default();
            f.count += 1;
            if f.count > FREE_FAILURES {
                let exp = (f.count - FREE_FAILURES - 1).min(20);
                let wait = Duration::from_secs(1u64 << exp).min(MAX_LOCKOUT);
                f.wait_until = Some(Instant::now() + wait);
            }
            return Ok(Login::Wrong);
        }
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&client);
        let token = random_token();
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|_, s| live(s, now));
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions.iter().min_by_key(|(_, s)| s.used).map(|(k, _)| *k) {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(
            digest(&token),
            Session {
                csrf: random_token(),
                started: now,
                used: now,
            },
        );
        Ok(Login::Ok(token))
    }

    /// The CSRF token of the live session `token` (and mark it used), or `None`: no session.
    pub fn session(&self, token: &str) -> Option<String> {
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let key = digest(token);
        match sessions.get_mut(&key) {
            Some(s) if live(s, now) => {
                s.used = now;
                Some(s.csrf.clone())
            }
            Some(_) => {
                sessions.remove(&key);
                None
            }
            None => None,
        }
    }

    /// End the session `token`.
    pub fn logout(&self, token: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&digest(token));
    }
}

fn live(s: &Session, now: Instant) -> bool {
    now.duration_since(s.used) < IDLE_TIMEOUT && now.duration_since(s.started) < MAX_SESSION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_stored_as_argon2id_with_owner_only_permissions() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(
            set_password(d.path(), "short"),
            Err(AuthError::TooShort)
        ));
        set_password(d.path(), "correct horse battery").unwrap();
        let stored = std::fs::read_to_string(password_path(d.path())).unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(password_path(d.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(check_password(d.path(), "correct horse battery").unwrap());
        assert!(!check_password(d.path(), "correct horse batterY").unwrap());
    }

    #[test]
    fn the_setup_code_works_once_and_only_without_a_password() {
        let d = tempfile::tempdir().unwrap();
        let (auth, code) = Auth::new(d.path());
        let code = code.expect("no password yet: a code");
        assert!(auth.needs_setup());
        assert!(!auth.setup("WRONG-CODE-1", "a long password").unwrap());
        assert!(auth.setup(&code.to_lowercase(), "a long password").unwrap());
        assert!(!auth.needs_setup());
        assert!(!auth.setup(&code, "another long password").unwrap());
        assert!(check_password(d.path(), "a long password").unwrap());
        let (_, none) = Auth::new(d.path());
        assert!(none.is_none());
    }

    #[test]
    fn wrong_passwords_slow_the_client_down_and_a_session_carries_its_csrf_token() {
        let d = tempfile::tempdir().unwrap();
        set_password(d.path(), "the owner's password").unwrap();
        let (auth, _) = Auth::new(d.path());
        let me: IpAddr = "192.168.1.20".parse().unwrap();
        let other: IpAddr = "192.168.1.21".parse().unwrap();
        for _ in 0..FREE_FAILURES {
            assert_eq!(auth.login(me, "guess").unwrap(), Login::Wrong);
        }
        assert_eq!(auth.login(me, "guess").unwrap(), Login::Wrong);
        // Now even the right password waits.
        assert!(matches!(
            auth.login(me, "the owner's password").unwrap(),
            Login::Wait(_)
        ));
        // Another client is not slowed by this one.
        let Login::Ok(token) = auth.login(other, "the owner's password").unwrap() else {
            panic!("other client refused");
        };
        let csrf = auth.session(&token).expect("live session");
        assert_eq!(auth.session(&token).as_deref(), Some(csrf.as_str()));
        assert!(auth.session("not-a-token").is_none());
        auth.logout(&token);
        assert!(auth.session(&token).is_none());
    }
}
