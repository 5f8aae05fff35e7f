//! The in-memory virtual file tree an image unpacks into.
//!
//! Nothing is ever written to disk: every extracted file lives here, under a normalised
//! path that cannot contain `..`, so no archive can reach outside the extraction root.
//! Symbolic links are recorded with their target and never followed.

use std::collections::BTreeMap;
use std::sync::Arc;

/// What one entry of the tree is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file with its full contents. Shared: files whose data blocks a squashfs
    /// stores once (hard links, duplicates) hold the same bytes, decompressed and scanned once.
    File(Arc<Vec<u8>>),
    /// A symbolic link: the target exactly as stored (never resolved, never followed).
    Symlink(String),
    /// A directory.
    Dir,
    /// A device node, fifo or socket (contents not meaningful).
    Special,
}

/// One file, link or directory extracted from the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The container chain that holds this entry, e.g. `""` for the image's own
    /// filesystem, or `/rootfs.tar` when it came out of a tar file found at that path.
    /// Containers are joined with `!` (`/a.tar!/b.cpio`).
    pub container: String,
    /// The path inside its container, always absolute and normalised (`/etc/shadow`).
    pub path: String,
    /// Unix permission bits when the format records them.
    pub mode: u32,
    /// Contents or link target.
    pub kind: EntryKind,
}

impl Entry {
    /// `container!path`, or just `path` for the outermost filesystem: the name used in
    /// evidence.
    pub fn display_path(&self) -> String {
        if self.container.is_empty() {
            self.path.clone()
        } else {
            format!("{}!{}", self.container, self.path)
        }
    }

    /// The contents of a regular file, `None` for anything else.
    pub fn data(&self) -> Option<&[u8]> {
        match &self.kind {
            EntryKind::File(d) => Some(d.as_slice()),
            _ => None,
        }
    }
}

/// Every entry extracted from one image, in extraction order.
#[derive(Debug, Default, Clone)]
pub struct Tree {
    /// All entries (files, links, directories) of all containers.
    pub entries: Vec<Entry>,
    /// Index from in-container path to entry indices (a path may occur in several
    /// containers, e.g. two firmware partitions).
    by_path: BTreeMap<String, Vec<usize>>,
}

impl Tree {
    /// Add an entry.
    pub fn push(&mut self, entry: Entry) {
        self.by_path
            .entry(entry.path.clone())
            .or_default()
            .push(self.entries.len());
        self.entries.push(entry);
    }

    /// All entries with this in-container path (any container).
    pub fn get(&self, path: &str) -> impl Iterator<Item = &Entry> {
        self.by_path
            .get(path)
            .into_iter()
            .flatten()
            .map(move |i| &self.entries[*i])
    }

    /// Regular files whose in-container path starts with `prefix`.
    pub fn files_under<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.by_path
            .range(prefix.to_string()..)
            .take_while(move |(k, _)| k.starts_with(prefix))
            .flat_map(move |(_, v)| v.iter().map(move |i| &self.entries[*i]))
            .filter(|e| matches!(e.kind, EntryKind::File(_)))
    }

    /// Every regular file.
    pub fn files(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| matches!(e.kind, EntryKind::File(_)))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing was extracted.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Normalise an archive member name into an absolute path inside the extraction root.
///
/// Leading `/` and `./` are dropped (as GNU tar and cpio do) and `.` components skipped;
/// a `..` component, an empty name or a NUL byte is refused, because it would name
/// something outside the root or nothing at all. Returns the reason on refusal.
pub fn normalise(raw: &[u8]) -> Result<String, &'static str> {
    if raw.contains(&0) {
        return Err("name contains a NUL byte");
    }
    let s = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(s.len() + 1);
    for part in s.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err("name contains a `..` component (path traversal)"),
            p => {
                out.push('/');
                out.push_str(p);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_strips_and_refuses() {
        assert_eq!(normalise(b"./etc//shadow").unwrap(), "/etc/shadow");
        assert_eq!(normalise(b"/etc/./passwd").unwrap(), "/etc/passwd");
        assert_eq!(normalise(b".").unwrap(), "/");
        assert!(normalise(b"../etc/passwd").is_err());
        assert!(normalise(b"a/../../b").is_err());
        assert!(normalise(b"a\0b").is_err());
    }

    #[test]
    fn files_under_is_a_prefix_range() {
        let mut t = Tree::default();
        for p in ["/etc/a", "/etc/b", "/etcx", "/usr/c"] {
            t.push(Entry {
                container: String::new(),
                path: p.into(),
                mode: 0o644,
                kind: EntryKind::File(Arc::new(vec![])),
            });
        }
        let got: Vec<_> = t.files_under("/etc/").map(|e| e.path.as_str()).collect();
        assert_eq!(got, ["/etc/a", "/etc/b"]);
    }
}
