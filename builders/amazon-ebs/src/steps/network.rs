//! Where the instance runs: `vpc_id` / `vpc_filter`, `subnet_id` /
//! `subnet_filter` (the subnet with the most free addresses with
//! `most_free`), the security groups by id or `security_group_filter`.
//! Without any, the account's default VPC and subnet, as EC2 chooses.

use super::State;
use crate::config::{NetworkFilter, Prepared};
use aws_sdk_ec2::types::Filter;
use bake_aws::sdk_error;
use bake_sdk::steps::{Step, StepId};
use bake_sdk::{async_trait, BuildInfo};
use std::collections::BTreeMap;
use std::sync::Arc;

pub struct Network {
    pub p: Arc<Prepared>,
}

fn filters(map: &BTreeMap<String, String>) -> Vec<Filter> {
    map.iter().map(|(k, v)| Filter::builder().name(k).values(v).build()).collect()
}

fn describe(map: &BTreeMap<String, String>) -> String {
    map.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
}

#[async_trait]
impl Step<State> for Network {
    fn name(&self) -> String {
        "Choosing the network".into()
    }

    fn id(&self) -> StepId {
        StepId::new("amazon-ebs.network")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let ec2 = s.aws()?.ec2();
        let mut vpc_id = c.vpc_id.clone();
        if let (None, Some(NetworkFilter { filters: f })) = (&vpc_id, c.vpc_filter.first()) {
            let out =
                ec2.describe_vpcs().set_filters(Some(filters(f))).send().await.map_err(|e| anyhow::anyhow!("could not list the VPCs: {}", sdk_error(&e)))?;
            let ids: Vec<&str> = out.vpcs().iter().filter_map(|v| v.vpc_id()).collect();
            match ids.as_slice() {
                [one] => vpc_id = Some(one.to_string()),
                [] => anyhow::bail!("no VPC matches vpc_filter {}", describe(f)),
                many => anyhow::bail!("{} VPCs match vpc_filter {} ({}); narrow the filter to one", many.len(), describe(f), many.join(", ")),
            }
        }
        let mut subnet_id = c.subnet_id.clone();
        if let (None, Some(sf)) = (&subnet_id, c.subnet_filter.first()) {
            let mut request = ec2.describe_subnets().set_filters(Some(filters(&sf.filters)));
            if let Some(vpc) = &vpc_id {
                request = request.filters(Filter::builder().name("vpc-id").values(vpc).build());
            }
            let out = request.send().await.map_err(|e| anyhow::anyhow!("could not list the subnets: {}", sdk_error(&e)))?;
            let mut subnets = out.subnets().to_vec();
            if subnets.is_empty() {
                anyhow::bail!("no subnet matches subnet_filter {}", describe(&sf.filters));
            }
            if subnets.len() > 1 && !sf.most_free && !sf.random {
                anyhow::bail!("{} subnets match subnet_filter {}; narrow it, or set most_free = true or random = true", subnets.len(), describe(&sf.filters));
            }
            // `random` takes any of them: the first of EC2's order will do.
            subnets.sort_by_key(|s| std::cmp::Reverse(s.available_ip_address_count().unwrap_or(0)));
            let subnet = &subnets[0];
            subnet_id = subnet.subnet_id().map(str::to_string);
            vpc_id = vpc_id.or_else(|| subnet.vpc_id().map(str::to_string));
        }
        if let (Some(subnet), None) = (&subnet_id, &vpc_id) {
            let out =
                ec2.describe_subnets().subnet_ids(subnet).send().await.map_err(|e| anyhow::anyhow!("could not find the subnet {subnet}: {}", sdk_error(&e)))?;
            vpc_id = out.subnets().first().and_then(|s| s.vpc_id()).map(str::to_string);
        }
        let mut groups: Vec<String> = c.security_group_ids.iter().chain(&c.security_group_id).cloned().collect();
        if let Some(NetworkFilter { filters: f }) = c.security_group_filter.first() {
            let mut request = ec2.describe_security_groups().set_filters(Some(filters(f)));
            if let Some(vpc) = &vpc_id {
                request = request.filters(Filter::builder().name("vpc-id").values(vpc).build());
            }
            let out = request.send().await.map_err(|e| anyhow::anyhow!("could not list the security groups: {}", sdk_error(&e)))?;
            let found: Vec<String> = out.security_groups().iter().filter_map(|g| g.group_id()).map(str::to_string).collect();
            if found.is_empty() {
                anyhow::bail!("no security group matches security_group_filter {}", describe(f));
            }
            groups.extend(found);
        }
        b.ui.message(format!(
            "VPC: {}, subnet: {}, security groups: {}",
            vpc_id.as_deref().unwrap_or("the default"),
            subnet_id.as_deref().unwrap_or("EC2's choice"),
            if groups.is_empty() { "a temporary one".to_string() } else { groups.join(", ") }
        ));
        (s.vpc_id, s.subnet_id, s.security_group_ids) = (vpc_id, subnet_id, groups);
        Ok(())
    }
}
