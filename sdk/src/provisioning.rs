//! The provisioning part of a builder's step list: one step that tells the
//! engine the machine is ready (its generated data), then one step per
//! provisioner, each timed and named in the progress as the builder's own
//! steps are. Every builder with a step list uses these, so provisioning
//! reads and behaves the same whatever made the machine.

use crate::plugin::{BuildInfo, GeneratedData, ProvisionHook, ProvisionerStep};
use crate::steps::{Step, StepId};
use crate::Communicator;
use async_trait::async_trait;
use std::sync::Arc;

/// What the provisioners see of the builder's machine, from its state:
/// `build.*` (host, port, user, key …) and the communicator, if connected.
/// The same for every provisioner, since it depends only on the
/// configuration and the running machine.
pub type MachineView<S> = Arc<dyn Fn(&S, &BuildInfo) -> (GeneratedData, Option<Arc<dyn Communicator>>) + Send + Sync>;

/// The steps that provision the machine: [`MachineReady`] (id
/// `BUILDER.machine_ready`), then each of the hook's provisioners.
pub fn provision_steps<'h, S: Send + 'h>(builder: &str, hook: &'h dyn ProvisionHook, view: MachineView<S>) -> Vec<Box<dyn Step<S> + 'h>> {
    let mut steps: Vec<Box<dyn Step<S> + 'h>> = vec![Box::new(MachineReady { id: StepId::new(format!("{builder}.machine_ready")), hook, view: view.clone() })];
    for provisioner in hook.provisioners() {
        steps.push(Box::new(Provision { provisioner, view: view.clone() }));
    }
    steps
}

/// Tells the engine the machine is reachable (so that it masks the build's
/// credentials and keeps the generated data for the post-processors), also
/// when there is no provisioner.
pub struct MachineReady<'h, S> {
    id: StepId,
    hook: &'h dyn ProvisionHook,
    view: MachineView<S>,
}

#[async_trait]
impl<S: Send> Step<S> for MachineReady<'_, S> {
    fn name(&self) -> String {
        "Handing the machine to the provisioners".into()
    }

    fn id(&self) -> StepId {
        self.id.clone()
    }

    async fn run(&self, s: &mut S, b: &BuildInfo) -> anyhow::Result<()> {
        self.hook.machine_ready(&(self.view)(s, b).0);
        Ok(())
    }
}

/// One provisioner, run over the builder's communicator.
pub struct Provision<'h, S> {
    provisioner: Box<dyn ProvisionerStep + 'h>,
    view: MachineView<S>,
}

#[async_trait]
impl<S: Send> Step<S> for Provision<'_, S> {
    fn name(&self) -> String {
        self.provisioner.name()
    }

    fn id(&self) -> StepId {
        self.provisioner.id()
    }

    async fn run(&self, s: &mut S, b: &BuildInfo) -> anyhow::Result<()> {
        let (generated, comm) = (self.view)(s, b);
        self.provisioner.run(comm.as_deref(), &generated).await
    }
}
