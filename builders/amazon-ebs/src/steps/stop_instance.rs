//! Stops the instance so its volumes are consistent for the snapshot
//! (unless `disable_stop_instance`, when a provisioner stops it itself),
//! then sets `ena_support` / `sriov_support` on it, which the AMI inherits.

use super::State;
use crate::config::Prepared;
use aws_sdk_ec2::types::InstanceStateName;
use bake_aws::sdk_error;
use bake_aws::wait::{self, Seen};
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;
use std::time::Duration;

pub struct StopInstance {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for StopInstance {
    fn name(&self) -> String {
        "Stopping the instance".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.stop_instance")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        if let Some(comm) = s.comm.take() {
            comm.close().await;
        }
        let ec2 = s.aws()?.ec2();
        let id = s.instance.as_ref().map(|i| i.id.clone()).unwrap_or_default();
        if self.p.config.disable_stop_instance {
            b.ui.message(format!("disable_stop_instance: waiting for {id} to stop by itself"));
        } else {
            ec2.stop_instances().instance_ids(&id).send().await.map_err(|e| anyhow::anyhow!("could not stop {id}: {}", sdk_error(&e)))?;
        }
        wait::until(&b.ui, &format!("instance {id} to stop"), &self.p.polling, Duration::from_secs(900), || {
            let (ec2, id) = (ec2.clone(), id.clone());
            async move {
                let out = ec2.describe_instances().instance_ids(&id).send().await.map_err(|e| anyhow::anyhow!(sdk_error(&e)))?;
                let state = out.reservations().iter().flat_map(|r| r.instances()).next().and_then(|i| i.state()).and_then(|st| st.name()).cloned();
                Ok(match state {
                    Some(InstanceStateName::Stopped) => Seen::Ready(()),
                    Some(InstanceStateName::Terminated) => Seen::Failed("it was terminated (shutdown_behavior = \"terminate\"?)".into()),
                    other => Seen::Pending { state: other.map_or("unknown".into(), |st| st.as_str().to_string()), progress: None },
                })
            }
        })
        .await?;
        if let Some(ena) = self.p.config.ena_support {
            let value = aws_sdk_ec2::types::AttributeBooleanValue::builder().value(ena).build();
            ec2.modify_instance_attribute()
                .instance_id(&id)
                .ena_support(value)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("could not set ena_support on {id}: {}", sdk_error(&e)))?;
        }
        if self.p.config.sriov_support == Some(true) {
            let value = aws_sdk_ec2::types::AttributeValue::builder().value("simple").build();
            ec2.modify_instance_attribute()
                .instance_id(&id)
                .sriov_net_support(value)
                .send()
                .await
                .map_err(|e| anyhow::anyhow!("could not set sriov_support on {id}: {}", sdk_error(&e)))?;
        }
        Ok(())
    }
}
