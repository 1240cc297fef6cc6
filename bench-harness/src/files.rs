//! Files the harness writes and reads: atomic writes (a temporary, fsynced, then renamed), a
//! set of files replaced together through a journal, recovery of what a killed writer left,
//! the writability probe run before measuring, and size-capped reads.
//!
//! Temporaries are named `.<name>.tmp-<pid>-<random>` beside their target and created
//! exclusively (never through an existing file or symlink). A writer removes its own on every
//! error; a killed one cannot, so every writer first runs [`recover_dir`], which deletes
//! temporaries of processes that no longer exist and rolls an interrupted [`write_pair`] forward.

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Why a file could not be read or written.
#[derive(Debug)]
pub enum FileError {
    /// The file could not be read or written.
    Io(String, std::io::Error),
    /// Not valid JSON, or not this schema's shape.
    Corrupt(String, String),
    /// A file of another schema version (the file, its schema, the one this build reads).
    Schema(String, String, &'static str),
    /// Larger than the cap (the file, its size, the cap).
    TooLarge(String, u64, u64),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::Io(p, e) => write!(f, "{p}: {e}"),
            FileError::Corrupt(p, e) => write!(f, "{p}: not a valid file of its schema: {e}"),
            FileError::Schema(p, s, want) => {
                write!(f, "{p}: schema is \"{s}\", this build reads \"{want}\"")
            }
            FileError::TooLarge(p, size, cap) => write!(
                f,
                "{p}: {size} bytes, over the cap of {cap} bytes for files this tool reads (a full-suite results file is a few MB)"
            ),
        }
    }
}

impl std::error::Error for FileError {}

/// The lock file of an output directory: one writer at a time ([`lock_dir`]).
const LOCK: &str = ".simdconv.lock";

/// Directories this process holds the lock of (canonical paths).
static HELD: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// An output directory locked for this process: one writer at a time reads, recovers and
/// replaces its files (an exclusive `flock` on `.simdconv.lock`, released on drop or when the
/// process dies). Two writers into one folder used to lose rows (`--append`) or mix the set.
pub(crate) struct DirLock {
    file: File,
    dir: PathBuf,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
        if let Ok(mut held) = HELD.lock() {
            held.retain(|d| d != &self.dir);
        }
    }
}

fn canonical(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Locks `dir` (created if needed) for this process, or says that another writer holds it.
pub(crate) fn lock_dir(dir: &Path) -> Result<DirLock, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(LOCK);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(format!(
                "{}: another simdconv-bench is writing to this folder; wait for it or choose \
                 another --out",
                dir.display()
            ))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(format!("{}: cannot lock: {e}", path.display()))
        }
    }
    let dir = canonical(dir);
    if let Ok(mut held) = HELD.lock() {
        held.push(dir.clone());
    }
    Ok(DirLock { file, dir })
}

/// The journal of a [`write_pair`] in progress: one `temporary\tfinal` line per file.
const JOURNAL: &str = ".replace-pending";

fn io(path: &Path) -> impl Fn(std::io::Error) -> FileError + '_ {
    move |e| FileError::Io(path.display().to_string(), e)
}

fn dir_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A random 64-bit value (the standard library's per-process random hash keys, which come from
/// the OS's generator), for names another user cannot predict.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

fn temp_for(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    dir_of(path).join(format!(
        ".{name}.tmp-{}-{:016x}",
        std::process::id(),
        random()
    ))
}

/// Creates `path` exclusively: fails if anything exists there, a symlink included (`O_EXCL`
/// does not follow links), so a planted link cannot redirect the write.
fn create_new(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Writes and fsyncs `bytes` into a new file.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = create_new(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Makes the directory's entries (renames, removals) durable.
fn sync_dir(dir: &Path) {
    // Directories cannot be opened for syncing on every platform; a failure only loses
    // durability, never data the caller can see.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `bytes` to `path` through a fsynced temporary and a rename: a reader sees the old
/// file or the new one, never half of one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    write_pair(&[(path, bytes)])
}

/// Replaces several files of one directory together: all temporaries are written and fsynced,
/// then a journal naming them, then the renames. A writer killed before the journal leaves the
/// old files (its temporaries are removed by the next [`recover_dir`]); one killed after it
/// leaves a journal that the next [`recover_dir`] completes. So a results.json and the
/// index.html rendered from it are never out of step.
pub(crate) fn write_pair(files: &[(&Path, &[u8])]) -> Result<(), FileError> {
    let Some((first, _)) = files.first() else {
        return Ok(());
    };
    let dir = dir_of(first);
    // Under the directory's lock: the caller's, else one held for this write.
    let held = HELD
        .lock()
        .map(|h| h.contains(&canonical(dir)))
        .unwrap_or(false);
    let _lock = if held {
        None
    } else {
        Some(
            lock_dir(dir)
                .map_err(|e| FileError::Io(dir.display().to_string(), std::io::Error::other(e)))?,
        )
    };
    recover_dir(dir)?;
    let temps: Vec<PathBuf> = files.iter().map(|(p, _)| temp_for(p)).collect();
    let cleanup = |temps: &[PathBuf]| {
        for t in temps {
            let _ = std::fs::remove_file(t);
        }
    };
    for ((path, bytes), tmp) in files.iter().zip(&temps) {
        if dir_of(path) != dir {
            cleanup(&temps);
            return Err(FileError::Io(
                path.display().to_string(),
                std::io::Error::other("files replaced together must share a directory"),
            ));
        }
        if let Err(e) = write_synced(tmp, bytes) {
            cleanup(&temps);
            return Err(io(path)(e));
        }
    }
    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned());
    let journal = dir.join(JOURNAL);
    if files.len() > 1 {
        let lines: String = files
            .iter()
            .zip(&temps)
            .filter_map(|((p, _), t)| Some(format!("{}\t{}\n", name(t)?, name(p)?)))
            .collect();
        if let Err(e) = write_synced(&journal, lines.as_bytes()) {
            cleanup(&temps);
            let _ = std::fs::remove_file(&journal);
            return Err(io(&journal)(e));
        }
        sync_dir(dir);
    }
    for ((path, _), tmp) in files.iter().zip(&temps) {
        std::fs::rename(tmp, path).map_err(io(path))?;
    }
    sync_dir(dir);
    if files.len() > 1 {
        std::fs::remove_file(&journal).map_err(io(&journal))?;
        sync_dir(dir);
    }
    Ok(())
}

/// Whether a process with this id is running (on Linux, from /proc; elsewhere assumed alive,
/// so nothing of a live writer is ever removed).
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

/// The writer's pid in a temporary's name (`.<name>.tmp-<pid>-<random>`, or `.tmp-<pid>` as
/// older versions wrote it), if it is one.
fn temp_pid(name: &str) -> Option<u32> {
    let (head, tail) = name.rsplit_once(".tmp-")?;
    if !head.starts_with('.') {
        return None;
    }
    tail.split('-').next()?.parse().ok()
}

/// Finishes what a killed writer left in `dir` (call it under the directory's lock, as
/// [`write_pair`] does): rolls a journalled replace forward (the journal
/// is written only after every temporary it names was complete and fsynced, so each temporary
/// still there is renamed; a missing one was renamed already), and deletes temporaries of dead
/// processes.
pub(crate) fn recover_dir(dir: &Path) -> Result<(), FileError> {
    let journal = dir.join(JOURNAL);
    if let Ok(text) = std::fs::read_to_string(&journal) {
        let pairs: Vec<(PathBuf, PathBuf)> = text
            .lines()
            .filter_map(|l| l.split_once('\t'))
            // Only plain names: a journal never points outside its directory.
            .filter(|(t, f)| !t.contains('/') && !f.contains('/') && temp_pid(t).is_some())
            .map(|(t, f)| (dir.join(t), dir.join(f)))
            .collect();
        for (t, f) in &pairs {
            if t.exists() {
                std::fs::rename(t, f).map_err(io(f))?;
            }
        }
        std::fs::remove_file(&journal).map_err(io(&journal))?;
        sync_dir(dir);
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if temp_pid(&name).is_some_and(|pid| pid != std::process::id() && !alive(pid)) {
            let _ = std::fs::remove_file(e.path());
        }
    }
    Ok(())
}

/// Creates `dir` if needed and checks a file can be created in it (before minutes of
/// measuring, not after).
pub(crate) fn ensure_writable(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let probe = dir.join(format!(
        ".write-probe.tmp-{}-{:016x}",
        std::process::id(),
        random()
    ));
    match create_new(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!(
            "{}: not writable ({e}): choose another --out",
            dir.display()
        )),
    }
}

/// Reads a regular text file of at most `cap` bytes (see [`read_bytes_capped`]).
pub(crate) fn read_capped(path: &Path, cap: u64) -> Result<String, FileError> {
    let bytes = read_bytes_capped(path, cap)?;
    String::from_utf8(bytes).map_err(|e| {
        FileError::Io(
            path.display().to_string(),
            std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
        )
    })
}

/// Reads a regular file of at most `cap` bytes, through a reader that stops at the cap (a
/// device such as /dev/zero reports size 0 and never ends; a FIFO would block the open, so only
/// regular files are opened).
pub(crate) fn read_bytes_capped(path: &Path, cap: u64) -> Result<Vec<u8>, FileError> {
    use std::io::Read as _;
    let name = path.display().to_string();
    let err = |e| FileError::Io(name.clone(), e);
    let not_regular = || {
        err(std::io::Error::other(
            "not a regular file (devices, FIFOs and directories are not read)",
        ))
    };
    if !std::fs::metadata(path).map_err(err)?.is_file() {
        return Err(not_regular());
    }
    let f = File::open(path).map_err(err)?;
    if !f.metadata().map_err(err)?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    f.take(cap + 1).read_to_end(&mut bytes).map_err(err)?;
    if bytes.len() as u64 > cap {
        let size = std::fs::metadata(path).map_or(cap + 1, |m| m.len().max(cap + 1));
        return Err(FileError::TooLarge(name, size, cap));
    }
    Ok(bytes)
}
