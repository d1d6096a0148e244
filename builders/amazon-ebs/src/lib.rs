//! The `amazon-ebs` builder: an EBS-backed AMI made from a temporary EC2
//! instance, as Packer's amazon plugin makes it (its options and their
//! meaning, see `config.rs`), with what its users ask for: waiters that
//! show progress and size their deadline to the volume, nothing left
//! behind after a failure, Ctrl-C or `kill -9` (every resource journaled
//! and tagged with the run's id before it exists), and an SSM parameter
//! that names the newest AMI.
//!
//! The steps, in order (one file each under `steps/`): connect → check the
//! name → source AMI → network → key pair → security group → run the
//! instance → SSH → provision → stop → create the AMI → wait → copy to
//! regions → tags and sharing → keep. Cleanups run in reverse.

mod config;
mod steps;

use bake_sdk::communicator::config::Kind;
use bake_sdk::lang::diag::Diagnostics;
use bake_sdk::lang::eval::EvalBody;
use bake_sdk::provisioning::{provision_steps, MachineView};
use bake_sdk::ssh::PrivateKeySource;
use bake_sdk::steps::{run_steps, Step};
use bake_sdk::{async_trait, Artifact, BuildInfo, Builder, Communicator, GeneratedData, ProvisionHook};
use config::Prepared;
use std::sync::Arc;
use steps::*;

/// The `builder_type` of its artifacts.
pub const TYPE: &str = "amazon-ebs";

pub struct AmazonEbs {
    p: Arc<Prepared>,
}

pub fn prepare(body: &EvalBody, what: &str) -> Result<Box<dyn Builder>, Diagnostics> {
    Ok(Box::new(AmazonEbs { p: Arc::new(config::prepare(body, what)?) }))
}

/// What the provisioners see as `build.*`: Packer's names.
fn generated_data(p: &Prepared, s: &State, b: &BuildInfo) -> GeneratedData {
    let ssh = &p.comm.ssh;
    let key = match connect_ssh_private_key(p, s) {
        Some(PrivateKeySource::Text(text)) => text,
        Some(PrivateKeySource::File(path)) => std::fs::read_to_string(path).unwrap_or_default(),
        None => String::new(),
    };
    let mut generated: GeneratedData = s.placeholders().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    for (k, v) in [
        ("ID", s.instance.as_ref().map(|i| i.id.clone()).unwrap_or_default()),
        ("Host", connect_ssh_host(p, s).unwrap_or_default()),
        ("Port", ssh.port.to_string()),
        ("User", ssh.username.clone()),
        ("Password", ssh.auth.password.clone().unwrap_or_default()),
        ("SSHPrivateKey", key),
        ("PackerRunUUID", b.run_uuid.clone()),
    ] {
        generated.insert(k.to_string(), v);
    }
    generated
}

#[async_trait]
impl Builder for AmazonEbs {
    async fn run(&self, build: &BuildInfo, hook: &dyn ProvisionHook) -> anyhow::Result<Option<Artifact>> {
        let p = &self.p;
        let c = &p.config;
        let ssh = p.comm.kind == Kind::Ssh;
        let mut list: Vec<Box<dyn Step<State> + '_>> = vec![Box::new(Connect { p: p.clone() })];
        if !c.skip_create_ami {
            list.push(Box::new(CheckName { p: p.clone() }));
        }
        list.push(Box::new(SourceAmi { p: p.clone() }));
        list.push(Box::new(Network { p: p.clone() }));
        if ssh && (p.comm.key_pair.existing.is_some() || p.comm.needs_generated_key()) {
            list.push(Box::new(KeyPair { p: p.clone() }));
        }
        if c.security_group_id.is_none() && c.security_group_ids.is_empty() && c.security_group_filter.is_empty() {
            list.push(Box::new(SecurityGroup { p: p.clone() }));
        }
        list.push(Box::new(RunInstance { p: p.clone() }));
        if ssh {
            list.push(Box::new(ConnectSsh { p: p.clone() }));
        }
        let view_of = p.clone();
        let view: MachineView<State> = Arc::new(move |s: &State, b: &BuildInfo| {
            let comm = s.comm.clone().map(|c| c as Arc<dyn Communicator>);
            (generated_data(&view_of, s, b), comm)
        });
        list.extend(provision_steps(TYPE, hook, view));
        if !c.skip_create_ami {
            list.push(Box::new(StopInstance { p: p.clone() }));
            list.push(Box::new(CreateImage { p: p.clone() }));
            list.push(Box::new(WaitImage { p: p.clone() }));
            list.push(Box::new(CopyRegions { p: p.clone() }));
            list.push(Box::new(TagAndShare { p: p.clone() }));
            list.push(Box::new(Finish));
        }

        let mut state = State::default();
        run_steps(&list, &mut state, build).await?;
        if c.skip_create_ami {
            build.ui.say("skip_create_ami: no AMI was made");
            return Ok(None);
        }
        Ok(Some(bake_aws::ami::artifact(TYPE, &state.image_ids())))
    }
}
