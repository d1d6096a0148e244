//! Starts the build instance from the source AMI, with the network, key
//! pair, user data, role, volumes and metadata options of the template
//! (a spot instance with `spot_price`), tagged with `run_tags` and the
//! run's id; then waits until it runs. A spot list (`spot_instance_types`)
//! is tried in order until EC2 has capacity for one.

use super::{Instance, State};
use crate::config::{BlockDevice, Prepared};
use aws_sdk_ec2::types::{
    BlockDeviceMapping, CreditSpecificationRequest, EbsBlockDevice, HttpTokensState, IamInstanceProfileSpecification, InstanceMarketOptionsRequest,
    InstanceMetadataEndpointState, InstanceMetadataOptionsRequest, InstanceMetadataTagsState, InstanceNetworkInterfaceSpecification, InstanceStateName,
    InstanceType, MarketType, Placement, ResourceType, ShutdownBehavior, SpotMarketOptions, VolumeType,
};
use bake_aws::resources::{self, INSTANCE};
use bake_aws::wait::{self, Seen};
use bake_aws::{sdk_error, tags};
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use base64::Engine;
use std::sync::Arc;
use std::time::Duration;

pub struct RunInstance {
    pub p: Arc<Prepared>,
}

/// A template's block device as EC2 takes it (launch and AMI mappings alike).
pub fn block_device(d: &BlockDevice) -> BlockDeviceMapping {
    let mut m = BlockDeviceMapping::builder().device_name(&d.device_name);
    if d.no_device {
        return m.no_device("").build();
    }
    if let Some(v) = &d.virtual_name {
        return m.virtual_name(v).build();
    }
    let ebs = EbsBlockDevice::builder()
        .set_volume_size(d.volume_size)
        .set_volume_type(d.volume_type.as_deref().map(VolumeType::from))
        .set_iops(d.iops)
        .set_throughput(d.throughput)
        .delete_on_termination(d.delete_on_termination)
        .set_encrypted(d.encrypted)
        .set_kms_key_id(d.kms_key_id.clone())
        .set_snapshot_id(d.snapshot_id.clone())
        .build();
    m = m.ebs(ebs);
    m.build()
}

#[async_trait]
impl Step<State> for RunInstance {
    fn name(&self) -> String {
        if self.p.config.spot_price.is_some() {
            "Launching a spot instance".into()
        } else {
            "Launching the instance".into()
        }
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.run_instance")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let aws = s.aws()?.clone();
        let ec2 = aws.ec2();
        let source = s.source.clone().unwrap_or_default();
        let placeholders = s.placeholders();
        let mut run_tags = tags::render(&c.run_tags, &placeholders)?;
        run_tags.entry("Name".into()).or_insert_with(|| "Packer Builder".into());
        let run_tags = tags::with(tags::temporary(&b.run_uuid), &run_tags);
        let volume_tags = tags::with(tags::temporary(&b.run_uuid), &tags::render(&c.run_volume_tags, &placeholders)?);
        let user_data = match (&c.user_data, &self.p.user_data_file) {
            (Some(text), _) => Some(text.clone().into_bytes()),
            (None, Some(file)) => Some(std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read user_data_file {}: {e}", file.display()))?),
            (None, None) => None,
        };

        let entry = resources::record(b, INSTANCE, &aws.region, &format!("run:{}", b.run_uuid))?;
        s.instance = Some(Instance { entry, ..Instance::default() });
        let mut last_error = String::new();
        let mut started = None;
        for instance_type in self.p.instance_types() {
            let mut request = ec2
                .run_instances()
                .image_id(&source.id)
                .instance_type(InstanceType::from(instance_type.as_str()))
                .min_count(1)
                .max_count(1)
                .set_key_name(s.key_name.clone())
                .set_user_data(user_data.as_ref().map(|d| base64::engine::general_purpose::STANDARD.encode(d)))
                .set_block_device_mappings(Some(c.launch_block_device_mappings.iter().map(block_device).collect()).filter(|v: &Vec<_>| !v.is_empty()))
                .tag_specifications(tags::specification(ResourceType::Instance, &run_tags))
                .tag_specifications(tags::specification(ResourceType::Volume, &volume_tags))
                .ebs_optimized(c.ebs_optimized)
                .set_instance_initiated_shutdown_behavior(c.shutdown_behavior.as_deref().map(ShutdownBehavior::from));
            request = match c.associate_public_ip_address {
                // The public address is a property of the network interface,
                // which then carries the subnet and groups too.
                Some(public) => request.network_interfaces(
                    InstanceNetworkInterfaceSpecification::builder()
                        .device_index(0)
                        .associate_public_ip_address(public)
                        .delete_on_termination(true)
                        .set_subnet_id(s.subnet_id.clone())
                        .set_groups(Some(s.security_group_ids.clone()))
                        .build(),
                ),
                None => request.set_subnet_id(s.subnet_id.clone()).set_security_group_ids(Some(s.security_group_ids.clone()).filter(|g| !g.is_empty())),
            };
            if let Some(profile) = &c.iam_instance_profile {
                let spec = IamInstanceProfileSpecification::builder();
                request = request.iam_instance_profile(if profile.starts_with("arn:") { spec.arn(profile) } else { spec.name(profile) }.build());
            }
            if let Some(zone) = &c.availability_zone {
                request = request.placement(Placement::builder().availability_zone(zone).build());
            }
            if let Some(m) = c.metadata_options.first() {
                request = request.metadata_options(
                    InstanceMetadataOptionsRequest::builder()
                        .set_http_endpoint(m.http_endpoint.as_deref().map(InstanceMetadataEndpointState::from))
                        .set_http_tokens(m.http_tokens.as_deref().map(HttpTokensState::from))
                        .set_http_put_response_hop_limit(m.http_put_response_hop_limit)
                        .set_instance_metadata_tags(m.instance_metadata_tags.as_deref().map(InstanceMetadataTagsState::from))
                        .build(),
                );
            }
            if c.enable_unlimited_credits {
                request = request.credit_specification(CreditSpecificationRequest::builder().cpu_credits("unlimited").build());
            }
            if let Some(price) = &c.spot_price {
                let mut spot = SpotMarketOptions::builder();
                if price != "auto" {
                    spot = spot.max_price(price);
                }
                request =
                    request.instance_market_options(InstanceMarketOptionsRequest::builder().market_type(MarketType::Spot).spot_options(spot.build()).build());
            }
            match request.send().await {
                Ok(out) => {
                    started = out.instances().first().cloned();
                    break;
                }
                Err(e) => {
                    last_error = format!("{instance_type}: {}", sdk_error(&e));
                    if !last_error.contains("InsufficientInstanceCapacity") && !last_error.contains("SpotMaxPriceTooLow") {
                        break;
                    }
                    b.ui.message(format!("No capacity for {last_error}; trying the next type"));
                }
            }
        }
        let Some(started) = started else { anyhow::bail!("could not launch the instance: {last_error}") };
        let id = started.instance_id().unwrap_or_default().to_string();
        resources::identify(b, entry, INSTANCE, &aws.region, &id);
        s.instance = Some(Instance { entry, id: id.clone(), ..Instance::default() });
        b.ui.message(format!("Instance {id} ({}) launched from {}", started.instance_type().map_or("", |t| t.as_str()), source.id));

        let what = format!("instance {id} to run");
        let running = wait::until(&b.ui, &what, &self.p.polling, Duration::from_secs(600), || {
            let ec2 = ec2.clone();
            let id = id.clone();
            async move {
                let out = ec2.describe_instances().instance_ids(&id).send().await.map_err(|e| anyhow::anyhow!(sdk_error(&e)))?;
                let Some(i) = out.reservations().iter().flat_map(|r| r.instances()).next().cloned() else {
                    return Ok(Seen::Pending { state: "not visible yet".into(), progress: None });
                };
                let state = i.state().and_then(|st| st.name()).cloned();
                Ok(match state {
                    Some(InstanceStateName::Running) => Seen::Ready(i),
                    Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown | InstanceStateName::Stopped) => {
                        let reason = i.state_reason().and_then(|r| r.message()).unwrap_or("no reason given");
                        Seen::Failed(format!("it is {} ({reason})", state.map_or("gone".into(), |s| s.as_str().to_string())))
                    }
                    other => Seen::Pending { state: other.map_or("unknown".into(), |s| s.as_str().to_string()), progress: None },
                })
            }
        })
        .await?;
        let text = |v: Option<&str>| v.filter(|v| !v.is_empty()).map(str::to_string);
        s.instance = Some(Instance {
            entry,
            id,
            public_ip: text(running.public_ip_address()),
            private_ip: text(running.private_ip_address()),
            public_dns: text(running.public_dns_name()),
            private_dns: text(running.private_dns_name()),
        });
        Ok(())
    }

    async fn cleanup(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let Some(instance) = s.instance.take() else { return Ok(()) };
        let Some(aws) = &s.aws else { return Ok(()) };
        let ec2 = aws.ec2();
        // Cancelled before RunInstances answered: it may still have made one.
        let ids = if instance.id.is_empty() { resources::instances_of_run(&ec2, &b.run_uuid).await? } else { vec![instance.id.clone()] };
        resources::terminate_instances(&ec2, &ids).await?;
        if !ids.is_empty() {
            b.ui.message(format!("Terminated {}", ids.join(", ")));
        }
        resources::release(b, instance.entry);
        Ok(())
    }
}
