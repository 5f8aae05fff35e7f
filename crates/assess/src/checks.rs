//! The checks that read the unpacked tree and produce findings, each mapped to ETSI EN 303 645
//! provisions: credentials (§5.1), exposed services (§5.6), hard-coded secrets (§5.4),
//! update mechanism (§5.3) and vulnerability disclosure (§5.2).

use std::sync::OnceLock;

use regex::Regex;

use crate::report::{Evidence, Examined, Finding, Severity};
use crate::tree::{Entry, EntryKind, Tree};

pub use crate::context::{Ctx, Outcome};

/// Lines of a text file with the byte offset each starts at. Binary files yield nothing.
fn text_lines(data: &[u8]) -> impl Iterator<Item = (usize, &str)> {
    let text = std::str::from_utf8(data).unwrap_or("");
    let mut offset = 0;
    text.split_inclusive('\n').map(move |l| {
        let o = offset;
        offset += l.len();
        (o, l.trim_end_matches(['\n', '\r']))
    })
}

fn is_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#') || t.starts_with(';')
}

// ---------------------------------------------------------------------------------------
// §5.1 passwords
// ---------------------------------------------------------------------------------------

/// Known default credentials: the Mirai botnet's built-in list (from its published source,
/// scanner.c, 2016) followed by common vendor defaults. `user:password`, one per line.
const DEFAULT_CREDENTIALS: &str = include_str!("../data/default-credentials.txt");

fn default_passwords() -> &'static [String] {
    static LIST: OnceLock<Vec<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut v: Vec<String> = DEFAULT_CREDENTIALS
            .lines()
            .filter(|l| !is_comment(l))
            .filter_map(|l| l.split_once(':').map(|(_, p)| p.to_string()))
            .collect();
        v.sort();
        v.dedup();
        v
    })
}

/// The number of distinct passwords on the shipped default list.
pub fn default_password_count() -> usize {
    default_passwords().len()
}

fn shell_allows_login(shell: Option<&str>) -> bool {
    !matches!(
        shell.map(str::trim),
        Some("/sbin/nologin" | "/usr/sbin/nologin" | "/bin/false" | "/usr/bin/false")
    )
}

/// The crypt(3) scheme of a stored hash.
fn hash_scheme(hash: &str) -> &'static str {
    if hash.starts_with("$1$") {
        "md5crypt"
    } else if hash.starts_with("$5$") {
        "sha256crypt"
    } else if hash.starts_with("$6$") {
        "sha512crypt"
    } else if hash.starts_with("$2") {
        "bcrypt"
    } else if hash.starts_with("$y$") {
        "yescrypt"
    } else if hash.len() == 13 && !hash.starts_with('$') {
        "des"
    } else {
        "unknown"
    }
}

/// Most sha256crypt/sha512crypt rounds a stored hash may ask for and still be tried against
/// the default list. The image chooses its own cost (`$6$rounds=999999999$…` is legal and takes
/// hours per candidate); 5000 is the default and distributions rarely go past 100 000.
pub const MAX_SHA_CRYPT_ROUNDS: u64 = 200_000;
/// Highest bcrypt cost tried (2^cost rounds; 10 to 12 is usual, 31 takes days).
pub const MAX_BCRYPT_COST: u32 = 13;
/// Total work of the default-password check per image, in sha-crypt rounds per candidate
/// (one default sha512crypt hash is 5000): about 400 default-cost hashes. Hashes past it are
/// not tried and their accounts reported as not checked.
pub const MAX_HASH_WORK: u64 = 2_000_000;
/// One bcrypt round costs about as much as this many sha-crypt rounds (measured: cost 10,
/// 1024 rounds, takes as long as about 75 000 sha512crypt rounds).
const BCRYPT_ROUND_WEIGHT: u64 = 75;

/// The work of trying one candidate against `hash` (sha-crypt rounds), or why it is not tried.
fn hash_work(hash: &str) -> Result<u64, String> {
    let scheme = hash_scheme(hash);
    match scheme {
        "sha256crypt" | "sha512crypt" => {
            let Some(spec) = hash[3..].strip_prefix("rounds=") else {
                return Ok(5000);
            };
            let digits: String = spec.chars().take_while(char::is_ascii_digit).collect();
            match digits.parse::<u64>() {
                // crypt(3) raises fewer than 1000 rounds to 1000.
                Ok(n) if n <= MAX_SHA_CRYPT_ROUNDS => Ok(n.max(1000)),
                Ok(n) => Err(format!(
                    "its {scheme} hash asks for {n} rounds, over the {MAX_SHA_CRYPT_ROUNDS} this check tries"
                )),
                Err(_) => Err(format!(
                    "its {scheme} hash has an unreadable rounds= field"
                )),
            }
        }
        "bcrypt" => {
            let cost = hash
                .split('$')
                .nth(2)
                .and_then(|c| c.parse::<u32>().ok())
                .ok_or_else(|| "its bcrypt hash has an unreadable cost field".to_string())?;
            if cost > MAX_BCRYPT_COST {
                return Err(format!(
                    "its bcrypt hash asks for cost {cost} (2^{cost} rounds), over the {MAX_BCRYPT_COST} this check tries"
                ));
            }
            Ok((1u64 << cost) * BCRYPT_ROUND_WEIGHT)
        }
        "md5crypt" => Ok(1000),
        _ => Ok(1),
    }
}

/// §5.1: empty and known-default passwords in /etc/shadow and /etc/passwd; weak schemes.
pub fn passwords(ctx: &Ctx, out: &mut Outcome) {
    passwords_with(ctx, &DefaultPasswordCheck::default(), out)
}

/// Whether a stored password hash is one of the listed default passwords, worked out once
/// per hash. Verifying is slow on purpose (sha512crypt: 5000 rounds per candidate, tens of
/// milliseconds per hash over the whole list), so the unpacker hands `/etc/passwd` and
/// `/etc/shadow` over as soon as they are decompressed ([`crate::unpack::EarlyLook`]) and
/// the verdicts are ready when [`passwords_with`] asks. Asking without preparing gives the
/// same answers, only later.
#[derive(Default)]
pub struct DefaultPasswordCheck {
    verdicts: std::sync::Mutex<std::collections::HashMap<String, bool>>,
}

impl DefaultPasswordCheck {
    /// Whether `hash` verifies against any listed default password. The caller has checked
    /// its cost ([`passwords_with`] bounds it per hash and per image).
    fn matches(&self, hash: &str) -> bool {
        if let Some(&known) = self.verdicts.lock().expect("verdicts").get(hash) {
            return known;
        }
        // Outside the lock: two threads may verify one hash twice, never wait on each other.
        let hit = default_passwords()
            .iter()
            .any(|p| pwhash::unix::verify(p.as_bytes(), hash));
        self.verdicts
            .lock()
            .expect("verdicts")
            .insert(hash.to_string(), hit);
        hit
    }

    /// Verify every hash an account database (`passwd` or `shadow` lines) stores, within the
    /// same per-hash and per-image bounds as [`passwords_with`] (its own budget: work done
    /// ahead is at most [`MAX_HASH_WORK`] more).
    pub fn prepare(&self, account_db: &[u8]) {
        let mut spent = 0u64;
        for (_, line) in text_lines(account_db) {
            if is_comment(line) {
                continue;
            }
            if let Some(hash) = line.split(':').nth(1) {
                if verifiable(hash) {
                    if let Ok(work) = hash_work(hash) {
                        spent = spent.saturating_add(work);
                        if spent <= MAX_HASH_WORK {
                            self.matches(hash);
                        }
                    }
                }
            }
        }
    }
}

impl crate::unpack::EarlyLook for DefaultPasswordCheck {
    fn wants(&self, path: &str) -> bool {
        matches!(path.trim_start_matches('/'), "etc/passwd" | "etc/shadow")
    }
    fn look(&self, _path: &str, data: &[u8]) {
        self.prepare(data)
    }
}

/// A password field holding a hash: not empty, not locked (`!`, `*`), not the `x` that
/// points to `/etc/shadow`.
fn verifiable(hash: &str) -> bool {
    !(hash.is_empty() || hash == "x" || hash.starts_with('!') || hash.starts_with('*'))
}

/// [`passwords`], taking verdicts from `check` (prepared during unpacking, or not).
pub fn passwords_with(ctx: &Ctx, check: &DefaultPasswordCheck, out: &mut Outcome) {
    let mut shells = std::collections::HashMap::new();
    let mut sources: Vec<(&Entry, bool)> = account_files(ctx.tree);
    // The live databases first, so their login shells win over a backup's.
    sources.sort_by_key(|(e, _)| !matches!(e.path.as_str(), "/etc/passwd" | "/etc/shadow"));
    for (e, is_shadow) in &sources {
        if *is_shadow {
            continue;
        }
        for (_, line) in text_lines(e.data().expect("file")) {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() >= 7 {
                shells
                    .entry((e.container.clone(), f[0].to_string()))
                    .or_insert_with(|| f[6].to_string());
            }
        }
    }
    if sources.is_empty() {
        return;
    }
    let boot = BootScripts::read(ctx.tree);
    let mut looked = Vec::new();
    let mut spent = 0u64;
    let mut checked = 0usize;
    let mut schemes = std::collections::BTreeSet::new();
    let mut files = Vec::new();
    for (e, is_shadow) in sources {
        files.push(e.display_path());
        let data = e.data().expect("file");
        let (reach, live) = boot.reach(ctx.tree, e);
        let severity = if live {
            Severity::High
        } else {
            Severity::Medium
        };
        let place = if matches!(e.path.as_str(), "/etc/passwd" | "/etc/shadow") {
            String::new()
        } else {
            format!(" in {} ({reach})", e.display_path())
        };
        looked.push(ctx.ev(e, 0, format!("account database read: {reach}")));
        for (off, line) in text_lines(data) {
            if is_comment(line) {
                continue;
            }
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 2 {
                continue;
            }
            let (user, hash) = (f[0], f[1]);
            if !is_shadow && (hash == "x" || hash == "*") {
                continue; // the hash lives in /etc/shadow
            }
            let shell = shells.get(&(e.container.clone(), user.to_string()));
            let login = shell_allows_login(shell.map(String::as_str));
            if hash.is_empty() {
                if login {
                    out.findings.push(Finding {
                        rule: "empty-password",
                        message: format!("account {user:?}{place} has an empty password (anyone can log in)"),
                        severity,
                        provisions: vec!["5.1-1", "5.1-2"],
                        evidence: vec![ctx.ev(e, off, format!("{user}::… (empty password field)"))],
                        remediation: "Ship every account locked or with a unique per-device password; make the user set one at first use.",
                    });
                }
                continue;
            }
            if hash.starts_with('!') || hash.starts_with('*') {
                continue; // locked
            }
            let scheme = hash_scheme(hash);
            checked += 1;
            schemes.insert(scheme);
            out.credential_digests.push((
                user.to_string(),
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(hash.as_bytes())),
                ctx.ev(e, off, format!("{user}:<{scheme} hash>")),
            ));
            // The image picks its own cost: a hash too costly to try, or past the image's
            // budget, is not tried and its account is reported as not checked.
            let work = hash_work(hash).and_then(|w| {
                spent = spent.saturating_add(w);
                if spent > MAX_HASH_WORK {
                    Err(format!(
                        "the image's hashes together need more than the {MAX_HASH_WORK} rounds of work this check does per image"
                    ))
                } else {
                    Ok(w)
                }
            });
            if let Err(why) = work {
                let ev = ctx.ev(e, off, format!("{user}:<{scheme} hash, not checked>"));
                for p in ["5.1-1", "5.1-2"] {
                    out.undecided.push(Examined {
                        provision: p,
                        evidence: vec![ev.clone()],
                        basis: format!(
                            "account {user:?} was not checked against the default-password list: {why}"
                        ),
                    });
                }
                continue;
            }
            // The candidates are public default passwords; the match itself is reported
            // without repeating the password.
            if check.matches(hash) {
                out.findings.push(Finding {
                    rule: "default-password",
                    message: format!(
                        "account {user:?}{place} uses a well-known default password (Mirai/vendor default list, {scheme})"
                    ),
                    severity,
                    provisions: vec!["5.1-1", "5.1-2"],
                    evidence: vec![ctx.ev(e, off, format!("{user}:<{scheme} hash of a listed default password>"))],
                    remediation: "Remove the shipped password; generate a unique per-device password at manufacture or require the user to set one.",
                });
            }
            if matches!(scheme, "des" | "md5crypt") && login {
                out.findings.push(Finding {
                    rule: "weak-password-hash",
                    message: format!("account {user:?}{place} stores its password with {scheme}, which is fast to brute-force"),
                    severity: Severity::Medium,
                    provisions: vec!["5.1-3"],
                    evidence: vec![ctx.ev(e, off, format!("{user}:<{scheme} hash>"))],
                    remediation: "Hash passwords with sha512crypt, bcrypt or yescrypt.",
                });
            }
        }
    }
    files.sort();
    files.dedup();
    let files = files.join(", ");
    let defaults = default_password_count();
    let bases = [
        ("5.1-1", format!(
            "no account in {files} has an empty password or one of the {defaults} listed defaults ({checked} password hash(es) checked, the other accounts locked)"
        )),
        ("5.1-2", format!(
            "no password stored in {files} is one of the {defaults} listed defaults that whole classes of devices share"
        )),
        ("5.1-3", if schemes.is_empty() {
            format!("no account in {files} stores a password hash (all are locked), so no weak hash scheme is in use")
        } else {
            format!(
                "the login accounts' password hashes in {files} use {} (none uses DES or md5crypt)",
                schemes.iter().copied().collect::<Vec<_>>().join(", ")
            )
        }),
    ];
    for (p, basis) in bases {
        out.examined.push(Examined {
            provision: p,
            evidence: looked.clone(),
            basis,
        });
    }
}

/// A line of an account database: `passwd` (7 fields, numeric uid and gid) or `shadow`
/// (9 fields, the third a day count or empty). `Some(true)` for shadow.
fn account_line(line: &str) -> Option<bool> {
    let f: Vec<&str> = line.split(':').collect();
    let name_ok = !f[0].is_empty()
        && f[0]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'$'));
    let num = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !name_ok {
        return None;
    }
    if f.len() == 7 && num(f[2]) && num(f[3]) {
        Some(false)
    } else if f.len() == 9 && (f[2].is_empty() || num(f[2])) {
        Some(true)
    } else {
        None
    }
}

/// Every file in `passwd` or `shadow` format, wherever it lies (`/etc/passwd.bak`,
/// `/etc/config/…`, a copy kept for boot): text under 256 KiB whose every non-comment line
/// is an account line of one kind. `true` for shadow.
pub fn account_files(tree: &Tree) -> Vec<(&Entry, bool)> {
    let mut found = Vec::new();
    for e in tree.files() {
        let data = e.data().expect("file");
        if data.is_empty() || data.len() > 256 << 10 || !data.contains(&b':') || data.contains(&0) {
            continue;
        }
        let mut kind = None;
        let mut ok = true;
        for (_, line) in text_lines(data) {
            if is_comment(line) {
                continue;
            }
            match (account_line(line), kind) {
                (Some(k), None) => kind = Some(k),
                (Some(k), Some(had)) if k == had => {}
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if let (true, Some(shadow)) = (ok, kind) {
            found.push((e, shadow));
        }
    }
    found
}

/// Normalise `target` of a symlink at `link` (relative targets start at the link's
/// directory) to an absolute path, or `None` when it climbs out of the root.
fn resolve_link(link: &str, target: &str) -> Option<String> {
    let base = if target.starts_with('/') {
        String::new()
    } else {
        link.rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_string())
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in base.split('/').chain(target.split('/')) {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// Boot scripts (inittab, rc and init.d scripts, OpenWrt preinit) with their lines, to find
/// how an account file reaches the running system.
struct BootScripts<'t> {
    scripts: Vec<&'t Entry>,
}

impl<'t> BootScripts<'t> {
    fn read(tree: &'t Tree) -> Self {
        let scripts = tree
            .files()
            .filter(|e| {
                init_like(&e.path)
                    || e.path.starts_with("/etc/rc")
                    || e.path.starts_with("/etc/preinit")
                    || e.path.starts_with("/lib/preinit/")
            })
            .collect();
        BootScripts { scripts }
    }

    /// Where the live account database `/etc/<name>` really is: itself, or the target of
    /// the symlink it is (in `container`).
    fn live_target(tree: &Tree, container: &str, live: &str) -> Option<String> {
        tree.get(live)
            .filter(|l| l.container == container)
            .find_map(|l| match &l.kind {
                EntryKind::Symlink(t) => resolve_link(live, t),
                _ => None,
            })
    }

    /// The boot script line that runs the script `e` (by its path, or by its name for
    /// scripts in /etc/init.d), as `started by … line N`.
    fn runs(&self, e: &Entry) -> Option<String> {
        let name = e.path.rsplit('/').next().unwrap_or("");
        for s in &self.scripts {
            if s.container != e.container || s.path == e.path {
                continue;
            }
            let data = s.data().expect("file");
            for (off, line) in text_lines(data) {
                if is_comment(line) {
                    continue;
                }
                let by_path = line.contains(e.path.as_str());
                let by_name = e.path.starts_with("/etc/init.d/")
                    && line
                        .split_whitespace()
                        .any(|w| w.trim_matches(['"', '\'']) == name);
                if by_path || by_name {
                    let n = memchr::memchr_iter(b'\n', &data[..off]).count() + 1;
                    return Some(format!("started at boot by {} line {n}", s.path));
                }
            }
        }
        None
    }

    /// How the account file `e` reaches the running system, and whether it does.
    fn reach(&self, tree: &Tree, e: &Entry) -> (String, bool) {
        if matches!(e.path.as_str(), "/etc/passwd" | "/etc/shadow") {
            return (format!("the live account database {}", e.path), true);
        }
        let lives = ["/etc/passwd", "/etc/shadow"];
        for live in lives {
            if Self::live_target(tree, &e.container, live).as_deref() == Some(e.path.as_str()) {
                return (
                    format!("read at login through the link {live} -> {}", e.path),
                    true,
                );
            }
        }
        let mut named = None;
        for s in &self.scripts {
            if s.container != e.container {
                continue;
            }
            let data = s.data().expect("file");
            for (off, line) in text_lines(data) {
                if is_comment(line) || !line.contains(e.path.as_str()) {
                    continue;
                }
                let n = memchr::memchr_iter(b'\n', &data[..off]).count() + 1;
                for cmd in line.split([';', '&', '|']) {
                    let Some(dest) = copy_destination(cmd, &e.path) else {
                        continue;
                    };
                    for live in lives {
                        let target = Self::live_target(tree, &e.container, live);
                        if dest == live || target.as_deref() == Some(dest.as_str()) {
                            let via = if dest == live {
                                String::new()
                            } else {
                                format!(", where {live} links")
                            };
                            return (
                                format!(
                                    "copied to {dest} at boot by {} line {n}{via}: the running system's {live}",
                                    s.path
                                ),
                                true,
                            );
                        }
                    }
                    named.get_or_insert(format!("copied to {dest} at boot by {} line {n}", s.path));
                }
                named.get_or_insert(format!("named in {} line {n}", s.path));
            }
        }
        match named {
            Some(how) => (how, false),
            None => (
                "not named by the boot scripts (a backup or template shipped in the image)".into(),
                false,
            ),
        }
    }
}

/// The destination of `cp`/`mv`/`install`/`ln`/`cat … >` in one shell command when it reads
/// `source`.
fn copy_destination(cmd: &str, source: &str) -> Option<String> {
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let program = words.first()?.rsplit('/').next()?;
    let at = words
        .iter()
        .position(|w| w.trim_matches(['"', '\'']) == source)?;
    let dest = match program {
        "cp" | "mv" | "install" | "ln" => {
            let last = words.last()?.trim_matches(['"', '\'']);
            (words.len() - 1 > at && !last.starts_with('-')).then(|| last.to_string())?
        }
        "cat" => {
            let gt = words.iter().position(|w| *w == ">" || *w == ">>")?;
            words.get(gt + 1)?.trim_matches(['"', '\'']).to_string()
        }
        _ => return None,
    };
    if !dest.starts_with('/') {
        return None;
    }
    Some(if dest.ends_with('/') {
        format!("{dest}{}", source.rsplit('/').next().unwrap_or(""))
    } else {
        dest
    })
}

/// Cross-image rule: the same stored hash in images of one model is a universal default
/// (ETSI EN 303 645 §5.1-1: passwords must be unique per device).
pub fn universal_defaults(per_image: &[Vec<(String, String, Evidence)>]) -> Vec<Vec<Finding>> {
    per_image
        .iter()
        .enumerate()
        .map(|(i, creds)| {
            creds
                .iter()
                .filter(|(_, digest, _)| {
                    per_image
                        .iter()
                        .enumerate()
                        .any(|(j, other)| j != i && other.iter().any(|(_, d, _)| d == digest))
                })
                .map(|(user, _, ev)| Finding {
                    rule: "universal-default-password",
                    message: format!(
                        "account {user:?} has the same password hash in other images of this model (a universal default)"
                    ),
                    severity: Severity::High,
                    provisions: vec!["5.1-1", "5.1-2"],
                    evidence: vec![ev.clone()],
                    remediation: "Generate a unique password per device at manufacture (or require one at first use); never bake one shadow file into every unit.",
                })
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// §5.6 exposed services and debug consoles
// ---------------------------------------------------------------------------------------

fn re(s: &str) -> Regex {
    Regex::new(s).expect("static regex")
}

struct ServiceRules {
    telnet: Regex,
    shell_listener: Regex,
    dropbear_blank: Regex,
    raw_shell: Regex,
}

fn service_rules() -> &'static ServiceRules {
    static R: OnceLock<ServiceRules> = OnceLock::new();
    R.get_or_init(|| ServiceRules {
        telnet: re(r"(^|[\s/:])u?telnetd\b"),
        shell_listener: re(
            r"\b(nc|netcat|ncat|socat)\b.*(-e|-c|EXEC:|exec:)\s*['\x22]?/bin/(ba)?sh",
        ),
        dropbear_blank: re(r"\bdropbear\b.*\s-[A-Za-z]*B"),
        raw_shell: re(r"^-?/bin/(ash|sh|bash)\b|^(/bin/busybox\s+)?(ash|sh)\b"),
    })
}

fn init_like(path: &str) -> bool {
    path == "/etc/inittab"
        || path == "/etc/inetd.conf"
        || path == "/etc/rc.local"
        || path.starts_with("/etc/init.d/")
        || path.starts_with("/etc/rc.d/")
        || path.starts_with("/etc/rcS.d/")
        || path.starts_with("/etc/rc2.d/")
        || path.starts_with("/etc/systemd/system/")
        || path.starts_with("/lib/systemd/system/")
        || path.starts_with("/usr/lib/systemd/system/")
        || path.starts_with("/etc/xinetd.d/")
}

/// §5.6: telnetd and unauthenticated shells started by inittab, inetd/xinetd, init scripts
/// (sysv, OpenWrt procd) and systemd units; shells on a serial console (debug consoles).
pub fn services(ctx: &Ctx, out: &mut Outcome) {
    let r = service_rules();
    let mut looked = Vec::new();
    // systemd units count only when enabled: a symlink under /etc/systemd/system/*.wants.
    let enabled_units: std::collections::HashSet<String> = ctx
        .tree
        .entries
        .iter()
        .filter(|e| {
            e.path.starts_with("/etc/systemd/system/") && matches!(e.kind, EntryKind::Symlink(_))
        })
        .filter_map(|e| e.path.rsplit('/').next().map(str::to_string))
        .collect();
    for e in ctx.tree.files() {
        if !init_like(&e.path) {
            continue;
        }
        if (e.path.starts_with("/lib/systemd/") || e.path.starts_with("/usr/lib/systemd/"))
            && !enabled_units.contains(e.path.rsplit('/').next().unwrap_or(""))
        {
            continue;
        }
        let data = e.data().expect("file");
        looked.push(ctx.ev(e, 0, "service configuration read"));
        let is_inittab = e.path == "/etc/inittab";
        for (off, line) in text_lines(data) {
            if is_comment(line) {
                continue;
            }
            let trimmed = line.trim();
            let excerpt: String = trimmed.chars().take(120).collect();
            if r.telnet.is_match(trimmed) {
                let shell = trimmed.contains("-l /bin/sh") || trimmed.contains("-l/bin/sh");
                out.findings.push(Finding {
                    rule: "telnet-enabled",
                    message: format!(
                        "telnetd is started at boot by {}{}",
                        e.path,
                        if shell { " with a login-less shell (-l /bin/sh)" } else { "" }
                    ),
                    severity: Severity::High,
                    provisions: if shell { vec!["5.6-1", "5.6-2", "5.1-1"] } else { vec!["5.6-1", "5.6-2"] },
                    evidence: vec![ctx.ev(e, off, excerpt.clone())],
                    remediation: "Remove telnetd from the image (or disable it by default); offer SSH with per-device credentials if remote access is needed.",
                });
            } else if r.shell_listener.is_match(trimmed)
                || (e.path == "/etc/inetd.conf"
                    && trimmed.split_whitespace().nth(5).is_some_and(|p| {
                        p.ends_with("/sh") || p.ends_with("/ash") || p.ends_with("/bash")
                    }))
            {
                out.findings.push(Finding {
                    rule: "unauthenticated-shell",
                    message: format!(
                        "a network listener hands out a shell without authentication ({})",
                        e.path
                    ),
                    severity: Severity::High,
                    provisions: vec!["5.6-1", "5.6-2", "5.1-1"],
                    evidence: vec![ctx.ev(e, off, excerpt.clone())],
                    remediation: "Remove the listener; remote administration must authenticate.",
                });
            } else if r.dropbear_blank.is_match(trimmed) {
                out.findings.push(Finding {
                    rule: "ssh-blank-password",
                    message: format!(
                        "dropbear is started with -B (blank-password logins allowed) by {}",
                        e.path
                    ),
                    severity: Severity::High,
                    provisions: vec!["5.1-1", "5.6-2"],
                    evidence: vec![ctx.ev(e, off, excerpt.clone())],
                    remediation: "Drop -B from the dropbear command line.",
                });
            }
            if is_inittab {
                // busybox and sysvinit: id:runlevels:action:process
                let fields: Vec<&str> = trimmed.splitn(4, ':').collect();
                if fields.len() == 4 {
                    let (tty, action, process) = (fields[0], fields[2], fields[3].trim());
                    let console_action = matches!(action, "respawn" | "askfirst" | "once" | "wait");
                    if console_action && r.raw_shell.is_match(process) {
                        let tty = if tty.is_empty() { "console" } else { tty };
                        out.findings.push(Finding {
                            rule: "debug-console-shell",
                            message: format!("inittab starts a root shell on {tty} without a login prompt (debug console)"),
                            severity: Severity::High,
                            provisions: vec!["5.6-4"],
                            evidence: vec![ctx.ev(e, off, excerpt.clone())],
                            remediation: "Start getty/login on serial consoles, or disable the console in production builds.",
                        });
                    }
                }
            }
        }
    }
    if !looked.is_empty() {
        let n = looked.len();
        let inittab = ctx.tree.get("/etc/inittab").any(|e| e.data().is_some());
        let bases = [
            ("5.6-1", format!(
                "the boot configuration ({n} file(s) read) starts no telnetd and no network listener handing out a shell"
            )),
            ("5.6-2", format!(
                "no service started by the boot configuration ({n} file(s) read) gives a login or shell without authentication (no telnetd, shell listener or dropbear -B)"
            )),
            ("5.6-4", if inittab {
                "/etc/inittab starts no shell on a console without a login prompt".to_string()
            } else {
                format!("no inittab; the boot configuration ({n} file(s) read) starts no console shell")
            }),
        ];
        for (p, basis) in bases {
            out.examined.push(Examined {
                provision: p,
                evidence: looked.clone(),
                basis,
            });
        }
    }
}

// ---------------------------------------------------------------------------------------
// §5.1 credentials written into scripts and web programs
// ---------------------------------------------------------------------------------------

struct CredentialRules {
    /// `echo root:secret | chpasswd`, `printf 'admin:x\n' | chpasswd -m`.
    chpasswd_pipe: Regex,
    /// `chpasswd <<< root:secret`.
    chpasswd_here: Regex,
    /// `echo -e "pw\npw" | passwd root`, `(echo pw; echo pw) | passwd`, `printf … | passwd`.
    passwd_pipe: Regex,
    /// `user == "admin" … pass == "1234"` and the shell/Lua/PHP/JavaScript spellings.
    web_pair: Regex,
    /// One string in a binary that is a whole `user:password` pair.
    binary_pair: Regex,
    /// An account name alone (a literal a compiled program compares the login against).
    account: Regex,
    /// The name of a password form field or variable (`password`, `login_pass`, `pwd`).
    password_field: Regex,
}

fn credential_rules() -> &'static CredentialRules {
    static R: OnceLock<CredentialRules> = OnceLock::new();
    R.get_or_init(|| CredentialRules {
        chpasswd_pipe: re(
            r#"\b(echo|printf)\s+(-[a-z]+\s+)*['"]?([A-Za-z_][A-Za-z0-9_.-]*):([^\s'":|\\]+)(\\n)?['"]?\s*\|\s*(\S*/)?chpasswd\b"#,
        ),
        chpasswd_here: re(r#"\bchpasswd\b[^<]*<<<\s*['"]?([A-Za-z_][A-Za-z0-9_.-]*):([^\s'"]+)"#),
        passwd_pipe: re(
            r#"\b(echo|printf)\b[^|]*?['"]?([^\s'"\\|;]+)(\\n|['"]?\s*;\s*echo\s+['"]?)([^\s'"\\|;)]+)[^|]*\|\s*(\S*/)?passwd(\s+([A-Za-z_][A-Za-z0-9_.-]*))?\s*$"#,
        ),
        web_pair: re(
            r#"(?i)\b\$?\{?(user(name)?|login|uname|usr)\}?["']?\s*(==|!=|=|\beq\b|\bne\b)\s*["']([^"'\s$%{}]{1,32})["'].{0,160}?\b\$?\{?(pass(word|wd)?|pwd)\}?["']?\s*(==|!=|=|\beq\b|\bne\b)\s*["']([^"'\s$%{}]{3,64})["']"#,
        ),
        binary_pair: re(r"^(root|admin|administrator|user|support|guest|super|telecomadmin):([!-~]{3,32})$"),
        account: re(r"^(root|admin|administrator|user|support|guest|super|telecomadmin)$"),
        password_field: re(r"(?i)^[a-z_.-]{0,16}(pass(word|wd)?|pwd)[a-z_.-]{0,16}$"),
    })
}

/// A string literal that could be a password a compiled program compares against: 4 to 32
/// printable characters without spaces, quotes or the punctuation of formats, paths and
/// queries, and not a plain lower-case word (a message such as `welcome`): it has a digit,
/// a capital or a symbol.
fn password_literal(s: &str) -> bool {
    (4..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !br#"%/=&<>"'`:;,\"#.contains(&b))
        && s.bytes().any(|b| !b.is_ascii_lowercase())
        && !placeholder(s)
}

/// The NUL-terminated string literals of a binary (as a compiler lays them out in
/// `.rodata`), with their offsets: (offset, text, offset just past its NUL padding).
fn literals(data: &[u8]) -> Vec<(usize, &str, usize)> {
    strings(data, 3)
        .filter(|&(at, s)| data.get(at + s.len()) == Some(&0))
        .map(|(at, s)| {
            let end = at + s.len();
            let pad = data[end..].iter().take_while(|&&b| b == 0).count();
            (at, s, end + pad)
        })
        .collect()
}

/// Where a web server finds programs and pages: CGI directories and the usual web roots.
fn web_program(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.contains("/cgi-bin/")
        || lower.ends_with(".cgi")
        || [
            "/www/",
            "/htdocs/",
            "/webroot/",
            "/web/",
            "/webs/",
            "/var/www/",
            "/usr/www/",
            "/home/httpd/",
        ]
        .iter()
        .any(|root| lower.contains(root))
            && [".asp", ".php", ".lua", ".sh", ".js", ".htm", ".html", ".pl"]
                .iter()
                .any(|ext| lower.ends_with(ext))
}

/// A password value that is a placeholder or a variable, not a literal.
fn placeholder(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    v.is_empty()
        || v.starts_with('$')
        || v.contains('%')
        || matches!(
            v.as_str(),
            "x" | "*" | "!" | "password" | "passwd" | "changeme" | "null" | "none" | "xxx" | "xxxx"
        )
}

/// The printable strings of at least `min` bytes in a binary, with their offsets.
fn strings(data: &[u8], min: usize) -> impl Iterator<Item = (usize, &str)> {
    data.split(|b| !(0x20..0x7f).contains(b))
        .scan(0usize, |at, s| {
            let start = *at;
            *at += s.len() + 1;
            Some((start, s))
        })
        .filter(move |(_, s)| s.len() >= min)
        .filter_map(|(at, s)| std::str::from_utf8(s).ok().map(|s| (at, s)))
}

/// §5.1: passwords written into the image's programs: boot scripts that set an account's
/// password to a fixed value (`chpasswd`, `passwd` fed from a pipe), and web programs
/// (CGI scripts and binaries, server-side pages) that compare a login against a literal
/// user and password. Each finding says how the script or program runs on the device.
pub fn hardcoded_credentials(ctx: &Ctx, out: &mut Outcome) {
    let r = credential_rules();
    let boot = BootScripts::read(ctx.tree);
    let set_at_boot = |e: &Entry| -> Option<String> {
        if init_like(&e.path)
            || e.path.starts_with("/etc/rc")
            || e.path.starts_with("/etc/preinit")
            || e.path.starts_with("/lib/preinit/")
        {
            Some(format!("run at boot as {}", e.path))
        } else {
            boot.runs(e)
        }
    };
    for e in ctx.tree.files() {
        let data = e.data().expect("file");
        let web = web_program(&e.path);
        let script = data.starts_with(b"#!")
            || e.path.ends_with(".sh")
            || init_like(&e.path)
            || e.path.starts_with("/etc/rc")
            || e.path.starts_with("/etc/preinit");
        if !(web || script) || data.len() > 4 << 20 {
            continue;
        }
        let how = if web {
            format!("served by the device's web server ({})", e.path)
        } else {
            match set_at_boot(e) {
                Some(how) => how,
                None => format!(
                    "a script in the image ({}), not started by the boot scripts",
                    e.path
                ),
            }
        };
        let live = web || set_at_boot(e).is_some();
        let severity = if live {
            Severity::High
        } else {
            Severity::Medium
        };
        if data.starts_with(b"\x7fELF") {
            if !web {
                continue;
            }
            for (off, s) in strings(data, 6) {
                let Some(c) = r.binary_pair.captures(s) else {
                    continue;
                };
                let (user, pass) = (&c[1], &c[2]);
                if placeholder(pass)
                    || pass.chars().all(|ch| ch.is_ascii_digit() || ch == ':') && pass.contains(':')
                {
                    continue;
                }
                out.findings.push(Finding {
                    rule: "hardcoded-credential",
                    message: format!(
                        "the web program {} holds a fixed login for account {user:?} ({how})",
                        e.display_path()
                    ),
                    severity,
                    provisions: vec!["5.1-1", "5.1-2"],
                    evidence: vec![ctx.ev(e, off, format!("{user}:<password, {} characters>", pass.len()))],
                    remediation: "Remove the built-in login; authenticate against the per-device credentials the user set.",
                });
            }
            // A compiled `strcmp(user, "admin") == 0 && strcmp(pass, "…") == 0`: the two
            // literals are laid out one after the other, in a program that reads a password
            // field.
            let lits = literals(data);
            if !lits.iter().any(|(_, s, _)| r.password_field.is_match(s)) {
                continue;
            }
            for pair in lits.windows(2) {
                let ((off, user, end), (next, pass, _)) = (pair[0], pair[1]);
                if next != end || !r.account.is_match(user) || !password_literal(pass) {
                    continue;
                }
                out.findings.push(Finding {
                    rule: "hardcoded-credential",
                    message: format!(
                        "the web program {} compares the login against a fixed account {user:?} and password, string literals at byte {off} ({how})",
                        e.display_path()
                    ),
                    severity,
                    provisions: vec!["5.1-1", "5.1-2"],
                    evidence: vec![ctx.ev(e, off, format!("user {user:?}, password <{} characters>", pass.len()))],
                    remediation: "Remove the built-in login; authenticate against the per-device credentials the user set.",
                });
            }
            continue;
        }
        for (off, line) in text_lines(data) {
            if is_comment(line) {
                continue;
            }
            let trimmed = line.trim();
            let set = r
                .chpasswd_pipe
                .captures(trimmed)
                .map(|c| (c[3].to_string(), c[4].to_string(), "chpasswd"))
                .or_else(|| {
                    r.chpasswd_here
                        .captures(trimmed)
                        .map(|c| (c[1].to_string(), c[2].to_string(), "chpasswd"))
                })
                .or_else(|| {
                    r.passwd_pipe
                        .captures(trimmed)
                        .filter(|c| c[2] == c[4])
                        .map(|c| {
                            let user = c.get(7).map_or("root", |m| m.as_str()).to_string();
                            (user, c[2].to_string(), "passwd")
                        })
                });
            if let Some((user, pass, tool)) = set.filter(|(_, p, _)| !placeholder(p)) {
                out.findings.push(Finding {
                    rule: "hardcoded-password-set",
                    message: format!(
                        "{} sets the password of account {user:?} to a fixed value with {tool} ({how}): every device gets the same password",
                        e.display_path()
                    ),
                    severity,
                    provisions: vec!["5.1-1", "5.1-2"],
                    evidence: vec![ctx.ev(e, off, format!("{user}:<password, {} characters> | {tool}", pass.len()))],
                    remediation: "Do not set passwords from scripts; generate a unique per-device password at manufacture or require the user to set one at first use.",
                });
                continue;
            }
            if web {
                if let Some(c) = r.web_pair.captures(trimmed) {
                    let (user, pass) = (&c[4], &c[8]);
                    if placeholder(pass) {
                        continue;
                    }
                    out.findings.push(Finding {
                        rule: "hardcoded-credential",
                        message: format!(
                            "{} accepts a fixed login for user {user:?} ({how})",
                            e.display_path()
                        ),
                        severity,
                        provisions: vec!["5.1-1", "5.1-2"],
                        evidence: vec![ctx.ev(e, off, format!("user {user:?}, password <{} characters>", pass.len()))],
                        remediation: "Remove the built-in login; authenticate against the per-device credentials the user set.",
                    });
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// §5.4 secrets
// ---------------------------------------------------------------------------------------

use crate::scan::{Sig, PEM_KINDS};

/// A PEM block is real when its END line follows within 64 KiB with only base64 text (and
/// RFC 1421 headers) between: a string literal inside a binary does not pass this.
fn real_pem_block(data: &[u8], start: usize, kind: &str) -> bool {
    let end_marker = format!("-----END {kind}-----");
    let body_start = start + kind.len() + 16;
    let window = &data[body_start..data.len().min(body_start + 65536)];
    let Some(end) = window
        .windows(end_marker.len())
        .position(|w| w == end_marker.as_bytes())
    else {
        return false;
    };
    let body = &window[..end];
    let b64 = body
        .iter()
        .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        .count();
    b64 >= 64
        && body
            .iter()
            .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace())
}

/// The dropbear key file format: a length-prefixed SSH key-type string.
fn dropbear_key_type(data: &[u8]) -> Option<&'static str> {
    for t in [
        "ssh-rsa",
        "ssh-ed25519",
        "ssh-dss",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
    ] {
        let mut prefix = (t.len() as u32).to_be_bytes().to_vec();
        prefix.extend_from_slice(t.as_bytes());
        if data.starts_with(&prefix) && data.len() > prefix.len() + 32 {
            return Some(t);
        }
    }
    None
}

fn secret_rule() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        re(r#"(?i)(?:^|[\s"'{,;])((?:[a-z0-9_.-]*?)(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|auth[_-]?key|psk))["']?\s*[:=]\s*["']?([^\s"'<>$`;,{}()]{8,})"#)
    })
}

fn aws_rule() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| re(r"\bAKIA[0-9A-Z]{16}\b"))
}

/// Values that distribution sample configurations ship and document publicly: OpenSSL's
/// openssl.cnf configures the Insta Demo CA's published test password for its CMP example.
const PUBLIC_SAMPLE_VALUES: &[&str] = &["pass:insta"];

fn config_like(path: &str) -> bool {
    [
        "/etc/",
        "/www/",
        "/var/www/",
        "/usr/share/www/",
        "/root/",
        "/home/",
        "/opt/",
        "/usr/local/etc/",
        "/usr/lib/lua/",
        "/srv/",
    ]
    .iter()
    .any(|p| path.starts_with(p))
        && !matches!(
            path,
            "/etc/shadow" | "/etc/passwd" | "/etc/shadow-" | "/etc/passwd-"
        )
}

/// §5.4: private keys (PEM, OpenSSH, dropbear host keys) anywhere in the image, and
/// hard-coded passwords and tokens in configuration and web files.
pub fn secrets(ctx: &Ctx, out: &mut Outcome) {
    let mut files = 0usize;
    for e in ctx.tree.files() {
        let data = e.data().expect("file");
        files += 1;
        for &(sig, start) in ctx.scan.hits(e) {
            let Sig::Pem(k) = sig else { continue };
            let kind = PEM_KINDS[k];
            if real_pem_block(data, start, kind) {
                out.findings.push(Finding {
                    rule: "embedded-private-key",
                    message: format!("a private key ({kind}) is embedded in the image (shared by every device)"),
                    severity: Severity::High,
                    provisions: vec!["5.4-3", "5.4-4"],
                    evidence: vec![ctx.ev(e, start, format!("-----BEGIN {kind}----- … (key material not copied)"))],
                    remediation: "Generate keys on the device at first boot (or per unit in the factory); never ship a private key in the image.",
                });
            }
        }
        if let Some(t) = dropbear_key_type(data) {
            out.findings.push(Finding {
                rule: "embedded-host-key",
                message: format!("a dropbear {t} host key is embedded in the image (every device has the same SSH identity)"),
                severity: Severity::High,
                provisions: vec!["5.4-3", "5.4-4"],
                evidence: vec![ctx.ev(e, 0, format!("dropbear {t} private key (not copied)"))],
                remediation: "Let dropbear create its host key at first boot (dropbear -R) instead of shipping one.",
            });
        }
        if config_like(&e.path) && data.len() <= 1 << 20 {
            for (off, line) in text_lines(data) {
                if is_comment(line) {
                    continue;
                }
                if let Some(c) = secret_rule().captures(line) {
                    let key = c.get(1).map(|m| m.as_str()).unwrap_or("");
                    let value = c.get(2).map(|m| m.as_str()).unwrap_or("");
                    if value.chars().all(|ch| ch == 'x' || ch == 'X' || ch == '*')
                        || PUBLIC_SAMPLE_VALUES.contains(&value)
                    {
                        continue; // a visible placeholder or a documented public sample
                    }
                    out.findings.push(Finding {
                        rule: "hard-coded-secret",
                        message: format!("a hard-coded credential ({key}) is set in {}", e.path),
                        severity: Severity::High,
                        provisions: vec!["5.4-3"],
                        evidence: vec![ctx.ev(e, off + c.get(1).map(|m| m.start()).unwrap_or(0), format!("{key}=<{} characters masked>", value.len()))],
                        remediation: "Provision credentials per device at manufacture or first use; keep none in the image.",
                    });
                }
                if let Some(m) = aws_rule().find(line) {
                    out.findings.push(Finding {
                        rule: "hard-coded-secret",
                        message: format!("a cloud access key id is hard-coded in {}", e.path),
                        severity: Severity::High,
                        provisions: vec!["5.4-3"],
                        evidence: vec![ctx.ev(e, off + m.start(), "AKIA<masked>")],
                        remediation: "Provision credentials per device at manufacture or first use; keep none in the image.",
                    });
                }
            }
        }
    }
    if files > 0 {
        let bases = [
            ("5.4-3", format!(
                "{files} files scanned: no private key, SSH host key or hard-coded credential in the image"
            )),
            ("5.4-4", format!(
                "{files} files scanned: no private key or SSH host key that every device would share"
            )),
        ];
        for (p, basis) in bases {
            out.examined.push(Examined {
                provision: p,
                evidence: vec![],
                basis,
            });
        }
    }
}

// ---------------------------------------------------------------------------------------
// §5.3 updates
// ---------------------------------------------------------------------------------------

fn updater_name(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or("");
    let in_bin = [
        "/bin/",
        "/sbin/",
        "/usr/bin/",
        "/usr/sbin/",
        "/usr/libexec/",
        "/lib/upgrade/",
        "/usr/lib/",
    ]
    .iter()
    .any(|d| path.starts_with(d));
    in_bin
        && (matches!(
            base,
            "sysupgrade" | "swupdate" | "rauc" | "mender" | "fwupd" | "fwupdtool"
        ) || base.contains("fw-update")
            || base.contains("fw_update")
            || base.contains("fwupdate")
            || base.contains("firmware-update")
            || base.contains("ota-update")
            || base.contains("ota_update"))
}

fn verify_rule() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        re(r"openssl\s+(dgst|pkeyutl)\b.*-verify|openssl\s+(cms|smime)\s.*-verify|\busign\s.*-V\b|\bsignify\s+-V\b|\bgpgv\b|\bgpg\s.*--verify|\bminisign\s+-V")
    })
}

/// §5.3: is there an updater, does it verify signatures (and with which embedded key), does it
/// fetch over HTTPS, does it refuse downgrades.
pub fn updates(ctx: &Ctx, out: &mut Outcome) {
    let updaters: Vec<&Entry> = ctx.tree.files().filter(|e| updater_name(&e.path)).collect();
    if updaters.is_empty() {
        return;
    }
    let mut verify = Vec::new();
    let mut https = Vec::new();
    let mut http = Vec::new();
    let mut rollback = Vec::new();
    for e in &updaters {
        let data = e.data().expect("file");
        let builtin_verifier = matches!(
            e.path.rsplit('/').next(),
            Some("rauc" | "mender" | "swupdate")
        );
        if builtin_verifier {
            verify.push(ctx.ev(
                e,
                0,
                "update framework with built-in signature verification",
            ));
        }
        for (off, line) in text_lines(data) {
            if is_comment(line) {
                continue;
            }
            let excerpt: String = line.trim().chars().take(120).collect();
            if verify_rule().is_match(line) {
                verify.push(ctx.ev(e, off, excerpt.clone()));
            }
            if line.contains("https://") {
                https.push(ctx.ev(e, off, excerpt.clone()));
            } else if line.contains("http://") {
                http.push(ctx.ev(e, off, excerpt.clone()));
            }
            let l = line.to_ascii_lowercase();
            if l.contains("rollback") || l.contains("downgrade") {
                rollback.push(ctx.ev(e, off, excerpt.clone()));
            }
        }
    }
    let found: Vec<Evidence> = updaters
        .iter()
        .map(|e| ctx.ev(e, 0, "update program"))
        .collect();
    out.examined.push(Examined {
        provision: "5.3-2",
        evidence: found.clone(),
        basis: format!(
            "an update mechanism is present ({})",
            updaters
                .iter()
                .map(|e| e.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });
    if verify.is_empty() {
        out.findings.push(Finding {
            rule: "unsigned-updates",
            message: "the updater installs images without checking a signature".into(),
            severity: Severity::High,
            provisions: vec!["5.3-7", "5.3-9", "5.3-10"],
            evidence: found,
            remediation: "Verify a signature over every update (e.g. openssl/usign with a public key in the read-only image) before writing it.",
        });
    } else {
        let mut ev = verify.clone();
        ev.extend(https.iter().cloned());
        ev.extend(rollback.iter().cloned());
        let how = verify
            .first()
            .map(|e| e.excerpt.clone())
            .unwrap_or_default();
        let bases = [
            ("5.3-7", format!(
                "the update mechanism is protected by a public-key signature check ({how}){}",
                if https.is_empty() { "" } else { " and fetches over HTTPS" }
            )),
            ("5.3-9", format!(
                "the updater checks the image's signature before installing it{}",
                if rollback.is_empty() { "" } else { " and refuses downgrades" }
            )),
            ("5.3-10", format!(
                "updates received over the network are checked against a signature key shipped in the image{}",
                if https.is_empty() { "" } else { " (fetched over HTTPS)" }
            )),
        ];
        for (p, basis) in bases {
            out.examined.push(Examined {
                provision: p,
                evidence: ev.clone(),
                basis,
            });
        }
    }
    if https.is_empty() && !http.is_empty() && verify.is_empty() {
        out.findings.push(Finding {
            rule: "update-over-http",
            message: "updates are fetched over plain HTTP with no signature check".into(),
            severity: Severity::High,
            provisions: vec!["5.3-7"],
            evidence: http,
            remediation: "Fetch updates over HTTPS and verify a signature before installing.",
        });
    }
}

// ---------------------------------------------------------------------------------------
// §5.2 disclosure
// ---------------------------------------------------------------------------------------

/// §5.2-1: a security.txt (RFC 9116) or a disclosure contact shipped in the image.
pub fn disclosure(ctx: &Ctx, out: &mut Outcome) {
    let mut ev = Vec::new();
    for e in ctx.tree.files() {
        if e.path.ends_with("/security.txt") {
            let data = e.data().expect("file");
            for (off, line) in text_lines(data) {
                // RFC 9116 §2.5.3: Contact is the one required field.
                if line.to_ascii_lowercase().starts_with("contact:") {
                    ev.push(ctx.ev(e, off, line.trim().chars().take(120).collect::<String>()));
                }
            }
        }
    }
    if !ev.is_empty() {
        out.examined.push(Examined {
            provision: "5.2-1",
            evidence: ev,
            basis: "a security.txt (RFC 9116) with a Contact field is shipped".into(),
        });
    }
}
