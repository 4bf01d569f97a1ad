//! A PostgreSQL cluster of the test's own (`initdb` + `pg_ctl` on a temporary folder and
//! a free port), so a test can stop it, crash it and start it again without touching
//! any other database on the machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use super::small_disk::SmallDisk;

/// A running private cluster; stopped (immediately) and removed on drop.
pub struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// Holds the folder (data, socket, log) until the cluster is gone.
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Creates and starts a cluster; `None` (after saying why) when PostgreSQL's server
    /// programs are not installed, which only outside CI is allowed.
    pub fn start() -> Option<Self> {
        let Some(bin) = server_bin() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "initdb is not installed: CI must install PostgreSQL's server (see .ci/run)"
            );
            eprintln!(
                "SKIPPED: initdb is not installed; install PostgreSQL's server to run this test"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        // PostgreSQL refuses to run as root: the cluster then belongs to `postgres`.
        if is_root() {
            run(Command::new("chown").arg("postgres").arg(dir.path()));
            run(Command::new("chmod").arg("755").arg(dir.path()));
        }
        let port = free_port();
        let cluster = Self {
            bin,
            data,
            port,
            _dir: dir,
        };
        cluster.pg("initdb", |c| {
            c.arg("-D")
                .arg(&cluster.data)
                .args(["--username=postgres", "--auth=trust", "--no-sync"])
                .args(["--encoding=UTF8", "--locale=C"]);
        });
        cluster.up();
        Some(cluster)
    }

    /// The URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&self) {
        let socket_dir = self.data.parent().expect("data folder's parent");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=200",
            self.port,
            socket_dir.display()
        );
        let log = socket_dir.join("server.log");
        self.pg("pg_ctl", |c| {
            c.args(["start", "-w", "-t", "60", "-D"])
                .arg(&self.data)
                .arg("-l")
                .arg(&log)
                .arg("-o")
                .arg(&options);
        });
    }

    /// Stops the server at once, as a power cut would (`pg_ctl stop -m immediate`: no
    /// checkpoint, clients cut off; the next start recovers from the WAL).
    pub fn stop_immediately(&self) {
        self.pg("pg_ctl", |c| {
            c.args(["stop", "-m", "immediate", "-w", "-D"])
                .arg(&self.data);
        });
    }

    /// Kills the postmaster with SIGKILL and waits until it is gone; its backends notice
    /// and exit. The next start recovers from the WAL.
    pub fn kill_postmaster(&self) {
        let pid_file = std::fs::read_to_string(self.data.join("postmaster.pid"))
            .expect("postmaster.pid of a running cluster");
        let pid = pid_file.lines().next().expect("pid line").trim().to_owned();
        run(Command::new("kill").args(["-KILL", &pid]));
        let deadline = Instant::now() + Duration::from_secs(30);
        while Path::new(&format!("/proc/{pid}")).exists() {
            assert!(Instant::now() < deadline, "the postmaster did not die");
            std::thread::sleep(Duration::from_millis(20));
        }
        // Backends left by a killed postmaster hold the shared memory until they exit;
        // a new postmaster refuses to start until they have.
        let deadline = Instant::now() + Duration::from_secs(30);
        while backends_of(&self.data) > 0 {
            assert!(Instant::now() < deadline, "orphaned backends did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs one SQL statement in the `postgres` database with `psql`.
    pub fn sql(&self, statement: &str) {
        // Beside the server programs, or wherever the client is on `PATH`.
        let psql = Some(self.bin.join("psql"))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("psql"));
        run(Command::new(psql)
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
            ])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-c")
            .arg(statement));
    }

    /// Makes a tablespace on `disk` the default for every table created from here on,
    /// so a test can fill the disk under the tables while the WAL, on the data folder's
    /// disk, keeps the server up.
    pub fn tablespace_on(&self, disk: &SmallDisk) {
        run(Command::new("chown").arg("postgres").arg(disk.path()));
        self.sql(&format!(
            "CREATE TABLESPACE small LOCATION '{}'",
            disk.path().display()
        ));
        self.sql("ALTER DATABASE postgres SET default_tablespace = small");
    }

    /// Runs one of the server programs (as `postgres` when this is root).
    fn pg(&self, program: &str, args: impl FnOnce(&mut Command)) -> Output {
        let exe = self.bin.join(program);
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        args(&mut cmd);
        run(&mut cmd)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_quiet_stop();
    }
}

impl Cluster {
    fn pg_quiet_stop(&self) -> std::io::Result<()> {
        let exe = self.bin.join("pg_ctl");
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        cmd.args(["stop", "-m", "immediate", "-w", "-D"])
            .arg(&self.data)
            .output()
            .map(drop)
    }
}

/// Runs `cmd` and fails the test with its output when it fails.
pub(crate) fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The folder with `initdb` and `pg_ctl`: on `PATH`, or Debian's
/// `/usr/lib/postgresql/<version>/bin` (the newest).
fn server_bin() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    if on_path.is_some() {
        return on_path;
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

pub(crate) fn is_root() -> bool {
    // The effective uid, from the kernel's own account of this process.
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find(|l| l.starts_with("Uid:"))
            .and_then(|l| l.split_whitespace().nth(2))
            .is_some_and(|euid| euid == "0")
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// How many processes still run with `data` as their data folder (a killed
/// postmaster's backends).
fn backends_of(data: &Path) -> usize {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let needle = data.to_string_lossy().into_owned();
    procs
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.parse::<u32>().is_ok())
        })
        .filter(|e| {
            std::fs::read(e.path().join("environ")).is_ok_and(|env| {
                String::from_utf8_lossy(&env).contains(&format!("PGDATA={needle}"))
            }) || std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|cmd| String::from_utf8_lossy(&cmd).contains(&needle))
        })
        .count()
}
