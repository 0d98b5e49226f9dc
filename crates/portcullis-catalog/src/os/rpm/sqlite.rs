//! Reader of rpm >= 4.16's `rpmdb.sqlite` (table `Packages(hnum, blob)`),
//! opened from memory so that image contents never touch the disk.

use std::io::Read;

use rusqlite::{Connection, OpenFlags};

pub const MAGIC: &[u8; 16] = b"SQLite format 3\0";

#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    #[error("file is {len} bytes, too short for an SQLite database")]
    TooShort { len: usize },
    #[error("not an SQLite database")]
    BadMagic,
    #[error("SQLite database is truncated: its header declares {needed} bytes, the file has {len}")]
    Truncated { needed: u64, len: usize },
    #[error("SQLite database of {len} bytes is too large to open in memory")]
    TooLarge { len: usize },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Returns the `blob` column of every row of `Packages`, in `hnum` order.
pub fn read_blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, SqliteError> {
    if bytes.len() < 100 {
        return Err(SqliteError::TooShort { len: bytes.len() });
    }
    if &bytes[..16] != MAGIC {
        return Err(SqliteError::BadMagic);
    }
    // rusqlite sizes the buffer with sqlite3_malloc (a C int) and unwraps the
    // conversion, so anything larger would panic instead of failing.
    if bytes.len() >= i32::MAX as usize {
        return Err(SqliteError::TooLarge { len: bytes.len() });
    }
    // SQLite happily reads a file cut short as long as the missing pages are
    // not visited, so check the size the header records. It is only
    // trustworthy when "version-valid-for" (offset 92) matches the change
    // counter (offset 24).
    let be32 = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        n => u64::from(n),
    };
    if be32(24) == be32(92) {
        let needed = page_size * u64::from(be32(28));
        if (bytes.len() as u64) < needed {
            return Err(SqliteError::Truncated { needed, len: bytes.len() });
        }
    }
    // rpm writes its database in WAL mode (header bytes 18/19 = 2), which the
    // in-memory VFS cannot open; marking it rollback-journal reads the same
    // pages. Anything still only in a -wal file is not in these bytes anyway.
    let patched = bytes[..18].chain(&[1u8, 1][..]).chain(&bytes[20..]);

    let mut conn = Connection::open_in_memory_with_flags(OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.deserialize_read_exact("main", patched, bytes.len(), true)?;
    conn.pragma_update(None, "query_only", true)?;

    let mut stmt = conn.prepare("SELECT blob FROM Packages ORDER BY hnum")?;
    let rows = stmt.query_map([], |row| row.get::<_, Vec<u8>>(0))?;
    let blobs = rows.collect::<Result<Vec<_>, _>>()?;
    Ok(blobs)
}
