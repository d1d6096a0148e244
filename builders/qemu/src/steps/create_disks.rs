//! Creates the VM's disks: a copy of (or an overlay on) a disk image, or an
//! empty disk beside an installer ISO, plus `disk_additional_size`.

use super::State;
use crate::config::Prepared;
use bake_qemu_machine::qemu_img;
use bake_sdk::steps::Step;
use bake_sdk::{async_trait, BuildInfo};
use std::sync::Arc;

pub struct CreateDisks {
    pub p: Arc<Prepared>,
}

#[async_trait]
impl Step<State> for CreateDisks {
    fn name(&self) -> String {
        "Creating the disks".into()
    }

    fn id(&self) -> bake_sdk::steps::StepId {
        bake_sdk::steps::StepId::new("qemu.create_disks")
    }

    async fn run(&self, s: &mut State, b: &BuildInfo) -> anyhow::Result<()> {
        let c = &self.p.config;
        let main = s.partial_dir.join(&s.vm_name);
        let source = s.source_image.clone().expect("fetched before");
        if c.disk_image {
            let (src_format, src_size) = qemu_img::info(&source).await?;
            if c.use_backing_file {
                b.ui.message(format!("Creating an overlay on {}", source.display()));
                let size = if self.p.disk_size_bytes > src_size { self.p.disk_size.clone() } else { src_size.to_string() };
                qemu_img::create(&main, "qcow2", &size, Some((&source, &src_format))).await?;
            } else {
                b.ui.message(format!("Copying {} ({src_format}) to a new {} disk", source.display(), c.format));
                qemu_img::convert(&source, &main, &c.format, false).await?;
                if !c.skip_resize_disk {
                    if self.p.disk_size_bytes > src_size {
                        qemu_img::resize(&main, &c.format, &self.p.disk_size).await?;
                    } else if self.p.disk_size_bytes < src_size {
                        b.ui.message(format!("disk_size {} is smaller than the image ({} bytes); keeping the image's size", self.p.disk_size, src_size));
                    }
                }
            }
        } else {
            qemu_img::create(&main, &c.format, &self.p.disk_size, None).await?;
            s.cdroms.push(source);
        }
        s.disks.push(main);
        for (i, size) in c.disk_additional_size.iter().enumerate() {
            let extra = s.partial_dir.join(format!("{}-{}", s.vm_name, i + 1));
            qemu_img::create(&extra, &c.format, size, None).await?;
            s.disks.push(extra);
        }
        Ok(())
    }
}
