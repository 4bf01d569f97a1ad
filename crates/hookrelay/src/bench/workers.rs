//! Separate worker processes for `bench --workers N`: this binary started N times as
//! `hookrelay serve --role worker` on the benchmark's database and schema, so the
//! figures include what crossing processes costs (claims, leases, notifications).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use hookrelay_server::Config;

/// The running worker processes; stopped (SIGKILL) when dropped.
pub struct Workers(Vec<Child>);

impl Workers {
    /// Starts `n` workers on `config`'s database and waits until each is serving.
    pub fn spawn(config: &Config, n: usize, dir: &Path) -> anyhow::Result<Self> {
        let exe = std::env::current_exe().context("cannot find this program to start workers")?;
        let mut children = Vec::with_capacity(n);
        for i in 0..n {
            let mut cmd = Command::new(&exe);
            cmd.arg("serve")
                .current_dir(dir)
                .env("HOOKRELAY_ROLE", "worker")
                .env("HOOKRELAY_LISTEN", "127.0.0.1:0")
                .env("HOOKRELAY_DATABASE_URL", &config.database_url)
                .env(
                    "HOOKRELAY_ADMIN_TOKEN",
                    config.admin_token.as_deref().unwrap_or(""),
                )
                .env("HOOKRELAY_MIGRATE", "false")
                .env("RUST_LOG", "warn,hookrelay::serve=info")
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            for (name, value) in [
                ("HOOKRELAY_DATABASE_SCHEMA", &config.database_schema),
                ("HOOKRELAY_MASTER_KEY", &config.master_key),
                ("HOOKRELAY_ALLOW_NETWORKS", &config.allow_networks),
            ] {
                if let Some(v) = value {
                    cmd.env(name, v);
                }
            }
            let mut child = cmd
                .spawn()
                .with_context(|| format!("cannot start worker {i}"))?;
            let stderr = child.stderr.take().context("worker stderr")?;
            children.push(child);
            wait_until_serving(stderr).with_context(|| format!("worker {i} did not start"))?;
        }
        Ok(Self(children))
    }

    /// Stops the workers.
    pub fn stop(mut self) {
        self.kill_all();
    }

    fn kill_all(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.0.clear();
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// Reads the worker's log until it says it is listening (its start-up is done), then
/// keeps draining it so the worker never blocks on a full pipe.
fn wait_until_serving(stderr: std::process::ChildStderr) -> anyhow::Result<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut ready = Some(tx);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let outcome = if line.contains("listening on") {
                Ok(())
            } else if line.starts_with("error:") {
                Err(line)
            } else {
                continue;
            };
            if let Some(tx) = ready.take() {
                let _ = tx.send(outcome);
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(line)) => anyhow::bail!("{line}"),
        Err(_) => anyhow::bail!("no 'listening on' line within 30 s"),
    }
}

/// Drops the benchmark's schema (best effort: a failure is only reported).
pub async fn drop_schema(url: &str, schema: Option<&str>) {
    if let Some(schema) = schema
        && let Err(e) = hookrelay_store::postgres::drop_schema(url, schema).await
    {
        eprintln!("bench: could not drop the schema {schema}: {e}");
    }
}
