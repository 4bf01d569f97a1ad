//! A filesystem of a fixed, small size (a tmpfs) for tests that fill the disk.

use std::path::Path;
use std::process::Command;

use super::cluster::{is_root, run};

/// A mounted tmpfs; unmounted on drop.
pub struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts a tmpfs of `mib` MiB on a new temporary folder; `None` (after saying why)
    /// when this process may not mount, which only outside CI is allowed.
    pub fn mount(mib: u32) -> Option<Self> {
        if !is_root() {
            assert!(
                std::env::var_os("CI").is_none(),
                "mounting a small filesystem needs root under CI"
            );
            eprintln!("SKIPPED: mounting a small filesystem needs root");
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        run(Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m,mode=755")])
            .arg("tmpfs")
            .arg(dir.path()));
        Some(Self { dir })
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Grows the filesystem to `mib` MiB, as an operator freeing space would.
    pub fn grow(&self, mib: u32) {
        run(Command::new("mount")
            .args(["-o", &format!("remount,size={mib}m")])
            .arg(self.dir.path()));
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        // Lazily: a server may still have files open on it.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .output();
    }
}
