//! A temporary security group that lets SSH in, unless the template names
//! its groups. Packer opens it to 0.0.0.0/0 by default, and so does bake
//! (templates must keep working), but it says so, naming the options that
//! narrow it.

use super::State;
use crate::config::Prepared;
use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType};
use bake_aws::resources::{self, SECURITY_GROUP};
use bake_aws::{sdk_error, tags};
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct SecurityGroup {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for SecurityGroup {
    fn name(&self) -> String {
        "Creating a temporary security group".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.security_group")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let aws = s.aws()?.clone();
        let ec2 = aws.ec2();
        let port = i32::from(self.p.comm.ssh.port);
        let cidrs =
            if self.p.config.temporary_security_group_source_public_ip { vec![format!("{}/32", public_ip().await?)] } else { self.p.source_cidrs.clone() };
        if cidrs.iter().any(|c| c == "0.0.0.0/0") {
            b.ui.say(format!(
                "Warning: the temporary security group lets SSH (port {port}) in from anywhere (0.0.0.0/0); \
                 narrow it with temporary_security_group_source_cidrs = [\"YOUR.NET.WORK.0/24\"] or temporary_security_group_source_public_ip = true"
            ));
        }
        let name = format!("bake_{}_{}", b.source_name, b.run_uuid);
        let entry = resources::record(b, SECURITY_GROUP, &aws.region, &format!("name:{name}"))?;
        s.temporary_group = Some((entry, String::new()));
        let created = ec2
            .create_security_group()
            .group_name(&name)
            .description(format!("Temporary group of bake run {}", b.run_uuid))
            .set_vpc_id(s.vpc_id.clone())
            .tag_specifications(tags::specification(ResourceType::SecurityGroup, &tags::temporary(&b.run_uuid)))
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("could not create the security group {name}: {}", sdk_error(&e)))?;
        let id = created.group_id().unwrap_or_default().to_string();
        resources::identify(b, entry, SECURITY_GROUP, &aws.region, &id);
        s.temporary_group = Some((entry, id.clone()));
        let ranges = cidrs.iter().map(|c| IpRange::builder().cidr_ip(c).description("SSH for bake").build());
        let permission = IpPermission::builder().ip_protocol("tcp").from_port(port).to_port(port).set_ip_ranges(Some(ranges.collect())).build();
        ec2.authorize_security_group_ingress()
            .group_id(&id)
            .ip_permissions(permission)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("could not open port {port} in the security group {id}: {}", sdk_error(&e)))?;
        b.ui.message(format!("Created the security group {id} ({name}): tcp/{port} from {}", cidrs.join(", ")));
        s.security_group_ids = vec![id];
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let Some((entry, id)) = s.temporary_group.take() else { return Ok(()) };
        let Some(aws) = &s.aws else { return Ok(()) };
        let ec2 = aws.ec2();
        let id = match id.as_str() {
            "" => resources::security_group_by_name(&ec2, &format!("bake_{}_{}", b.source_name, b.run_uuid)).await?.unwrap_or_default(),
            _ => id,
        };
        if !id.is_empty() {
            resources::delete_security_group(&ec2, &id).await?;
            b.ui.message(format!("Deleted the security group {id}"));
        }
        resources::release(b, entry);
        Ok(())
    }
}

/// This machine's address as AWS sees it (`temporary_security_group_source_public_ip`),
/// from AWS's own checkip service.
async fn public_ip() -> anyhow::Result<std::net::Ipv4Addr> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect("checkip.amazonaws.com:80").await?;
        stream.write_all(b"GET / HTTP/1.0\r\nHost: checkip.amazonaws.com\r\n\r\n").await?;
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await?;
        Ok::<_, std::io::Error>(reply)
    };
    let reply = tokio::time::timeout(std::time::Duration::from_secs(10), ask)
        .await
        .map_err(|_| anyhow::anyhow!("checkip.amazonaws.com did not answer within 10s"))?
        .map_err(|e| anyhow::anyhow!("could not ask checkip.amazonaws.com for this machine's public address: {e}"))?;
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or_default().trim();
    body.parse().map_err(|_| {
        anyhow::anyhow!("checkip.amazonaws.com answered \"{body}\", not an address; set temporary_security_group_source_cidrs instead of temporary_security_group_source_public_ip")
    })
}
