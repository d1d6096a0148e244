//! `ssh_agent_auth`: authenticating with the keys a running `ssh-agent`
//! holds. bake never sees the private keys; the agent signs.

use super::connect::{rsa_hash, AuthLog, SshHandle, Stage};
use super::SshError;
use russh::keys::agent::client::AgentClient;
use russh::keys::agent::AgentIdentity;
use std::path::Path;

/// Fails early, with what to do, when the agent cannot be used: bake would
/// otherwise retry until `ssh_timeout` with credentials that cannot work.
pub(crate) fn check(socket: &Path) -> Result<(), SshError> {
    let agent = socket.display();
    match std::os::unix::net::UnixStream::connect(socket) {
        Ok(_) => Ok(()),
        Err(e) => {
            Err(SshError::Config(format!("ssh_agent_auth: no SSH agent answers at {agent} ({e}); start one (eval $(ssh-agent)) and add the key with ssh-add")))
        }
    }
}

/// Offers each of the agent's keys in turn; true once one is accepted.
pub(crate) async fn authenticate(session: &mut SshHandle, user: &str, socket: &Path, log: &mut AuthLog) -> Result<bool, Stage> {
    let agent_error = |what: &str, e: &dyn std::fmt::Display| Stage::AuthLost(format!("the SSH agent at {} {what}: {e}", socket.display()));
    let mut agent = AgentClient::connect_uds(socket).await.map_err(|e| agent_error("cannot be reached", &e))?;
    let identities = agent.request_identities().await.map_err(|e| agent_error("did not list its keys", &e))?;
    if identities.is_empty() {
        // Nothing to offer is not a refusal by the server: say so at the end.
        log.tried.push("publickey (the agent holds no keys: ssh-add one)".to_string());
        return Ok(false);
    }
    for identity in identities {
        let AgentIdentity::PublicKey { key, .. } = identity else { continue };
        if !log.offers("publickey") {
            break;
        }
        let hash = rsa_hash(session, key.algorithm()).await?;
        let result = session.authenticate_publickey_with(user, key, hash, &mut agent).await;
        let result = result.map_err(|e| agent_error("could not sign", &e))?;
        if log.note("publickey", result) {
            return Ok(true);
        }
    }
    Ok(false)
}
