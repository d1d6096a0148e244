//! A small client for QEMU's machine protocol (QMP) over its Unix socket:
//! typing keys (`send-key`), ACPI power-down, quitting, and why the machine
//! stopped (the `SHUTDOWN` event's reason).

use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

pub struct Qmp {
    reader: BufReader<tokio::net::unix::OwnedReadHalf>,
    writer: tokio::net::unix::OwnedWriteHalf,
    /// The reason of the last `SHUTDOWN` event seen (`guest-reset`,
    /// `guest-shutdown`, …), whoever was reading when it came.
    shutdown_reason: Option<String>,
}

impl Qmp {
    /// Connects (retrying while qemu creates the socket) and negotiates
    /// capabilities.
    pub async fn connect(path: &Path, timeout: Duration) -> anyhow::Result<Qmp> {
        let deadline = tokio::time::Instant::now() + timeout;
        let stream = loop {
            match UnixStream::connect(path).await {
                Ok(s) => break s,
                Err(e) if tokio::time::Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => anyhow::bail!("cannot connect to qemu's QMP socket {}: {e}", path.display()),
            }
        };
        let (r, w) = stream.into_split();
        let mut qmp = Qmp { reader: BufReader::new(r), writer: w, shutdown_reason: None };
        let greeting = qmp.read_message().await?;
        if greeting.get("QMP").is_none() {
            anyhow::bail!("unexpected QMP greeting: {greeting}");
        }
        qmp.execute("qmp_capabilities", json!({})).await?;
        Ok(qmp)
    }

    /// Runs a command and returns its `return` value; events that arrive in
    /// between are skipped.
    pub async fn execute(&mut self, command: &str, arguments: Value) -> anyhow::Result<Value> {
        let msg = if arguments.as_object().is_some_and(|o| !o.is_empty()) {
            json!({ "execute": command, "arguments": arguments })
        } else {
            json!({ "execute": command })
        };
        let mut line = serde_json::to_string(&msg)?;
        line.push('\n');
        self.writer.write_all(line.as_bytes()).await?;
        loop {
            let reply = self.read_message().await?;
            if reply.get("event").is_some() {
                continue;
            }
            if let Some(err) = reply.get("error") {
                anyhow::bail!("QMP {command} failed: {}", err.get("desc").and_then(Value::as_str).unwrap_or("unknown error"));
            }
            return Ok(reply.get("return").cloned().unwrap_or(Value::Null));
        }
    }

    async fn read_message(&mut self) -> anyhow::Result<Value> {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).await?;
        if n == 0 {
            anyhow::bail!("qemu closed the QMP connection");
        }
        let message: Value = serde_json::from_str(&line)?;
        if message.get("event").and_then(Value::as_str) == Some("SHUTDOWN") {
            self.shutdown_reason = message.pointer("/data/reason").and_then(Value::as_str).map(str::to_string);
        }
        Ok(message)
    }

    /// Why qemu stopped, once it has exited: reads what it sent before
    /// closing the connection and returns the last `SHUTDOWN` reason.
    pub async fn shutdown_reason(&mut self, timeout: Duration) -> Option<String> {
        let _ = tokio::time::timeout(timeout, async { while self.read_message().await.is_ok() {} }).await;
        self.shutdown_reason.clone()
    }

    /// Presses and releases keys together (a chord), by QKeyCode names.
    pub async fn send_keys(&mut self, qcodes: &[&str], hold: Duration) -> anyhow::Result<()> {
        let keys: Vec<Value> = qcodes.iter().map(|k| json!({ "type": "qcode", "data": k })).collect();
        self.execute("send-key", json!({ "keys": keys, "hold-time": hold.as_millis() as u64 })).await.map(|_| ())
    }

    /// Presses (`down = true`) or releases one key, for `<leftCtrlOn>` and friends.
    pub async fn key_event(&mut self, qcode: &str, down: bool) -> anyhow::Result<()> {
        let event = json!({ "type": "key", "data": { "down": down, "key": { "type": "qcode", "data": qcode } } });
        self.execute("input-send-event", json!({ "events": [event] })).await.map(|_| ())
    }

    /// Asks the guest to power off (ACPI power button).
    pub async fn system_powerdown(&mut self) -> anyhow::Result<()> {
        self.execute("system_powerdown", json!({})).await.map(|_| ())
    }

    /// Stops qemu at once.
    pub async fn quit(&mut self) -> anyhow::Result<()> {
        self.execute("quit", json!({})).await.map(|_| ())
    }
}
