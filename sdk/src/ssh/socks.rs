//! `ssh_proxy_host`: reaching the machine through a SOCKS5 proxy (RFC 1928,
//! no authentication), as `ssh -o ProxyCommand='nc -X 5 …'` would.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Asks the proxy on `stream` to connect to `host:port`. `Err` is what went
/// wrong, for a message, and whether the target refused (a machine still
/// booting behind the proxy) rather than the proxy misbehaving.
pub(crate) async fn connect(stream: &mut TcpStream, host: &str, port: u16) -> Result<(), (String, bool)> {
    let io = |e: std::io::Error| (format!("the proxy connection failed: {e}"), false);
    // Greeting: version 5, one method, "no authentication".
    stream.write_all(&[5, 1, 0]).await.map_err(io)?;
    let mut choice = [0u8; 2];
    stream.read_exact(&mut choice).await.map_err(io)?;
    match choice {
        [5, 0] => {}
        [5, 0xff] => return Err(("the SOCKS proxy wants authentication, which bake does not do yet".to_string(), false)),
        other => return Err((format!("not a SOCKS5 proxy (it answered {other:?})"), false)),
    }
    let mut request = vec![5, 1, 0];
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            request.push(1);
            request.extend_from_slice(&ip.octets());
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            request.push(4);
            request.extend_from_slice(&ip.octets());
        }
        Err(_) => {
            let name = host.as_bytes();
            let len = u8::try_from(name.len()).map_err(|_| (format!("the host name {host:?} is too long for SOCKS"), false))?;
            request.push(3);
            request.push(len);
            request.extend_from_slice(name);
        }
    }
    request.extend_from_slice(&port.to_be_bytes());
    stream.write_all(&request).await.map_err(io)?;
    let mut reply = [0u8; 4];
    stream.read_exact(&mut reply).await.map_err(io)?;
    if reply[1] != 0 {
        return Err((format!("the SOCKS proxy could not connect to {host}:{port}: {}", reply_text(reply[1])), reply[1] == 5));
    }
    // The bound address that follows is of no use here, but must be read.
    let address_len = match reply[3] {
        1 => 4,
        4 => 16,
        3 => usize::from(stream.read_u8().await.map_err(io)?),
        other => return Err((format!("the SOCKS proxy answered an unknown address type {other}"), false)),
    };
    let mut rest = vec![0u8; address_len + 2];
    stream.read_exact(&mut rest).await.map_err(io)?;
    Ok(())
}

/// RFC 1928's reply codes.
fn reply_text(code: u8) -> &'static str {
    match code {
        1 => "general failure",
        2 => "not allowed by the proxy's rules",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown error",
    }
}
