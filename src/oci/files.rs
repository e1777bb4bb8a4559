//! Reading files provost did not write itself (layouts, cache entries) without being fooled by
//! what sits at the path: only regular files are read, never more than a limit, so a FIFO or
//! `/dev/zero` in place of an `index.json` or a cache pack is refused instead of hanging or
//! filling memory.

use std::io::Read;
use std::path::Path;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file (a FIFO, device, directory or dangling link is refused)")]
    NotRegular,
    #[error("a symbolic link (refused here)")]
    Symlink,
    #[error("larger than {0} bytes")]
    TooLarge(u64),
}

/// Reads `path` if it is a regular file of at most `limit` bytes. With `follow` false, a
/// symbolic link is refused too.
pub fn read_regular(path: &Path, limit: u64, follow: bool) -> Result<Vec<u8>, FileError> {
    let link = std::fs::symlink_metadata(path)?;
    if link.file_type().is_symlink() && !follow {
        return Err(FileError::Symlink);
    }
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(FileError::NotRegular);
    }
    if meta.len() > limit {
        return Err(FileError::TooLarge(limit));
    }
    let f = std::fs::File::open(path)?;
    // Re-check the opened file: the path may have been swapped since.
    if !f.metadata()?.is_file() {
        return Err(FileError::NotRegular);
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    f.take(limit + 1).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(FileError::TooLarge(limit));
    }
    Ok(out)
}

/// The most a configuration, policy, theme or keymap file may hold.
pub const MAX_TEXT_FILE: u64 = 8 << 20;

/// Reads a text file provost is configured with: a regular file of at most 8 MiB, UTF-8.
pub fn read_text_file(path: &Path) -> Result<String, FileError> {
    let bytes = read_regular(path, MAX_TEXT_FILE, true)?;
    String::from_utf8(bytes).map_err(|e| {
        FileError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            e.to_string(),
        ))
    })
}

/// Creates `dir` if needed and makes it private to the user (0700). Refuses a symbolic link or
/// a directory owned by someone else, which another user could have planted.
pub fn private_dir(dir: &Path) -> Result<(), FileError> {
    std::fs::create_dir_all(dir)?;
    let meta = std::fs::symlink_metadata(dir)?;
    if meta.file_type().is_symlink() {
        return Err(FileError::Symlink);
    }
    if !meta.is_dir() {
        return Err(FileError::NotRegular);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(FileError::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "owned by another user",
            )));
        }
        if meta.permissions().mode() & 0o777 != 0o700 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_files_links_and_big_files_are_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let f = tmp.path().join("f");
        std::fs::write(&f, b"hello").expect("write");
        assert_eq!(read_regular(&f, 10, false).expect("read"), b"hello");
        assert!(matches!(
            read_regular(&f, 3, false),
            Err(FileError::TooLarge(3))
        ));
        let l = tmp.path().join("l");
        std::os::unix::fs::symlink("/dev/zero", &l).expect("link");
        assert!(matches!(
            read_regular(&l, 10, false),
            Err(FileError::Symlink)
        ));
        assert!(matches!(
            read_regular(&l, 10, true),
            Err(FileError::NotRegular)
        ));
        let fifo = tmp.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().expect("utf8")).expect("cstring");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(matches!(
            read_regular(&fifo, 10, true),
            Err(FileError::NotRegular)
        ));
        let d = tmp.path().join("cache");
        private_dir(&d).expect("private");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&d).expect("meta").permissions().mode() & 0o777,
            0o700
        );
        let dl = tmp.path().join("dl");
        std::os::unix::fs::symlink(&d, &dl).expect("link");
        assert!(matches!(private_dir(&dl), Err(FileError::Symlink)));
    }
}
